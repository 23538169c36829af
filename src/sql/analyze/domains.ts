/**
 * A public-domain key narrowed by the query's own conditions. Every row the query reads satisfies
 * each top-level conjunct (of WHERE, of an inner join's ON, of an inlined subquery's WHERE), so a
 * conjunct `key = c`, `key IN (c, …)`, an OR of those, `key < c` (and ≤, >, ≥, BETWEEN) with literals
 * on the key, or on a column an inner-join equality makes equal to it, rules out every other domain
 * value: those groups are empty whatever the data, and releasing them would only add noise rows.
 *
 * The narrowed domain is a function of the query text and the policy alone, so releasing exactly its
 * values is as private as releasing the whole domain (the set of released groups does not depend on
 * the data). A conjunct the planner cannot read exactly (a function of the key, a cast, a text range
 * under a collation, an OR with another column) narrows nothing: keeping a value is always sound,
 * dropping one is sound only when no row could have it. A literal list on a key whose domain is a
 * public table's column becomes the domain itself (the table is read only at execution), so a listed
 * value the table lacks is released as an empty group.
 */
import { dayNumber, seriesDays } from '../calendar.ts';
import { type Expr, expressionKey } from '../ir.ts';
import type { PublicDomain } from '../plan.ts';
import type { DayRange } from './key-image.ts';

type Scalar = string | number | boolean;

/** What one conjunct says of a key's value: one of a list, or inside an interval. */
type Constraint =
  | { readonly kind: 'in'; readonly values: readonly Scalar[] }
  | {
      readonly kind: 'range';
      readonly low: number;
      readonly high: number;
      readonly lowStrict: boolean;
      readonly highStrict: boolean;
    };

export function narrowDomain(key: Expr, domain: PublicDomain, conditions: readonly Expr[]): PublicDomain {
  const equal = equalColumns(key, conditions);
  let narrowed = domain;
  for (const condition of conditions) {
    const constraint = constraintOn(condition, equal);
    if (constraint) narrowed = apply(narrowed, constraint);
  }
  // A domain narrowed to nothing would release no row; the query is then left as written (every
  // domain value, each an empty group) rather than given a shape the rewrite has no form for.
  return isEmpty(narrowed) ? domain : narrowed;
}

/** The expression keys of the key and of every column an inner-join equality chains to it. */
function equalColumns(key: Expr, conditions: readonly Expr[]): Set<string> {
  const equal = new Set([expressionKey(key)]);
  const pairs = conditions.flatMap((c) => {
    if (c.kind !== 'operator' || c.form !== 'AEXPR_OP' || c.operator !== '=' || !c.left) return [];
    const right = c.right as Expr;
    return c.left.kind === 'column' && right.kind === 'column'
      ? [[expressionKey(c.left), expressionKey(right)] as const]
      : [];
  });
  for (let grown = true; grown; ) {
    grown = false;
    for (const [a, b] of pairs) {
      if (equal.has(a) !== equal.has(b)) {
        equal.add(a);
        equal.add(b);
        grown = true;
      }
    }
  }
  return equal;
}

const FLIPPED: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' };

function constraintOn(condition: Expr, equal: ReadonlySet<string>): Constraint | undefined {
  if (condition.kind === 'bool' && condition.operator === 'or') {
    // `key = 1 OR key IN (2, 3)`: the union of the lists; any other disjunct narrows nothing.
    const lists = condition.args.map((arg) => constraintOn(arg, equal));
    if (!lists.every((c) => c?.kind === 'in')) return undefined;
    return { kind: 'in', values: lists.flatMap((c) => (c?.kind === 'in' ? c.values : [])) };
  }
  if (condition.kind !== 'operator' || !condition.left) return undefined;
  const onKey = (e: Expr) => equal.has(expressionKey(e));
  const { form, operator, left } = condition;
  if (form === 'AEXPR_IN' && operator === '=' && onKey(left)) {
    const values = (condition.right as readonly Expr[]).map(literal);
    if (values.some((v) => v === undefined)) return undefined;
    // NULL in the list matches no row.
    return { kind: 'in', values: values.filter((v): v is Scalar => v !== null) };
  }
  if (form === 'AEXPR_BETWEEN' && onKey(left)) {
    const [low, high] = (condition.right as readonly Expr[]).map(literal);
    return typeof low === 'number' && typeof high === 'number'
      ? { kind: 'range', low, high, lowStrict: false, highStrict: false }
      : undefined;
  }
  if (form !== 'AEXPR_OP') return undefined;
  const right = condition.right as Expr;
  const [column, value, op] = onKey(left)
    ? [left, literal(right), operator]
    : onKey(right)
      ? [right, literal(left), FLIPPED[operator]]
      : [undefined, undefined, undefined];
  if (!column || value === undefined || value === null || op === undefined) return undefined;
  if (op === '=') return { kind: 'in', values: [value] };
  if (typeof value !== 'number') return undefined;
  const below = { kind: 'range', low: -Infinity, lowStrict: false, high: value } as const;
  const above = { kind: 'range', low: value, highStrict: false, high: Infinity } as const;
  switch (op) {
    case '<':
      return { ...below, highStrict: true };
    case '<=':
      return { ...below, highStrict: false };
    case '>':
      return { ...above, lowStrict: true };
    case '>=':
      return { ...above, lowStrict: false };
  }
  return undefined;
}

