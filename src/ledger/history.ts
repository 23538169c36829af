/**
 * One principal's own history: the queries it asked and the training jobs it started, newest
 * first, keyset-paginated on (created_at, id) like the ledger.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { decodeCursor, encodeCursor } from './ledger-view.ts';

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export async function listOwnQueries(db: Kysely<Database>, principalId: string, page: PageRequest) {
  const charges = db
    .selectFrom('dpgate.charges as c')
    .whereRef('c.subject_id', '=', sql<string>`a.id::text`)
    .where('c.kind', '=', 'query');
  const rows = await db
    .selectFrom('dpgate.released_answers as a')
    .select([
      'a.id',
      'a.status',
      'a.created_at',
      'a.released_at',
      'a.policy_version',
      charges.select(sql<string>`min(c.description)`.as('sql')).as('sql'),
      charges.select(sql<string>`max(c.epsilon)::text`.as('e')).as('epsilon'),
      charges.select(sql<string>`max(c.delta)::text`.as('d')).as('delta'),
      charges.select(sql<string>`min(c.mechanism)`.as('m')).as('mechanism'),
      charges
        .select(sql<string[]>`coalesce(array_agg(c.community_id order by c.community_id), '{}')`.as('cs'))
        .as('communities'),
    ])
    .where(ownPage(principalId, page))
    .orderBy(NEWEST_FIRST)
    .limit(page.limit + 1)
    .execute();
  return paged(rows, page.limit, (row) => ({
    id: row.id,
    status: row.status,
    sql: row.sql ?? null,
    created_at: row.created_at.toISOString(),
    released_at: row.released_at?.toISOString() ?? null,
    epsilon: row.epsilon ?? null,
    delta: row.delta ?? null,
    mechanism: row.mechanism ?? null,
    communities: row.communities ?? [],
    policy_version: row.policy_version,
  }));
}

const NEWEST_FIRST = sql`a.created_at desc, a.id::text desc`;

/** Rows of `a` that belong to the principal and come after the cursor, if there is one. */
function ownPage(principalId: string, page: PageRequest) {
  const after = decodeCursor(page.cursor);
  const owned = sql<boolean>`a.principal_id = ${principalId}`;
  return after
    ? sql<boolean>`${owned} and (a.created_at, a.id::text) < (${after.createdAt}, ${after.id})`
    : owned;
}

function paged<Row extends { id: string; created_at: Date }, Item>(
  rows: Row[],
  limit: number,
  view: (row: Row) => Item,
) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page.map(view),
    next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
  };
}
