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
import { dayNumber, firstDayOfYear, seriesDays } from '../calendar.ts';
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
    const constraint = constraintOn(condition, (e) => equal.has(expressionKey(e)));
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

/** What `condition` says of the expressions `onKey` accepts. */
function constraintOn(condition: Expr, onKey: (e: Expr) => boolean): Constraint | undefined {
  if (condition.kind === 'bool' && condition.operator === 'or') {
    // `key = 1 OR key IN (2, 3)`: the union of the lists; any other disjunct narrows nothing.
    const lists = condition.args.map((arg) => constraintOn(arg, onKey));
    if (!lists.every((c) => c?.kind === 'in')) return undefined;
    return { kind: 'in', values: lists.flatMap((c) => (c?.kind === 'in' ? c.values : [])) };
  }
  if (condition.kind !== 'operator' || !condition.left) return undefined;
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
 * the next day. A condition on the column's year (`EXTRACT(YEAR FROM col)` or `date_part('year',
 * col)`, read as a key is above) keeps the whole years it allows, a list by its hull. A literal with
 * a time of day, or any other form, narrows nothing. Every row read satisfies each conjunct, so the
 * days dropped hold no row whatever the data.
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
    const years = yearsOf(constraintOn(condition, (e) => isYearOf(e, onColumn)));
    if (years) {
      atLeast(firstDayOfYear(years.from));
      atMost(firstDayOfYear(years.to + 1) - 1);
    }
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

/** `EXTRACT(YEAR FROM col)` or `date_part('year', col)` (cast to an integer or not) of a column `onColumn` accepts. */
function isYearOf(expr: Expr, onColumn: (e: Expr) => boolean): boolean {
  const inner = expr.kind === 'cast' && expr.target === 'int' ? expr.arg : expr;
  if (inner.kind !== 'function' || (inner.name !== 'extract' && inner.name !== 'date_part')) return false;
  const [field, column] = inner.args as [Expr, Expr];
  return (
    field.kind === 'constant' &&
    typeof field.value === 'string' &&
    field.value.toLowerCase() === 'year' &&
    onColumn(column)
  );
}

/** The whole years a constraint on a year allows, as an interval (a list by its hull). */
function yearsOf(constraint: Constraint | undefined): { from: number; to: number } | undefined {
  if (!constraint) return undefined;
  if (constraint.kind === 'in') {
    const years = constraint.values.filter(
      (v): v is number => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 200_000,
    );
    // A list with anything else (`'2023'`, 2023.5) is not read: narrowing nothing is always sound.
    if (years.length === 0 || years.length !== constraint.values.length) return undefined;
    return { from: Math.min(...years), to: Math.max(...years) };
  }
  const { low, high, lowStrict, highStrict } = constraint;
  const from = lowStrict ? Math.floor(low) + 1 : Math.ceil(low);
  const to = highStrict ? Math.ceil(high) - 1 : Math.floor(high);
  // Years far outside the calendar JavaScript dates hold (±275,760) narrow nothing more than these.
  const limit = 200_000;
  return { from: Math.max(from, -limit), to: Math.min(to, limit) };
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