/** A literal's value (decimal text as a number), null for NULL, undefined for anything else. */
function literal(expr: Expr): Scalar | null | undefined {
  if (expr.kind !== 'constant') return undefined;
  if (expr.literal === 'decimal') return Number(expr.value);
  return expr.value;
}

/**
 * Whether a domain value may pass. A list keeps a value it contains, and one it cannot compare
 * (another type: PostgreSQL may coerce `'1'` to 1, so no guess is made); a range keeps numbers inside.
 */
function passes(value: Scalar, constraint: Constraint): boolean {
  if (constraint.kind === 'in')
    return constraint.values.some((v) => v === value || typeof v !== typeof value);
  if (typeof value !== 'number') return true;
  const { low, high, lowStrict, highStrict } = constraint;
  return (lowStrict ? value > low : value >= low) && (highStrict ? value < high : value <= high);
}

function apply(domain: PublicDomain, constraint: Constraint): PublicDomain {
  switch (domain.kind) {
    case 'values':
      return { kind: 'values', values: domain.values.filter((v) => passes(v, constraint)) };
    case 'range': {
      if (constraint.kind === 'in') {
        if (!constraint.values.every((v) => typeof v === 'number')) return domain;
        const inside = (constraint.values as number[]).filter(
          (v) => Number.isInteger(v) && v >= domain.from && v <= domain.to,
        );
        return { kind: 'values', values: [...new Set(inside)].sort((a, b) => a - b) };
      }
      const { low, high, lowStrict, highStrict } = constraint;
      const from = Math.max(domain.from, lowStrict ? Math.floor(low) + 1 : Math.ceil(low));
      const to = Math.min(domain.to, highStrict ? Math.ceil(high) - 1 : Math.floor(high));
      return { kind: 'range', from, to };
    }
    case 'days':
      // Narrowed on the column, before the image is taken (narrowDays).
      return domain;
    case 'table':
      // The table's values are known only at execution; a list of literals is itself a domain.
      return constraint.kind === 'in' ? { kind: 'values', values: [...new Set(constraint.values)] } : domain;
  }
}

function isEmpty(domain: PublicDomain): boolean {
  if (domain.kind === 'values') return domain.values.length === 0;
  if (domain.kind === 'range') return domain.from > domain.to;
  return false;
}

/**
 * A date or timestamp column's public range of days narrowed by conjuncts comparing the column (or
 * a column joined equal to it) with a day written `'YYYY-MM-DD'` (or `DATE '…'`): `=`, `<`, `≤`,
 * `>`, `≥`, BETWEEN. On a timestamp a day literal is its midnight, so `ts > '2023-01-01'` still
 * reaches that day and `ts < '2023-01-01'` ends the day before; on a date `d > '2023-01-01'` starts
 * the next day. A literal with a time of day, or any other form, narrows nothing. Every row read
 * satisfies each conjunct, so the days dropped hold no row whatever the data.
 */
export function narrowDays(
  column: Expr,
  type: 'date' | 'timestamp',
  range: DayRange,
  conditions: readonly Expr[],
): DayRange {
  const equal = equalColumns(column, conditions);
  const onColumn = (e: Expr) => equal.has(expressionKey(e));
  let { from, to } = range;
  const atLeast = (day: number) => {
    from = Math.max(from, day);
  };
  const atMost = (day: number) => {
    to = Math.min(to, day);
  };
  for (const condition of conditions) {
    if (condition.kind !== 'operator' || !condition.left) continue;
    const { form, operator, left } = condition;
    if (form === 'AEXPR_BETWEEN' && onColumn(left)) {
      const [low, high] = (condition.right as readonly Expr[]).map(dayLiteral);
      if (low !== undefined && high !== undefined) {
        atLeast(low);
        atMost(high);
      }
      continue;
    }
    if (form !== 'AEXPR_OP') continue;
    const right = condition.right as Expr;
    const [day, op] = onColumn(left)
      ? [dayLiteral(right), operator]
      : onColumn(right)
        ? [dayLiteral(left), FLIPPED[operator]]
        : [undefined, undefined];
    if (day === undefined) continue;
    if (op === '=' || op === '>=') atLeast(day);
    if (op === '=' || op === '<=') atMost(day);
    if (op === '>') atLeast(type === 'date' ? day + 1 : day);
    if (op === '<') atMost(day - 1);
  }
  return from <= to ? { from, to } : range;
}

/** The day number of `'YYYY-MM-DD'`, bare or cast to date or timestamp. */
function dayLiteral(expr: Expr): number | undefined {
  const inner =
    expr.kind === 'cast' && (expr.target === 'date' || expr.target === 'timestamp') ? expr.arg : expr;
  return inner.kind === 'constant' && inner.literal === 'string' ? dayNumber(String(inner.value)) : undefined;
}

/** How many values a domain releases, when that is known before execution (not for a public table's column). */
export function publicDomainSize(domain: PublicDomain): number | undefined {
  switch (domain.kind) {
    case 'values':
      return domain.values.length;
    case 'range':
      return domain.to - domain.from + 1;
    case 'days':
      return seriesDays(dayNumber(domain.from)!, dayNumber(domain.to)!, domain.step).length;
    case 'table':
      return undefined;
  }
}
