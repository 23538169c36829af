/**
 * parse → analyze → scope → cost → rewrite: from the analyst's SQL to a QueryPlan, or a refusal.
 * Pure: no database, no environment; the caller charges `plan.cost` to `plan.scope`, runs
 * `plan.sql`, and hands the rows to `release`.
 */
import type { SelectStmt } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import type { Policy, Role } from '../policy/schema.ts';
import { rootContext } from './analyze/context.ts';
import { publicDomainSize } from './analyze/domains.ts';
import { stageRowsPerGroup } from './analyze/per-person-subquery.ts';
import { checkPublicQuery, readsPrivateTable, walk } from './analyze/public-query.ts';
import { type AnalyzedQuery, analyzePrivateSelect } from './analyze/select.ts';
import { tableSchemas } from './analyze/tables.ts';
import { type CostedSelection, costQuery } from './cost.ts';
import { bindPublicQuery, ParameterList } from './emit.ts';
import type { TableReference } from './ir.ts';
import { specOf } from './noise.ts';
import { parseSingleSelect } from './parse.ts';
import type {
  CatalogFacts,
  Grouping,
  MechanismName,
  PrivateQueryPlan,
  PublicQueryPlan,
  QueryPlan,
  QueryRequest,
  Selection,
} from './plan.ts';
import { refuse, type SqlRefusal, SqlRefusalError } from './refusal.ts';
import { rewritePrivateQuery, SELECTION_WEIGHT_COLUMN, UNITS_COLUMN } from './rewrite.ts';
import { communityScope } from './scope.ts';

export interface PlanQueryInput {
  readonly sql: string;
  /** The policy snapshot in force (validated; its version is recorded by the caller). */
  readonly policy: Policy;
  readonly role: Role;
  readonly request?: QueryRequest;
  /** Catalog facts read when the policy took effect; without them every bound is enforced in SQL. */
  readonly catalog?: CatalogFacts | undefined;
}

export type PlanQueryResult =
  | { readonly ok: true; readonly plan: QueryPlan }
  | { readonly ok: false; readonly refusal: SqlRefusal };

export function planQuery(input: PlanQueryInput): PlanQueryResult {
  try {
    return { ok: true, plan: buildPlan(input) };
  } catch (error) {
    if (error instanceof SqlRefusalError) return { ok: false, refusal: error.refusal };
    // The analysis recurses over the syntax tree; a query nested deeper than the stack is refused.
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      return { ok: false, refusal: { code: 'unsupported_sql', message: 'the query is nested too deeply' } };
    }
    throw error;
  }
}

function buildPlan({ sql, policy, role, request = {}, catalog }: PlanQueryInput): QueryPlan {
  const select = parseSingleSelect(sql);
  refuseNestedWith(select);
  const context = rootContext(policy, role);
  if (!readsPrivateTable(select, context)) return publicPlan(select, context);
  const analyzed = analyzePrivateSelect(select, context);
  const { epsilon, delta, mechanism } = checkRequest(request, policy);
  return privatePlan(analyzed, policy, { epsilon, delta, mechanism }, catalog);
}

/** Public tables only: no noise, no cost; the query runs as written, tables qualified, literals bound. */
function publicPlan(select: SelectStmt, context: ReturnType<typeof rootContext>): PublicQueryPlan {
  const statement = { SelectStmt: select };
  checkPublicQuery(statement, context);
  const params = new ParameterList();
  const text = deparseSync(bindPublicQuery(statement, params, tableSchemas(context.policy)), {
    pretty: false,
  });
  const tables = new Set<string>();
  walk(statement, (key, value) => {
    if (key === 'RangeVar') tables.add((value as { relname?: string }).relname ?? '');
  });
  return {
    kind: 'public',
    tables: [...tables].filter((t) => context.policy.tables[t]),
    sql: { text, parameters: params.values },
  };
}

