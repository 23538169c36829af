/**
 * Shared request limits kept in Redis: one Lua script per request refills and spends the key's
 * bucket and adds its lease to a sorted set scored by expiry, atomically (Redis runs a script
 * alone), on Redis's clock; a ZREM per finished request gives leases back, pipelined per batch.
 * Both keys expire on their own, so a key that stops asking leaves nothing behind.
 *
 * Fails fast rather than waits: a command waits for a connection only until the attempt under way
 * fails (no retries), so while Redis is unreachable a request is refused with 503 at once; the
 * command timeout and the caller's bound a Redis that accepts and stalls. The client reconnects in
 * the background.
 */
import { Redis } from 'ioredis';
import type { LimiterStore, StoreAdmission } from './shared-request-limiter.ts';

const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local per_minute, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local max_in_flight, lease_ms = tonumber(ARGV[3]), tonumber(ARGV[4])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_minute / 60000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
-- Checked before the bucket, so a request turned away for concurrency spends no token.
if redis.call('ZCARD', KEYS[2]) >= max_in_flight then return {0, 'in_flight', 1} end
if tokens < 1 then return {0, 'rate', math.max(1, math.ceil((1 - tokens) * 60 / per_minute))} end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
-- Long enough for the bucket to refill completely; after that a fresh bucket is the same.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 60000 / per_minute) + 1000)
redis.call('ZADD', KEYS[2], now + lease_ms, ARGV[5])
redis.call('PEXPIRE', KEYS[2], lease_ms)
return {1, 'ok', 0}`;

type AdmitReply = [number, string, number];
type Client = Redis & { dpgateAdmit(...args: (string | number)[]): Promise<AdmitReply> };

export function redisLimiterStore(url: string, timeoutMs: number): LimiterStore {
  const client = new Redis(url, {
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
  }) as Client;
  // Connection errors surface as failed commands (503 to the request); unhandled, they would crash.
  client.on('error', () => {});
  client.defineCommand('dpgateAdmit', { numberOfKeys: 2, lua: ADMIT });
  const keys = (key: string) => [`dpgate:limits:${key}:bucket`, `dpgate:limits:${key}:leases`];
  const leasesOf = new Map<string, string>();
  return {
    async admit(key, lease, { perMinute, burst, maxInFlight }, leaseMs): Promise<StoreAdmission> {
      const [admitted, reason, retryAfterSeconds] = await client.dpgateAdmit(
        ...keys(key),
        perMinute,
        burst,
        maxInFlight,
        leaseMs,
        lease,
      );
      if (admitted !== 1) {
        return { admitted: false, reason: reason === 'in_flight' ? 'in_flight' : 'rate', retryAfterSeconds };
      }
      leasesOf.set(lease, keys(key)[1]!);
      return { admitted: true };
    },
    async release(leases) {
      const pipeline = client.pipeline();
      for (const lease of leases) {
        const set = leasesOf.get(lease);
        leasesOf.delete(lease);
        if (set) pipeline.zrem(set, lease);
      }
      await pipeline.exec();
    },
    async close() {
      client.disconnect();
    },
  };
}
