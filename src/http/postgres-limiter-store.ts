/**
 * Shared request limits kept in PostgreSQL: one call of `dpgate.admit_request` per request and one
 * of `dpgate.release_requests` per batch of finished ones (migration 0007: UNLOGGED tables, the
 * bucket row's lock makes each admission atomic across gateways).
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import type { LimiterStore, StoreAdmission } from './shared-request-limiter.ts';

interface AdmissionRow {
  admitted: boolean;
  reason: 'rate' | 'in_flight' | null;
  retry_after_seconds: number;
}

export function postgresLimiterStore(db: Kysely<Database>): LimiterStore {
  return {
    async admit(key, lease, { perMinute, burst, maxInFlight }, leaseMs): Promise<StoreAdmission> {
      const { rows } = await sql<AdmissionRow>`select admitted, reason, retry_after_seconds
        from dpgate.admit_request(${key}, ${lease}::uuid, ${perMinute}, ${burst}, ${maxInFlight}, ${leaseMs})`.execute(
        db,
      );
      const row = rows[0]!;
      return row.admitted
        ? { admitted: true }
        : { admitted: false, reason: row.reason ?? 'rate', retryAfterSeconds: row.retry_after_seconds };
    },
    async release(leases) {
      await sql`select dpgate.release_requests(${leases}::uuid[])`.execute(db);
    },
    // The database belongs to the gateway, which closes it.
    close: async () => {},
  };
}
