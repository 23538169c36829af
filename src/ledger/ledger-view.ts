/**
 * What contributors read: each community's budget and spend, and every charge made to it. Amounts
 * are shown as the decimal text the ledger holds, with the remaining budget computed under the
 * community's accounting mode.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { NO_RDP_CHARGE, rdpChargeEpsilon, rdpStanding } from '../dp/accounting/rdp-ledger.ts';
import { type BudgetState, epsilonSpent, rdpBudgetOf, remaining } from './budget-state.ts';
import { budgetState } from './charge.ts';

export async function listCommunityBudgets(db: Kysely<Database>) {
  // Differences taken on NUMERIC, so the exact figures never pass through a float.
  const rows = await db
    .selectFrom('dpgate.community_budgets')
    .selectAll()
    .select([
      sql<string>`(epsilon_total - epsilon_spent)::text`.as('epsilon_left'),
      sql<string>`(delta_total - delta_spent)::text`.as('delta_left'),
      sql<string | null>`(rho_total - rho_spent)::text`.as('rho_left'),
    ])
    .orderBy('community_id')
    .execute();
  return rows.map((row) => {
    const state = budgetState(row);
    return {
      id: row.community_id,
      accounting: row.accounting,
      budget: { epsilon: row.epsilon_total, delta: row.delta_total },
      spent: {
        epsilon: epsilonSpent(state),
        delta: row.delta_spent,
        ...(row.accounting === 'zcdp' ? { rho: row.rho_spent, approx_epsilon: row.epsilon_spent } : {}),
      },
      remaining: remaining(state),
      ...(row.accounting === 'rdp' ? { rdp: rdpView(state) } : {}),
      /**
       * The ledger's exact decimals beside the floats above. Under zcdp the ε left is a conversion of
       * the ρ left, not a difference of decimals, so only ρ and the δ of approximate charges are exact.
       */
      exact: {
        spent: {
          epsilon: row.epsilon_spent,
          delta: row.delta_spent,
          ...(row.accounting === 'zcdp' ? { rho: row.rho_spent } : {}),
        },
        remaining: {
          epsilon: row.accounting === 'basic' ? row.epsilon_left : null,
          delta: row.delta_left,
          ...(row.accounting === 'zcdp' ? { rho: row.rho_left } : {}),
        },
      },
      policy_version: row.policy_version,
      updated_at: row.updated_at.toISOString(),
    };
  });
}

/**
 * An rdp community's filter as contributors read it: the order that binds, its Rényi budget and
 * spend, the whole composed curve and the δ parts (rdp-ledger.ts, `rdpStanding`).
 */
function rdpView(state: BudgetState) {
  const standing = rdpStanding(rdpBudgetOf(state), state.rdp?.spent ?? NO_RDP_CHARGE);
  return {
    order: standing.order,
    conversion_delta: standing.conversionDelta,
    budget: standing.rdpTotal,
    spent: standing.rdpSpent,
    gaussian_rho_left: standing.gaussianRhoLeft,
    delta_parts: { ...standing.approxDelta },
    curve: standing.curve.map((point) => ({ ...point })),
  };
}

export interface LedgerFilter {
  readonly communityId: string;
  readonly from?: Date | undefined;
  readonly to?: Date | undefined;
  /** A principal id, or the name on its key. */
  readonly analyst?: string | undefined;
  readonly kind?: 'query' | 'training' | 'evaluation' | undefined;
  readonly limit: number;
  /** The `next_cursor` of the previous page. */
  readonly cursor?: string | undefined;
}

/** A charge as the ledger shows it, from `dpgate.charges as c` joined to `dpgate.api_keys as k`. */
export const CHARGE_COLUMNS = [
  'c.id',
  'c.created_at',
  'c.kind',
  'c.subject_id',
  'c.description',
  'c.principal_id',
  'k.name as principal_name',
  'k.role as principal_role',
  'c.epsilon',
  'c.delta',
  'c.rho',
  'c.mechanism',
  'c.policy_version',
  'c.request_id',
] as const;