function privatePlan(
  analyzed: AnalyzedQuery,
  policy: Policy,
  request: Required<QueryRequest>,
  catalog: CatalogFacts | undefined,
): PrivateQueryPlan {
  requireUniquePathKeys(analyzed, catalog);
  // Path tables (joined only to reach the person of a several-hop table) add no rows and no bounds.
  const privateTables = analyzed.tables.filter((t) => t.private && !t.pathHop);
  // L∞: a joined row of a person combines one row of each private table, so rows multiply;
  // L0: every table's council limit on groups per person must hold, so the smallest applies.
  // L1: a person's joined rows in total are at most the product of the tables' totals, when every
  // private table states one. No group can hold more than that either.
  const totals = privateTables.map((t) => t.policy.contributions?.max_rows_in_total);
  const policyTotal = totals.every((n) => n !== undefined)
    ? totals.reduce((rows: number, n) => rows * n!, 1)
    : undefined;
  const maxRowsPerGroup = Math.min(
    privateTables.reduce((rows, t) => rows * rowsPerGroup(t, analyzed), 1),
    policyTotal ?? Number.POSITIVE_INFINITY,
  );
  const policyGroups = Math.min(
    ...privateTables.map((t) => t.policy.contributions?.max_groups_per_unit ?? 1),
  );
  const keys = analyzed.keys;
  const kind = keys.length === 0 ? 'none' : keys.every((k) => k.domain) ? 'public' : 'selected';
  // Known when every domain is listed in policy; a public table's domain is counted only at execution.
  const sizes = kind === 'public' ? keys.map((k) => publicDomainSize(k.domain!)) : [];
  const cells =
    kind === 'public' && sizes.every((n) => n !== undefined)
      ? sizes.reduce((n, size) => n * size!, 1)
      : undefined;
  // A person contributes to at most one group of a query without GROUP BY, and never to more
  // groups than a public domain has.
  const maxGroupsPerUnit = kind === 'none' ? 1 : Math.min(policyGroups, cells ?? policyGroups);
  // The total cap matters only where it is below what k groups of r rows allow.
  const maxRowsInTotal =
    policyTotal !== undefined && policyTotal < maxGroupsPerUnit * maxRowsPerGroup ? policyTotal : undefined;
  if (cells !== undefined && cells * analyzed.columns.length > policy.limits.max_result_cells) {
    refuse(
      'too_many_cells',
      `this query would release ${cells} groups × ${analyzed.columns.length} columns, more than the policy's ${policy.limits.max_result_cells} cells`,
    );
  }
  const stages = analyzed.tables.flatMap((t) => (t.stage ? [t.stage] : []));
  if (stages.length > 1)
    refuse('unsupported_sql', 'a query may read one per-person subquery; join its tables inside it');
  const scope = communityScope([...analyzed.conditions, ...stages.flatMap((s) => s.conditions)], policy);
  const { registry } = analyzed;
  const costed = costQuery({
    ...request,
    measurements: registry.measurements,
    quantiles: registry.quantiles,
    aggregates: registry.aggregates,
    maxRowsPerGroup,
    maxGroupsPerUnit,
    ...(maxRowsInTotal === undefined ? {} : { maxRowsInTotal }),
    thresholded: kind === 'selected',
    accounting: policy.accounting,
  });
  const single = onePerUnit(analyzed, catalog);
  // A public domain no larger than the policy's L0 bound bounds the groups a person reaches.
  const selectGroups = kind !== 'none' && !(cells !== undefined && cells <= policyGroups);
  const sql = rewritePrivateQuery({
    tables: analyzed.tables,
    conditions: analyzed.conditions,
    leftJoins: analyzed.leftJoins,
    keys,
    values: registry.values,
    measurements: registry.measurements,
    quantiles: registry.quantiles,
    grouping: kind,
    maxRowsPerGroup,
    maxGroupsPerUnit,
    ...(maxRowsInTotal === undefined ? {} : { maxRowsInTotal }),
    onePerUnit: single,
    selectGroups,
    ...(costed.selection?.kind === 'weighted_gaussian' ? { selectionWeights: costed.selection.weights } : {}),
  });
  const groupKeys = keys.map((k) => ({ column: k.column, expr: k.expr }));
  const grouping: Grouping =
    kind === 'none'
      ? { kind }
      : kind === 'public'
        ? { kind, keys: keys.map((k) => ({ column: k.column, expr: k.expr, domain: k.domain! })) }
        : {
            kind,
            keys: groupKeys,
            unitsColumn: UNITS_COLUMN,
            selection: planSelection(costed.selection!),
          };
  return {
    kind: 'private',
    tables: [
      ...new Set(analyzed.tables.flatMap((t) => (t.stage ? t.stage.tables : [t]).map((u) => u.table))),
    ],
    scope,
    mechanism: request.mechanism,
    contribution: {
      maxRowsPerGroup,
      maxGroupsPerUnit,
      ...(maxRowsInTotal === undefined ? {} : { maxRowsInTotal }),
    },
    bounding: single ? 'none' : selectGroups ? 'capped_and_selected' : 'capped',
    grouping,
    measurements: costed.measurements,
    quantiles: costed.quantiles,
    aggregates: registry.aggregates,
    columns: analyzed.columns,
    having: analyzed.having,
    orderBy: analyzed.orderBy,
    limit: analyzed.limit,
    offset: analyzed.offset,
    maxRows: Math.max(1, Math.floor(policy.limits.max_result_cells / Math.max(1, analyzed.columns.length))),
    cost: costed.cost,
    sql,
  };
}

