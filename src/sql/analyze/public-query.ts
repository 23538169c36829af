/**
 * SQL over public tables only: a whole free query, or a subquery (IN, EXISTS, scalar) inside a
 * private one. Its result depends on no person, so any shape is allowed (joins, DISTINCT, UNION,
 * windows); what is still checked is everything that reaches outside the public tables: private
 * tables, catalogs and other schemas, parameters, and functions off the allow-list (pg_sleep, …).
 */
import type { Node, RangeVar } from 'libpg-query';
import { PUBLIC_ONLY_FUNCTIONS, ROW_FUNCTIONS } from '../functions.ts';
import { refuse } from '../refusal.ts';
import type { AnalysisContext } from './context.ts';
import { resolvePolicyTable, unknownColumnMessage } from './tables.ts';

/** Whether any table the subtree reads (directly or through a CTE in scope) is private. */
export function readsPrivateTable(
  node: unknown,
  context: AnalysisContext,
  seen = new Set<string>(),
): boolean {
  const local = cteNamesIn(node);
  let found = false;
  walk(node, (key, value) => {
    if (found || key !== 'RangeVar') return;
    const rangeVar = value as RangeVar;
    const name = rangeVar.relname ?? '';
    if (rangeVar.schemaname === undefined && local.has(name)) return;
    const cte = rangeVar.schemaname === undefined ? context.ctes.get(name) : undefined;
    if (cte) {
      if (!seen.has(name)) {
        seen.add(name);
        found = readsPrivateTable(cte.ctequery, context, seen);
      }
      return;
    }
    const table = context.policy.tables[name];
    found = table !== undefined && !table.public && (rangeVar.schemaname ?? table.schema) === table.schema;
  });
  return found;
}

/**
 * Refuses anything in a public-only query that could read or do more than public rows: catalog and
 * unknown tables (through `resolvePolicyTable`, which also checks the role's access), functions off
 * the allow-list, parameters, locking clauses, and outer CTEs (a public subquery must be
 * self-contained so the rewrite can emit it as it stands).
 */
