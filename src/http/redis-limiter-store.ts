/**
 * Shared request limits kept in Redis: one Lua script settles what a gateway holds of a key's
 * tokens and in-flight slots (`LeaseRequest`, the same rules as `dpgate.lease_requests` of
 * migration 0009), atomically (Redis runs a script alone), on Redis's clock. A key's bucket is a
 * hash, its holders another (one field per gateway: tokens, slots and when the holding expires).
 * Both keys expire on their own, so a key that stops asking leaves nothing behind.
 *
 * Fails fast rather than waits: a command waits for a connection only until the attempt under way
 * fails (no retries), so while Redis is unreachable a request is refused with 503 at once; the
 * command timeout and the caller's bound a Redis that accepts and stalls. The client reconnects in
 * the background.
 */
import { Redis } from 'ioredis';
import type { LeaseGrant, LimiterStore } from './shared-request-limiter.ts';

const LEASE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local holder, unused, give, take = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local want_slots, slots_needed = tonumber(ARGV[5]), tonumber(ARGV[6])
local per_minute, burst = tonumber(ARGV[7]), tonumber(ARGV[8])
local max_in_flight, lease_ms = tonumber(ARGV[9]), tonumber(ARGV[10])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at', 'contended')
local tokens = tonumber(bucket[1]) or burst
local at = tonumber(bucket[2]) or now
local contended = tonumber(bucket[3]) or 0
local held_tokens, held_slots, others_tokens, others_slots = 0, 0, 0, 0
local holds = redis.call('HGETALL', KEYS[2])
for i = 1, #holds, 2 do
  local h_tokens, h_slots, h_expires = string.match(holds[i + 1], '(%d+) (%d+) (%d+)')
  if tonumber(h_expires) <= now then
    redis.call('HDEL', KEYS[2], holds[i])
  elseif holds[i] == holder then
    held_tokens, held_slots = tonumber(h_tokens), tonumber(h_slots)
  else
    others_tokens = others_tokens + tonumber(h_tokens)
    others_slots = others_slots + tonumber(h_slots)
  end
end
-- A holder whose holding expired reports tokens it no longer has: they are gone.
local kept = math.min(unused, held_tokens)
local given = math.min(give, held_tokens - kept)
tokens = math.min(burst - others_tokens - kept, tokens + given + math.max(0, now - at) * per_minute / 60000)
local slots = want_slots
if want_slots > held_slots then slots = math.max(held_slots, math.min(want_slots, max_in_flight - others_slots)) end
-- Checked before the bucket, so a request turned away for concurrency spends no token.
local taken = 0
if slots >= slots_needed then taken = math.min(take, math.max(0, math.floor(tokens))) end
tokens = tokens - taken
if slots < slots_needed or (take > 0 and kept + taken == 0) then contended = now + 1000 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', math.max(at, now), 'contended', contended)
-- Long enough for the bucket to refill completely and every holding to expire; a fresh bucket is
-- then the same.
redis.call('PEXPIRE', KEYS[1], math.max(math.ceil(burst * 60000 / per_minute), lease_ms) + 1000)
if kept + taken == 0 and slots == 0 then
  redis.call('HDEL', KEYS[2], holder)
else
  redis.call('HSET', KEYS[2], holder, (kept + taken) .. ' ' .. slots .. ' ' .. (now + lease_ms))
  redis.call('PEXPIRE', KEYS[2], lease_ms)
end
local retry = 0
if kept + taken == 0 and tokens < 1 then retry = math.ceil((1 - tokens) * 60000 / per_minute) end
return {kept + taken, slots, retry, contended > now and 1 or 0}`;

type LeaseReply = [number, number, number, number];
type Client = Redis & { dpgateLease(...args: (string | number)[]): Promise<LeaseReply> };

export function redisLimiterStore(url: string, timeoutMs: number): LimiterStore {
  const client = new Redis(url, {
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
  }) as Client;
  // Connection errors surface as failed commands (503 to the request); unhandled, they would crash.
  client.on('error', () => {});
  client.defineCommand('dpgateLease', { numberOfKeys: 2, lua: LEASE });
  return {
    async lease(request, { perMinute, burst, maxInFlight }, leaseMs): Promise<LeaseGrant> {
      const [tokens, slots, retryAfterMs, contended] = await client.dpgateLease(
        `dpgate:limits:${request.key}:bucket`,
        `dpgate:limits:${request.key}:holds`,
        request.holder,
        request.unused,
        request.give,
        request.take,
        request.slots,
        request.slotsNeeded,
        perMinute,
        burst,
        maxInFlight,
        leaseMs,
      );
      return { tokens, slots, retryAfterMs, contended: contended === 1 };
    },
    async close() {
      client.disconnect();
    },
  };
}
