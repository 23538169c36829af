import { type RawBuilder, sql } from 'kysely';

/**
 * A value for a jsonb column that both drivers store the same way. Passed bare, `pg` would send a
 * JS array as a PostgreSQL array literal and PGlite would re-encode a string; sent as JSON text
 * with an explicit cast, both store the same document.
 */
export function jsonb<T>(value: T): RawBuilder<T> {
  return sql<T>`cast(${JSON.stringify(value)} as jsonb)`;
}
