/**
 * Shared request limits kept in PostgreSQL: one call of `dpgate.lease_requests` (migration 0009:
 * UNLOGGED tables, the bucket row's lock makes each call atomic across gateways) settles what a
 * gateway holds of a key's tokens and in-flight slots.
 *
 * Calls are batched: the ones that arrive while one statement is under way go together in the
 * next, one statement for all of them, each settled on its own. The batch takes its bucket rows in
 * key order, so two gateways' batches cannot deadlock.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import type { RateLimits } from './request-limiter.ts';
import type { LeaseGrant, LeaseRequest, LimiterStore } from './shared-request-limiter.ts';

interface GrantRow {
  position: string;
  tokens: number;
  slots: number;
  retry_after_ms: number;
  contended: boolean;
}

interface Waiting {
  readonly request: LeaseRequest;
  readonly settle: { resolve(grant: LeaseGrant): void; reject(error: unknown): void };
}

/** Bounds one statement whatever the load. */
const MAX_BATCH = 256;

export function postgresLimiterStore(db: Kysely<Database>): LimiterStore {
  // The limits and lease length are the gateway's configuration, the same for every call.
  const waiting: Waiting[] = [];
  let calling = false;

  const leaseBatch = async (batch: readonly Waiting[], limits: RateLimits, leaseMs: number) => {
    const { perMinute, burst, maxInFlight } = limits;
    const column = (field: keyof LeaseRequest) => batch.map((w) => w.request[field]);
    const { rows } = await sql<GrantRow>`select r.position, g.tokens, g.slots, g.retry_after_ms, g.contended
      from (select * from unnest(${column('key')}::text[], ${column('holder')}::uuid[],
              ${column('unused')}::int[], ${column('give')}::int[], ${column('take')}::int[],
              ${column('slots')}::int[], ${column('slotsNeeded')}::int[])
              with ordinality as u(key, holder, unused, give, take, slots, slots_needed, position)
            order by key) as r
      cross join lateral dpgate.lease_requests(r.key, r.holder, r.unused, r.give, r.take, r.slots,
        r.slots_needed, ${perMinute}, ${burst}, ${maxInFlight}, ${leaseMs}) as g`.execute(db);
    return new Map(rows.map((row) => [Number(row.position) - 1, row]));
  };

  const drain = async (limits: RateLimits, leaseMs: number) => {
    calling = true;
    while (waiting.length > 0) {
      const batch = waiting.splice(0, MAX_BATCH);
      try {
        const rows = await leaseBatch(batch, limits, leaseMs);
        batch.forEach(({ settle }, index) => {
          const row = rows.get(index);
          if (!row) settle.reject(new Error('dpgate.lease_requests returned no row for a call'));
          else
            settle.resolve({
              tokens: row.tokens,
              slots: row.slots,
              retryAfterMs: row.retry_after_ms,
              contended: row.contended,
            });
        });
      } catch (error) {
        for (const { settle } of batch) settle.reject(error);
      }
    }
    calling = false;
  };

  return {
    lease(request, limits, leaseMs): Promise<LeaseGrant> {
      return new Promise((resolve, reject) => {
        waiting.push({ request, settle: { resolve, reject } });
        if (!calling) void drain(limits, leaseMs);
      });
    },
    // The database belongs to the gateway, which closes it.
    close: async () => {},
  };
}
