/**
 * The public domain of a GROUP BY key computed from public-domain columns: the image of the
 * column's domain under the key's expression, computed from the query text and the policy alone.
 *
 * - Integer arithmetic with a constant (`+`, `-`, `*`, `/`, `%`) over a column whose domain is a
 *   list of integers or an integer range: each domain value is mapped with PostgreSQL's int4
 *   semantics (division truncates towards zero, the remainder takes the sign of the dividend), and
 *   the distinct results are the domain (a range when they are consecutive). `educ / 4` over
 *   [1, 16] is [0, 4].
 * - A CASE whose every result is an integer or string literal (`CASE WHEN age < 30 THEN 'young'
 *   … ELSE 'old' END`): its value is one of those literals or NULL whatever the data, so the literals
 *   are the domain, whether or not the columns the conditions read have one (a branch no row can
 *   reach is an empty group, released as a noisy 0).
 *
 * - Over a date or timestamp column with a public range of days (`public_domain: { from, to }`,
 *   narrowed by the query's conditions on the column): the column itself (a date), `col::date`,
 *   `date_trunc('day' | 'week' | 'month' | 'quarter' | 'year', col)` release every day, Monday,
 *   first of month, quarter or year the range reaches (calendar.ts); `EXTRACT(f FROM col)` and
 *   `date_part('f', col)` for the calendar fields (year, quarter, month, week, day, dow, isodow, doy,
 *   isoyear, decade, century; hour and minute of a timestamp) release the field's values over the
 *   range's days, and compose with the integer arithmetic above (`+`, `-`, `*`, and `%`; `/` only
 *   on int4, since EXTRACT returns numeric) and with a cast to an integer type.
 *
 * Every row's key lies in the computed set (NULL is never a released value), so the released groups
 * are a function of public facts alone, exactly as for a column's own domain: no thresholding is
 * needed. Anything else (other functions and casts, real arithmetic, a public table's column, whose
 * values are read only at execution) gets no domain and goes through partition selection.
 */
import { dayText, extractField, TRUNCATION_UNITS, type TruncationUnit, truncateDay } from '../calendar.ts';
import type { Expr } from '../ir.ts';
import type { PublicDomain } from '../plan.ts';

/** An inclusive range of day numbers (calendar.ts). */
export interface DayRange {
  readonly from: number;
  readonly to: number;
}

/** What policy says of the columns a key reads. */
export interface ColumnDomains {
  /** A column's own public domain. */
  readonly domain: (column: Expr) => PublicDomain | undefined;
  /** A date or timestamp column's public range of days, narrowed by the query's conditions. */
  readonly days: (column: Expr) => DayRange | undefined;
}

/** Domains mapped value by value only up to this size; larger ones keep thresholding. */
const MAX_ENUMERATED = 100_000;
const INT4_MIN = -(2 ** 31);
const INT4_MAX = 2 ** 31 - 1;

export function keyImageDomain(expr: Expr, columns: ColumnDomains): PublicDomain | undefined {
  const constants = caseConstants(expr);
  if (constants) return { kind: 'values', values: constants };
  const days = dayImage(expr, columns);
  if (days) return days;
  const values = integerImage(expr, columns);
  return values ? asDomain(values) : undefined;
}

/** The days (as dates) or truncated days (as timestamps) a date key over a public range can take. */
export function dayImage(expr: Expr, columns: ColumnDomains): PublicDomain | undefined {
  const step = (range: DayRange | undefined, unit: TruncationUnit, type: 'date' | 'timestamp') =>
    range && {
      kind: 'days' as const,
      type,
      from: dayText(truncateDay(range.from, unit)),
      to: dayText(truncateDay(range.to, unit)),
      step: unit,
    };
  if (expr.kind === 'column' && expr.info.type === 'date') return step(columns.days(expr), 'day', 'date');
  if (expr.kind === 'cast' && expr.target === 'date' && expr.arg.kind === 'column')
    return step(columns.days(expr.arg), 'day', 'date');
  if (expr.kind === 'function' && expr.name === 'date_trunc') {
    const [field, column] = expr.args as [Expr, Expr];
    const unit = fieldName(field);
    if (column.kind !== 'column' || !(TRUNCATION_UNITS as readonly string[]).includes(unit ?? ''))
      return undefined;
    return step(columns.days(column), unit as TruncationUnit, 'timestamp');
  }
  return undefined;
}

/** The values EXTRACT(field FROM column) takes over the column's public days. */
function extractImage(expr: Expr, columns: ColumnDomains): number[] | undefined {
  if (expr.kind !== 'function' || (expr.name !== 'extract' && expr.name !== 'date_part')) return undefined;
  const [field, column] = expr.args as [Expr, Expr];
  const name = fieldName(field);
  const range = column.kind === 'column' ? columns.days(column) : undefined;
  if (!range || name === undefined) return undefined;
  // Every whole day of a timestamp holds every hour and minute.
  const timeOfDay = column.info.type === 'timestamp' ? TIME_OF_DAY[name] : undefined;
  if (timeOfDay) return Array.from({ length: timeOfDay }, (_, i) => i);
  if (extractField(range.from, name) === undefined) return undefined;
  const values = new Set<number>();
  for (let day = range.from; day <= range.to; day++) values.add(extractField(day, name)!);
  return [...values];
}