/** Newest first, keyset-paginated on (created_at, id) so pages stay stable while charges arrive. */
export async function listCharges(db: Kysely<Database>, filter: LedgerFilter) {
  let query = db
    .selectFrom('dpgate.charges as c')
    .leftJoin('dpgate.api_keys as k', 'k.id', 'c.principal_id')
    .select([...CHARGE_COLUMNS, 'c.rdp_curve'])
    .where('c.community_id', '=', filter.communityId);
  if (filter.from) query = query.where('c.created_at', '>=', filter.from);
  if (filter.to) query = query.where('c.created_at', '<', filter.to);
  if (filter.kind) query = query.where('c.kind', '=', filter.kind);
  if (filter.analyst) {
    const analyst = filter.analyst;
    query = query.where((eb) =>
      eb.or([eb(sql<string>`c.principal_id::text`, '=', analyst), eb('k.name', '=', analyst)]),
    );
  }
  const after = decodeCursor(filter.cursor);
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb('c.created_at', '<', after.createdAt),
        eb.and([eb('c.created_at', '=', after.createdAt), eb(sql<string>`c.id::text`, '<', after.id)]),
      ]),
    );
  }
  const rows = await query
    .orderBy('c.created_at', 'desc')
    .orderBy(sql`c.id::text`, 'desc')
    .limit(filter.limit + 1)
    .execute();
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  const ownAt = await ownChargeDelta(db, filter.communityId);
  return {
    charges: page.map((row) => ({
      id: row.id,
      at: row.created_at.toISOString(),
      kind: row.kind,
      subject_id: row.subject_id,
      description: row.description,
      principal: { id: row.principal_id, name: row.principal_name ?? null, role: row.principal_role ?? null },
      epsilon: row.epsilon,
      delta: row.delta,
      rho: row.rho,
      mechanism: row.mechanism,
      policy_version: row.policy_version,
      request_id: row.request_id,
      own: ownAt !== null && row.rdp_curve ? rdpChargeEpsilon(row.rdp_curve, ownAt) : null,
    })),
    next_cursor: rows.length > filter.limit && last ? encodeCursor(last.created_at, last.id) : null,
  };
}

/**
 * Under rdp a charge row's ε is the increase of the converted spend it caused; its own (ε, δ) is its
 * curve converted at the community's δ_conv (plus its δ part). Null for other modes, whose rows are
 * already each charge's own (ε, δ).
 */
async function ownChargeDelta(db: Kysely<Database>, communityId: string): Promise<number | null> {
  const row = await db
    .selectFrom('dpgate.community_budgets')
    .selectAll()
    .where('community_id', '=', communityId)
    .executeTakeFirst();
  if (row?.accounting !== 'rdp') return null;
  return rdpBudgetOf(budgetState(row)).conversionDelta;
}

export function encodeCursor(createdAt: Date, id: string): string {
  return btoa(`${createdAt.toISOString()}|${id}`);
}

export function decodeCursor(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (!cursor) return undefined;
  const [at, id] = atob(cursor).split('|');
  const createdAt = new Date(at ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) throw new RangeError('cursor is not one this API returned');
  return { createdAt, id };
}

type ChargeRow = Awaited<ReturnType<typeof listCharges>>['charges'][number];

const CSV_COLUMNS = [
  'at',
  'kind',
  'principal',
  'description',
  'epsilon',
  'delta',
  'rho',
  'mechanism',
  'subject_id',
  'policy_version',
] as const;

/**
 * RFC 4180 CSV of charges, for spreadsheets. Descriptions hold analysts' text, so a cell that a
 * spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote mark.
 */
export function chargesToCsv(charges: readonly ChargeRow[]): string {
  const cell = (value: string | null) => {
    const raw = value ?? '';
    const text = /^[=+\-@\t\r]/.test(raw) && !/^-?[0-9.e-]+$/i.test(raw) ? `'${raw}` : raw;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const lines = charges.map((charge) =>
    [
      charge.at,
      charge.kind,
      charge.principal.name ?? charge.principal.id,
      charge.description,
      charge.epsilon,
      charge.delta,
      charge.rho,
      charge.mechanism,
      charge.subject_id,
      charge.policy_version,
    ]
      .map(cell)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...lines].join('\r\n')}\r\n`;
}
