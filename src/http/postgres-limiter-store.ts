/**
 * Shared request limits kept in PostgreSQL: `dpgate.admit_request` per request and one call of
 * `dpgate.release_requests` per batch of finished ones (migration 0007: UNLOGGED tables, the
 * bucket row's lock makes each admission atomic across gateways).
 *
 * Admissions are batched like the releases: the requests that arrive while one call is under way
 * go together in the next, one statement for all of them, each still admitted or refused on its
 * own. The batch takes its bucket rows in key order, so two gateways' batches cannot deadlock.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import type { RateLimits } from './request-limiter.ts';
import type { LimiterStore, StoreAdmission } from './shared-request-limiter.ts';

interface AdmissionRow {
  position: string;
  admitted: boolean;
  reason: 'rate' | 'in_flight' | null;
  retry_after_seconds: number;
}

interface Waiting {
  readonly key: string;
  readonly lease: string;
  readonly settle: { resolve(admission: StoreAdmission): void; reject(error: unknown): void };
}

/** Bounds one statement whatever the load. */
const MAX_BATCH = 256;

export function postgresLimiterStore(db: Kysely<Database>): LimiterStore {
  // The limits and lease length are the gateway's configuration, the same for every request.
  const waiting: Waiting[] = [];
  let calling = false;

  const admitBatch = async (batch: readonly Waiting[], limits: RateLimits, leaseMs: number) => {
    const { perMinute, burst, maxInFlight } = limits;
    const { rows } = await sql<AdmissionRow>`select r.position, a.admitted, a.reason, a.retry_after_seconds
      from (select * from unnest(${batch.map((w) => w.key)}::text[], ${batch.map((w) => w.lease)}::uuid[])
              with ordinality as u(key, lease, position)
            order by key) as r
      cross join lateral dpgate.admit_request(r.key, r.lease, ${perMinute}, ${burst}, ${maxInFlight}, ${leaseMs}) as a`.execute(
      db,
    );
    return new Map(rows.map((row) => [Number(row.position) - 1, row]));
  };

  const drain = async (limits: RateLimits, leaseMs: number) => {
    calling = true;
    while (waiting.length > 0) {
      const batch = waiting.splice(0, MAX_BATCH);
      try {
        const rows = await admitBatch(batch, limits, leaseMs);
        batch.forEach(({ settle }, index) => {
          const row = rows.get(index);
          if (!row) settle.reject(new Error('dpgate.admit_request returned no row for a request'));
          else if (row.admitted) settle.resolve({ admitted: true });
          else
            settle.resolve({
              admitted: false,
              reason: row.reason ?? 'rate',
              retryAfterSeconds: row.retry_after_seconds,
            });
        });
      } catch (error) {
        for (const { settle } of batch) settle.reject(error);
      }
    }
    calling = false;
  };

  return {
    admit(key, lease, limits, leaseMs): Promise<StoreAdmission> {
      return new Promise((resolve, reject) => {
        waiting.push({ key, lease, settle: { resolve, reject } });
        if (!calling) void drain(limits, leaseMs);
      });
    },
    async release(leases) {
      await sql`select dpgate.release_requests(${leases}::uuid[])`.execute(db);
    },
    // The database belongs to the gateway, which closes it.
    close: async () => {},
  };
}