/** The fields of a time of day EXTRACT reads from a timestamp, and how many values each has. */
const TIME_OF_DAY: Record<string, number> = { hour: 24, minute: 60 };

/** A date field written as a string constant, in PostgreSQL's case-insensitive spelling. */
function fieldName(expr: Expr): string | undefined {
  return expr.kind === 'constant' && typeof expr.value === 'string' ? expr.value.toLowerCase() : undefined;
}

/** The literals a CASE can return, when every result (and ELSE, if any) is a literal of one type. */
function caseConstants(expr: Expr): (string | number)[] | undefined {
  if (expr.kind !== 'case') return undefined;
  const results = [...expr.branches.map((b) => b.result), ...(expr.otherwise ? [expr.otherwise] : [])];
  const literals = results.filter((r) => !(r.kind === 'constant' && r.literal === 'null'));
  if (literals.length === 0) return undefined;
  const kind = literals[0]!.kind === 'constant' ? literals[0]!.literal : undefined;
  if (kind !== 'integer' && kind !== 'string') return undefined;
  const values: (string | number)[] = [];
  for (const result of literals) {
    if (result.kind !== 'constant' || result.literal !== kind) return undefined;
    const value = result.value as string | number;
    if (kind === 'integer' && !isInt4(value as number)) return undefined;
    if (!values.includes(value)) values.push(value);
  }
  return values;
}

/**
 * The distinct int4 values an integer-valued expression over public-domain columns can take. An
 * EXTRACT is numeric (date_part float8) with integer values: `+`, `-`, `*` and `%` by an integer
 * constant keep its values integers computed as for int4, `/` would not truncate, so only int4
 * expressions divide.
 */
function integerImage(expr: Expr, columns: ColumnDomains): number[] | undefined {
  const extracted = extractImage(expr, columns);
  if (extracted) return extracted.every(isInt4) ? extracted : undefined;
  const { type } = expr.info;
  if (type !== 'int' && type !== 'numeric' && type !== 'real') return undefined;
  if (expr.kind === 'cast') return expr.target === 'int' ? integerImage(expr.arg, columns) : undefined;
  if (expr.kind === 'column') return type === 'int' ? enumerated(columns.domain(expr)) : undefined;
  if (expr.kind !== 'operator' || expr.form !== 'AEXPR_OP' || Array.isArray(expr.right)) return undefined;
  if (expr.operator === '/' && type !== 'int') return undefined;
  const right = expr.right as Expr;
  if (!expr.left) {
    if (expr.operator !== '-') return undefined;
    const inner = integerImage(right, columns);
    return inner && mapped(inner, (x) => -x);
  }
  const [leftConstant, rightConstant] = [integerConstant(expr.left), integerConstant(right)];
  if (rightConstant !== undefined) {
    const inner = integerImage(expr.left, columns);
    return inner && mapped(inner, (x) => apply(expr.operator, x, rightConstant));
  }
  if (leftConstant !== undefined && ['+', '-', '*'].includes(expr.operator)) {
    const inner = integerImage(right, columns);
    return inner && mapped(inner, (x) => apply(expr.operator, leftConstant, x));
  }
  return undefined;
}

/** PostgreSQL's int4 operators; undefined where the result would be an error (never reached). */
function apply(operator: string, a: number, b: number): number | undefined {
  switch (operator) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return b === 0 ? undefined : Math.trunc(a / b);
    case '%':
      // JavaScript's % truncates like PostgreSQL's: the sign of the dividend; -0 is 0.
      return b === 0 ? undefined : (a % b) + 0;
    default:
      return undefined;
  }
}

function mapped(values: readonly number[], f: (x: number) => number | undefined): number[] | undefined {
  const out = new Set<number>();
  for (const x of values) {
    const y = f(x);
    if (y === undefined || !isInt4(y)) return undefined;
    out.add(y);
  }
  return [...out];
}

function enumerated(domain: PublicDomain | undefined): number[] | undefined {
  if (!domain) return undefined;
  if (domain.kind === 'range') {
    if (domain.to - domain.from + 1 > MAX_ENUMERATED) return undefined;
    return Array.from({ length: domain.to - domain.from + 1 }, (_, i) => domain.from + i);
  }
  if (domain.kind === 'values' && domain.values.every((v) => typeof v === 'number' && isInt4(v)))
    return domain.values as number[];
  return undefined;
}

/** Sorted; a range when the values are consecutive (generate_series, no parameter per value). */
function asDomain(values: readonly number[]): PublicDomain {
  const sorted = [...values].sort((a, b) => a - b);
  const [from, to] = [sorted[0]!, sorted.at(-1)!];
  return sorted.length > 1 && to - from + 1 === sorted.length
    ? { kind: 'range', from, to }
    : { kind: 'values', values: sorted };
}

function integerConstant(expr: Expr): number | undefined {
  if (expr.kind === 'constant' && expr.literal === 'integer' && typeof expr.value === 'number')
    return expr.value;
  if (expr.kind === 'operator' && expr.operator === '-' && !expr.left && !Array.isArray(expr.right)) {
    const inner = integerConstant(expr.right as Expr);
    return inner === undefined ? undefined : -inner;
  }
  return undefined;
}

function isInt4(value: number): boolean {
  return Number.isInteger(value) && value >= INT4_MIN && value <= INT4_MAX;
}
