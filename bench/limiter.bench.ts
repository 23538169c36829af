/**
 * What a shared request limiter costs per request, PostgreSQL against Redis, interleaved call by
 * call: admit (token bucket + in-flight lease, atomic) and give the lease back.
 * - PostgreSQL: `dpgate.admit_request` and `dpgate.release_requests` (migration 0006) through `pg`.
 * - Redis: the same bucket and leases as one Lua script (EVALSHA) and a ZREM, over a bare RESP
 *   connection (this script's own few lines, so no client library is needed to measure it).
 * One client, one connection to each. Needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL,
 * default redis://127.0.0.1:6379). Run: `npx tsx bench/limiter.bench.ts`.
 */
import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import pg from 'pg';
import { openTestDatabase } from '../test/support/databases.ts';

process.env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2000);
const redisUrl = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

const BUCKET_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_minute, burst, max_in_flight, lease_ms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_minute / 60000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= max_in_flight then return {0, 'in_flight'} end
if tokens < 1 then return {0, 'rate'} end
redis.call('HSET', KEYS[1], 'tokens', tokens - 1, 'at', now)
redis.call('ZADD', KEYS[2], now + lease_ms, ARGV[5])
redis.call('PEXPIRE', KEYS[1], 120000)
redis.call('PEXPIRE', KEYS[2], lease_ms)
return {1, 'ok'}`;

/** A RESP connection that sends one command at a time per caller and reads its reply. */
class Resp {
  #buffer = '';
  #waiting: ((reply: string) => void)[] = [];
  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.#buffer += chunk;
      for (;;) {
        const end = replyEnd(this.#buffer);
        if (end < 0) break;
        const reply = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end);
        this.#waiting.shift()!(reply);
      }
    });
  }
  send(...args: string[]): Promise<string> {
    const frame = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.socket.write(frame);
    });
  }
}

/** Where the first complete reply in `text` ends, or -1; enough of RESP for these replies. */
function replyEnd(text: string, from = 0): number {
  const line = text.indexOf('\r\n', from);
  if (line < 0) return -1;
  const kind = text[from];
  if (kind === '$') {
    const length = Number(text.slice(from + 1, line));
    if (length < 0) return line + 2;
    return text.length >= line + 2 + length + 2 ? line + 2 + length + 2 : -1;
  }
  if (kind === '*') {
    let at = line + 2;
    for (let i = 0; i < Number(text.slice(from + 1, line)); i++) {
      at = replyEnd(text, at);
      if (at < 0) return -1;
    }
    return at;
  }
  return line + 2;
}

const median = (ms: number[]) => [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)]!;

const database = await openTestDatabase('postgres', { demo: false });
const direct = new pg.Client({ connectionString: database.url });
await direct.connect();
const socket = connect(Number(redisUrl.port || 6379), redisUrl.hostname);
await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
const redis = new Resp(socket);
const sha = (await redis.send('SCRIPT', 'LOAD', BUCKET_SCRIPT)).slice(1).split('\r\n')[1]!;

const viaPostgres = async (key: string) => {
  const lease = randomUUID();
  await direct.query('select * from dpgate.admit_request($1, $2, 1e9, 1e9, 1000000, 120000)', [key, lease]);
  await direct.query('select dpgate.release_requests($1::uuid[])', [[lease]]);
};
const viaRedis = async (key: string) => {
  const lease = randomUUID();
  await redis.send('EVALSHA', sha, '2', `b:${key}`, `l:${key}`, '1e9', '1e9', '1000000', '120000', lease);
  await redis.send('ZREM', `l:${key}`, lease);
};

try {
  console.log(`shared limiter, admit + release, ${ROUNDS} interleaved rounds; node ${process.version}`);
  const times = { postgres: [] as number[], redis: [] as number[] };
  const key = randomUUID();
  for (let i = 0; i < ROUNDS; i++) {
    let started = performance.now();
    await viaPostgres(key);
    times.postgres.push(performance.now() - started);
    started = performance.now();
    await viaRedis(key);
    times.redis.push(performance.now() - started);
  }
  const [p, r] = [median(times.postgres), median(times.redis)];
  console.log(`one client: PostgreSQL ${p.toFixed(3)} ms, Redis ${r.toFixed(3)} ms per request (medians)`);
} finally {
  socket.end();
  await direct.end();
  await database.close();
}