/**
 * True when the released rows are a function of public facts alone: public plans, and private plans
 * that group by public domains and release no aggregate (`SELECT sex FROM people GROUP BY sex`
 * returns the policy's domain, whatever the data). Such a query is answered without a charge, so it
 * writes no zero-ε rows to the ledger.
 */
export function chargesNothing(plan: QueryPlan): boolean {
  if (plan.kind === 'public') return true;
  return plan.grouping.kind === 'public' && plan.measurements.length === 0 && plan.quantiles.length === 0;
}

/**
 * WITH only at the start of the query. Then every CTE name is visible in the whole statement (the
 * order rule is checked with the CTEs), so any reference by that name is the CTE and every other
 * table name is qualified with `commons.` before the SQL runs; a WITH nested in a subquery could
 * shadow a table name in one place only, and an unqualified name outside it would reach the search
 * path.
 */
function refuseNestedWith(select: SelectStmt): void {
  const nested = [{ ...select, withClause: undefined }, ...(select.withClause?.ctes ?? [])];
  walk(nested, (key, value) => {
    if (key === 'withClause') {
      refuse(
        'unsupported_sql',
        'WITH is allowed only at the start of the query',
        (value as { location?: number }).location,
      );
    }
  });
}

/** L∞ of one private table: its policy's rows per group, or what a per-person stage proves. */
function rowsPerGroup(table: TableReference, analyzed: AnalyzedQuery): number {
  if (table.stage)
    return stageRowsPerGroup(
      table,
      analyzed.keys.map((k) => k.expr),
    );
  return table.policy.contributions?.max_rows_per_unit ?? 1;
}

/**
 * One row per person: the query reads a single table (a join, even with a public table, can repeat
 * a person's row) and the catalog proves its unit column unique.
 */
function onePerUnit(analyzed: AnalyzedQuery, catalog: CatalogFacts | undefined): boolean {
  const [only, ...others] = analyzed.tables;
  return (
    others.length === 0 &&
    only !== undefined &&
    only.private &&
    only.unitColumn !== undefined &&
    (catalog?.uniqueColumns.includes(`${only.table}.${only.unitColumn}`) ?? false)
  );
}

/**
 * A several-hop unit path gives each row the person its path leads to only if each hop's target is
 * unique: a visit_id held by two visits would give an item two persons, and removing one of them
 * would change the other's rows. The uniqueness must come from the catalog (a unique index), never
 * from the data, so without catalog facts such a table is refused.
 */
function requireUniquePathKeys(analyzed: AnalyzedQuery, catalog: CatalogFacts | undefined): void {
  for (const table of analyzed.tables) {
    if (!table.pathHop) continue;
    const key = `${table.table}.${table.pathHop.key}`;
    if (catalog?.uniqueColumns.includes(key)) continue;
    const served = analyzed.tables.find((t) => t.alias === table.pathHop!.for)?.table ?? table.table;
    refuse(
      'unsupported_sql',
      `table ${served} reaches the person through ${key}, which no unique index is known to make unique (the policy must be checked against the database)`,
    );
  }
}

/** ε and δ from the request or the policy defaults, checked against the policy caps. */
function checkRequest(request: QueryRequest, policy: Policy): Required<QueryRequest> {
  const limits = policy.limits;
  const epsilon = request.epsilon ?? limits.default_epsilon;
  const delta = request.delta ?? limits.default_delta;
  const mechanism: MechanismName = request.mechanism ?? policy.default_mechanism;
  // Number.isFinite also stops 1e999 (Infinity, i.e. no noise) and NaN.
  if (!(Number.isFinite(epsilon) && epsilon > 0))
    refuse('invalid_epsilon', 'epsilon must be a finite number greater than 0');
  if (epsilon > limits.max_epsilon_per_query) {
    refuse(
      'epsilon_too_large',
      `epsilon ${epsilon} is above the policy's limit of ${limits.max_epsilon_per_query} per query`,
    );
  }
  if (!(Number.isFinite(delta) && delta >= 0 && delta < 1))
    refuse('invalid_delta', 'delta must be a number in [0, 1)');
  if (delta > limits.max_delta_per_query) {
    refuse(
      'delta_too_large',
      `delta ${delta} is above the policy's limit of ${limits.max_delta_per_query} per query`,
    );
  }
  if (mechanism !== 'laplace' && mechanism !== 'gaussian')
    refuse('invalid_mechanism', 'mechanism must be laplace or gaussian');
  return { epsilon, delta, mechanism };
}

function planSelection(selection: CostedSelection): Selection {
  if (selection.kind === 'optimal') return selection;
  if (selection.kind === 'weighted_gaussian') return { ...selection, column: SELECTION_WEIGHT_COLUMN };
  const { mechanism, ...rest } = selection;
  return { ...rest, noise: specOf(mechanism) };
}