export function checkPublicQuery(node: Node, context: AnalysisContext): void {
  const local = cteNamesIn(node);
  const visible = new Set<string>();
  walk(node, (key, value) => {
    const location = (value as { location?: number }).location;
    switch (key) {
      case 'RangeVar': {
        const rangeVar = value as RangeVar;
        if (rangeVar.schemaname === undefined && local.has(rangeVar.relname ?? '')) return;
        if (rangeVar.schemaname === undefined && context.ctes.has(rangeVar.relname ?? '')) {
          refuse(
            'unsupported_sql',
            `a subquery cannot read the CTE ${rangeVar.relname}; repeat its query inside`,
            location,
          );
        }
        const table = resolvePolicyTable(rangeVar, context);
        if (table.private)
          refuse('private_subquery', `table ${table.table} is private and cannot be read here`, location);
        for (const [column, policy] of Object.entries(table.policy.columns))
          if (!policy.hidden) visible.add(column);
        return;
      }
      case 'FuncCall': {
        const call = value as { funcname?: Node[] };
        const names = (call.funcname ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
        const name = names.at(-1) ?? '';
        const schemaOk = names.length === 1 || names[0] === 'pg_catalog';
        if (!schemaOk || !(ROW_FUNCTIONS.has(name) || PUBLIC_ONLY_FUNCTIONS.has(name))) {
          refuse('forbidden_function', `function ${names.join('.')} is not allowed`, location);
        }
        return;
      }
      case 'RangeFunction':
      case 'RangeTableFunc':
        return refuse('forbidden_function', 'functions in FROM are not allowed', location);
      case 'ParamRef':
        return refuse(
          'unsupported_sql',
          'query parameters ($1, …) are not accepted; write the values in the query',
          location,
        );
      case 'SQLValueFunction':
        return refuse(
          'forbidden_function',
          'session and clock values (CURRENT_USER, NOW, …) are not allowed',
          location,
        );
      case 'TypeCast': {
        const names = ((value as { typeName?: { names?: Node[] } }).typeName?.names ?? []).map((n) =>
          'String' in n ? (n.String.sval ?? '') : '',
        );
        if (names.some((n) => n.startsWith('reg')) || (names.length > 1 && names[0] !== 'pg_catalog')) {
          refuse('system_catalog', `casts to ${names.join('.')} are not allowed`, location);
        }
        return;
      }
      case 'lockingClause':
      case 'intoClause':
        return refuse('unsupported_sql', 'SELECT … FOR UPDATE / INTO is not allowed', location);
      case 'withClause': {
        const clause = value as { recursive?: boolean; ctes?: Node[] };
        if (clause.recursive) refuse('unsupported_sql', 'recursive CTEs are not allowed', location);
        checkCteOrder(clause.ctes ?? []);
        return;
      }
      default:
        return;
    }
  });
  const known = namesIntroducedIn(node, visible);
  walk(node, (key, value) => {
    if (key !== 'ColumnRef') return;
    const fields = ((value as { fields?: Node[] }).fields ?? []).map((f) =>
      'String' in f ? (f.String.sval ?? '') : '*',
    );
    const name = fields.at(-1);
    if (name !== undefined && name !== '*' && !known.has(name)) {
      refuse('unknown_column', unknownColumnMessage(fields), (value as { location?: number }).location);
    }
  });
}

/**
 * The column names a public query may use: the exposed columns of the tables it reads, and the names
 * it makes itself (output and alias names, CTE and subquery column lists, and the implicit names
 * PostgreSQL gives unnamed outputs). Anything else, a hidden column or one that does not exist, is
 * refused the same way before the query runs.
 */
function namesIntroducedIn(node: Node, visible: ReadonlySet<string>): Set<string> {
  const known = new Set(visible);
  const lastName = (names: readonly Node[] | undefined) => {
    const last = names?.at(-1);
    return last && 'String' in last ? last.String.sval : undefined;
  };
  walk(node, (key, value) => {
    const body = value as Record<string, unknown>;
    if (key === 'ResTarget' && typeof body.name === 'string') known.add(body.name);
    if (key === 'ResTarget' && body.val && typeof body.val === 'object') {
      const val = body.val as Node;
      const implicit =
        'FuncCall' in val
          ? lastName(val.FuncCall.funcname)
          : 'TypeCast' in val
            ? lastName(val.TypeCast.typeName?.names)
            : 'CaseExpr' in val
              ? 'case'
              : 'CoalesceExpr' in val
                ? 'coalesce'
                : 'SubLink' in val && val.SubLink.subLinkType === 'EXISTS_SUBLINK'
                  ? 'exists'
                  : undefined;
      if (implicit) known.add(implicit);
    }
    if (key === 'Alias' || key === 'alias')
      for (const n of (body.colnames as Node[]) ?? []) known.add(lastName([n]) ?? '');
    if (key === 'CommonTableExpr')
      for (const n of (body.aliascolnames as Node[]) ?? []) known.add(lastName([n]) ?? '');
  });
  return known;
}

/**
 * A subquery inside a private query must not read the outer row: a correlated subquery could fail
 * ("more than one row returned by a subquery") or run long depending on one person's values.
 * Conservatively, every column it names must belong to a table, alias or output name of its own.
 */
export function checkSelfContained(node: Node, context: AnalysisContext): void {
  const qualifiers = new Set<string>();
  const columns = new Set<string>();
  walk(node, (key, value) => {
    if (key === 'RangeVar') {
      const rangeVar = value as RangeVar;
      qualifiers.add(rangeVar.alias?.aliasname ?? rangeVar.relname ?? '');
      for (const [column, policy] of Object.entries(
        context.policy.tables[rangeVar.relname ?? '']?.columns ?? {},
      ))
        if (!policy.hidden) columns.add(column);
    }
    if (key === 'RangeSubselect')
      qualifiers.add((value as { alias?: { aliasname?: string } }).alias?.aliasname ?? '');
    if (key === 'ResTarget') columns.add((value as { name?: string }).name ?? '');
  });
  walk(node, (key, value) => {
    if (key !== 'ColumnRef') return;
    const names = ((value as { fields?: Node[] }).fields ?? []).flatMap((f) =>
      'String' in f ? [f.String.sval ?? ''] : [],
    );
    const [qualifier, column] = names.length >= 2 ? [names.at(-2)!, names.at(-1)!] : [undefined, names[0]];
    const own =
      qualifier === undefined ? column === undefined || columns.has(column) : qualifiers.has(qualifier);
    if (!own) {
      refuse(
        'unsupported_sql',
        `subqueries may not refer to the outer query (${names.join('.')}); correlated subqueries are not supported`,
        (value as { location?: number }).location,
      );
    }
  });
}

/**
 * A non-recursive CTE sees only the CTEs before it; PostgreSQL resolves any other name in its body,
 * its own included, as a table on the search path. Such references are refused, so every name the
 * rewrite leaves unqualified is one of the query's own CTEs.
 */
function checkCteOrder(ctes: readonly Node[]): void {
  const later = ctes.map((c) => ('CommonTableExpr' in c ? (c.CommonTableExpr.ctename ?? '') : ''));
  ctes.forEach((cte, index) => {
    const invisible = new Set(later.slice(index));
    walk('CommonTableExpr' in cte ? cte.CommonTableExpr.ctequery : undefined, (key, value) => {
      const rangeVar = value as RangeVar;
      if (key === 'RangeVar' && rangeVar.schemaname === undefined && invisible.has(rangeVar.relname ?? '')) {
        refuse(
          'unknown_table',
          `the CTE ${rangeVar.relname} is not visible here (a CTE sees only the CTEs before it)`,
          rangeVar.location,
        );
      }
    });
  });
}

/** Every CTE name defined inside the subtree (those references are not tables). */
export function cteNamesIn(node: unknown): Set<string> {
  const names = new Set<string>();
  walk(node, (key, value) => {
    if (key === 'CommonTableExpr') names.add((value as { ctename?: string }).ctename ?? '');
  });
  return names;
}

/** Calls `visit(nodeType, body)` for every wrapped node `{ NodeType: body }` and every keyed object. */
export function walk(node: unknown, visit: (key: string, value: unknown) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (value !== null && typeof value === 'object') {
      visit(key, value);
      walk(value, visit);
    }
  }
}
