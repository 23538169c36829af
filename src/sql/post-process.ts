/**
 * Output expressions, HAVING, ORDER BY and LIMIT/OFFSET, evaluated in the gateway on released
 * (noisy) values. Everything here is post-processing of a DP release, so it costs no privacy and
 * may do anything, including failing on a released value; it never sees a true aggregate.
 * Semantics follow PostgreSQL's where it matters to analysts: NULL propagates through arithmetic
 * and comparisons, AND/OR are three-valued, ORDER BY puts NULLs last ascending and first descending.
 */

export type OutputValue = string | number | boolean | null;

export type OutputExpr =
  | { readonly kind: 'key'; readonly index: number }
  | { readonly kind: 'aggregate'; readonly index: number }
  | { readonly kind: 'constant'; readonly value: OutputValue }
  | { readonly kind: 'operator'; readonly operator: string; readonly args: readonly OutputExpr[] }
  | { readonly kind: 'bool'; readonly operator: 'and' | 'or' | 'not'; readonly args: readonly OutputExpr[] }
  | { readonly kind: 'function'; readonly name: string; readonly args: readonly OutputExpr[] }
  | { readonly kind: 'null_test'; readonly arg: OutputExpr; readonly negated: boolean }
  | {
      readonly kind: 'case';
      readonly branches: readonly { readonly condition: OutputExpr; readonly result: OutputExpr }[];
      readonly otherwise: OutputExpr | undefined;
    };

/** One released group: its key values and its aggregates' released values. */
export interface ReleasedGroup {
  readonly keys: readonly OutputValue[];
  readonly aggregates: readonly (number | null)[];
}

type NumberFunction = (...args: number[]) => number;

/** Functions allowed over aggregates in the select list, HAVING and ORDER BY. */
export const OUTPUT_FUNCTIONS: ReadonlyMap<string, NumberFunction> = new Map<string, NumberFunction>([
  ['round', (x, digits = 0) => roundHalfAway(x, digits)],
  ['trunc', (x, digits = 0) => Math.trunc(x * 10 ** digits) / 10 ** digits],
  ['floor', Math.floor],
  ['ceil', Math.ceil],
  ['ceiling', Math.ceil],
  ['abs', Math.abs],
  ['sign', Math.sign],
  ['sqrt', Math.sqrt],
  ['exp', Math.exp],
  ['ln', Math.log],
  ['log', (a, b) => (b === undefined ? Math.log10(a) : Math.log(b) / Math.log(a))],
  ['power', Math.pow],
]);

export function evaluate(expr: OutputExpr, group: ReleasedGroup): OutputValue {
  switch (expr.kind) {
    case 'key':
      return group.keys[expr.index] ?? null;
    case 'aggregate':
      return group.aggregates[expr.index] ?? null;
    case 'constant':
      return expr.value;
    case 'operator':
      return operator(
        expr.operator,
        expr.args.map((a) => evaluate(a, group)),
      );
    case 'bool':
      return logic(
        expr.operator,
        expr.args.map((a) => evaluate(a, group)),
      );
    case 'null_test': {
      const isNull = evaluate(expr.arg, group) === null;
      return expr.negated ? !isNull : isNull;
    }
    case 'case': {
      for (const branch of expr.branches)
        if (evaluate(branch.condition, group) === true) return evaluate(branch.result, group);
      return expr.otherwise ? evaluate(expr.otherwise, group) : null;
    }
    case 'function':
      return call(
        expr.name,
        expr.args.map((a) => evaluate(a, group)),
      );
  }
}

function operator(name: string, values: readonly OutputValue[]): OutputValue {
  if (values.some((v) => v === null)) return null;
  if (values.length === 1) {
    const value = values[0]!;
    return name === '-' ? -Number(value) : value;
  }
  const [a, b] = values as [Exclude<OutputValue, null>, Exclude<OutputValue, null>];
  switch (name) {
    case '||':
      return `${a}${b}`;
    case '=':
      return a === b;
    case '<>':
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    case '>=':
      return a >= b;
    default:
      return finiteOrNull(arithmetic(name, Number(a), Number(b)));
  }
}

function arithmetic(name: string, a: number, b: number): number {
  switch (name) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b;
    default:
      return Number.NaN;
  }
}

function logic(name: 'and' | 'or' | 'not', values: readonly OutputValue[]): OutputValue {
  if (name === 'not') return values[0] === null ? null : !values[0];
  // FALSE decides an AND, TRUE decides an OR.
  const decisive = name === 'or';
  if (values.some((v) => v === decisive)) return decisive;
  return values.some((v) => v === null) ? null : !decisive;
}

function call(name: string, values: readonly OutputValue[]): OutputValue {
  const present = values.filter((v): v is Exclude<OutputValue, null> => v !== null);
  switch (name) {
    case 'coalesce':
      return present[0] ?? null;
    case 'nullif':
      return values[0] === values[1] ? null : (values[0] ?? null);
    case 'greatest':
      return present.length === 0 ? null : present.reduce((a, b) => (compareValues(b, a) > 0 ? b : a));
    case 'least':
      return present.length === 0 ? null : present.reduce((a, b) => (compareValues(b, a) < 0 ? b : a));
    default: {
      const fn = OUTPUT_FUNCTIONS.get(name);
      if (!fn || present.length < values.length) return null;
      return finiteOrNull(fn(...present.map(Number)));
    }
  }
}

/** PostgreSQL rounds numeric halves away from zero. */
function roundHalfAway(x: number, digits: number): number {
  const factor = 10 ** digits;
  return (Math.sign(x) * Math.round(Math.abs(x) * factor)) / factor;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** PostgreSQL's ordering of two values for ORDER BY; NULLs are placed by the caller. */
export function compareValues(a: Exclude<OutputValue, null>, b: Exclude<OutputValue, null>): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

export interface PostProcessing {
  readonly having: OutputExpr | undefined;
  readonly orderBy: readonly {
    readonly expr: OutputExpr;
    readonly descending: boolean;
    readonly nullsFirst: boolean;
  }[];
  readonly limit: number | undefined;
  readonly offset: number | undefined;
}

/** HAVING, then ORDER BY (stable), then OFFSET and LIMIT, over released groups. */
export function postProcess<G extends ReleasedGroup>(groups: readonly G[], steps: PostProcessing): G[] {
  const kept = steps.having ? groups.filter((g) => evaluate(steps.having!, g) === true) : [...groups];
  if (steps.orderBy.length > 0) {
    const keys = new Map(kept.map((g) => [g, steps.orderBy.map((s) => evaluate(s.expr, g))]));
    kept.sort((x, y) => {
      const [a, b] = [keys.get(x)!, keys.get(y)!];
      for (const [i, step] of steps.orderBy.entries()) {
        const [u, v] = [a[i] ?? null, b[i] ?? null];
        if (u === null || v === null) {
          if (u === v) continue;
          return (u === null) === step.nullsFirst ? -1 : 1;
        }
        const order = compareValues(u, v);
        if (order !== 0) return step.descending ? -order : order;
      }
      return 0;
    });
  }
  const start = steps.offset ?? 0;
  return kept.slice(start, steps.limit === undefined ? undefined : start + steps.limit);
}
