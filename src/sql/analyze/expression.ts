/**
 * Row-level expressions (WHERE, JOIN ON, GROUP BY keys, aggregate arguments) from the parser's
 * tree to typed IR. Three things are decided here for every node:
 *  - it cannot raise an error that depends on the data (division only by nonzero constants,
 *    arithmetic whose range under policy bounds cannot overflow, casts that cannot fail, patterns
 *    and function options that are constants), since an error is a noiseless answer;
 *  - it calls only allow-listed functions (functions.ts);
 *  - its range under policy bounds, by interval arithmetic (bounds.ts), for sensitivities.
 */
import type { A_Const, A_Expr, FuncCall, Node, SubLink, TypeCast } from 'libpg-query';
import {
  add,
  divideByConstant,
  hull,
  type Interval,
  isFiniteInterval,
  moduloByConstant,
  multiply,
  negate,
  point,
  subtract,
} from '../bounds.ts';
import { clampBounds } from '../clamp.ts';
import {
  CAST_TYPES,
  castCannotFail,
  isNumberType,
  OTHER_AGGREGATES,
  PRIVATE_AGGREGATES,
  ROW_FUNCTIONS,
} from '../functions.ts';
import type { Expr, ExprBody, OperatorForm, ValueInfo, ValueType } from '../ir.ts';
import { refuse } from '../refusal.ts';
import type { AnalysisContext } from './context.ts';
import { checkPublicQuery, checkSelfContained, readsPrivateTable } from './public-query.ts';
import { operatorFormWords, subqueryWords, syntaxWords } from './syntax-names.ts';
import { tableSchemas } from './tables.ts';

/** Resolves column names against the FROM clause in scope. */
export interface RowScope {
  resolve(fields: readonly string[], location: number | undefined): Expr;
}

export interface ExpressionOptions {
  readonly scope: RowScope;
  readonly context: AnalysisContext;
  /** Where the expression sits, for messages ("in WHERE"). */
  readonly clause: string;
  /** What an aggregate call means here: a refusal in WHERE, a nested aggregate inside an aggregate. */
  readonly onAggregate: (call: FuncCall) => never;
}

/** Largest magnitude an int4 expression may reach; beyond it PostgreSQL raises "integer out of range". */
const INT_LIMIT = 2 ** 31 - 1;
/** float8 overflow raises "value out of range"; stay far from it. */
const REAL_LIMIT = 1e300;

const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);
const REGEX_OPERATORS = new Set(['~', '~*', '!~', '!~*']);
/** LIKE written as its operator (`~~`): the same rule as LIKE. */
const LIKE_OPERATORS = new Set(['~~', '~~*', '!~~', '!~~*']);

export function analyzeExpression(node: Node, options: ExpressionOptions): Expr {
  const location = locationOf(node);
  if ('A_Const' in node) return constant(node.A_Const, location);
  if ('ColumnRef' in node) {
    const fields = (node.ColumnRef.fields ?? []).map((field) => {
      if ('String' in field) return field.String.sval ?? '';
      return refuse('row_level_output', `* is not allowed ${options.clause}`, location);
    });
    return options.scope.resolve(fields, location);
  }
  if ('A_Expr' in node) return operatorExpression(node.A_Expr, options, location);
  if ('BoolExpr' in node) {
    const operator = ({ AND_EXPR: 'and', OR_EXPR: 'or', NOT_EXPR: 'not' } as const)[
      node.BoolExpr.boolop ?? 'AND_EXPR'
    ];
    const args = (node.BoolExpr.args ?? []).map((arg) =>
      requireType(analyzeExpression(arg, options), 'bool'),
    );
    return make({ kind: 'bool', operator, args }, { type: 'bool', ...inputsOf(args) }, location);
  }
  if ('NullTest' in node) {
    const arg = analyzeExpression(node.NullTest.arg!, options);
    return make(
      { kind: 'null_test', arg, negated: node.NullTest.nulltesttype === 'IS_NOT_NULL' },
      { type: 'bool', ...inputsOf([arg]) },
      location,
    );
  }
  if ('CaseExpr' in node) return caseExpression(node, options, location);
  if ('CoalesceExpr' in node || 'MinMaxExpr' in node) {
    const form =
      'CoalesceExpr' in node ? 'coalesce' : node.MinMaxExpr.op === 'IS_LEAST' ? 'least' : 'greatest';
    const argNodes = 'CoalesceExpr' in node ? node.CoalesceExpr.args : node.MinMaxExpr.args;
    const args = (argNodes ?? []).map((arg) => analyzeExpression(arg, options));
    // NULL arguments are skipped by all three, so the result may be any argument: their hull,
    // tightened for LEAST/GREATEST by the literals, which are never skipped (clamp.ts).
    const merged = mergedValue(args);
    const bounds = form === 'coalesce' ? merged.bounds : clampBounds(form, merged.bounds, args);
    return make({ kind: 'variadic', form, args }, { ...merged, bounds, ...inputsOf(args) }, location);
  }
  if ('TypeCast' in node) return castExpression(node.TypeCast, options, location);
  if ('FuncCall' in node) return functionCall(node.FuncCall, options, location);
  if ('SubLink' in node) return subquery(node.SubLink, options, location);
  if ('ParamRef' in node) {
    return refuse(
      'unsupported_sql',
      'query parameters ($1, …) are not accepted; write the values in the query',
      location,
    );
  }
  if ('SQLValueFunction' in node) {
    return refuse(
      'forbidden_function',
      `session and clock values (CURRENT_USER, NOW, …) are not allowed ${options.clause}`,
      location,
    );
  }
  return refuse('unsupported_sql', `${syntaxWords(node)} is not supported ${options.clause}`, location);
}

function constant(value: A_Const, location: number): Expr {
  if (value.isnull)
    return make({ kind: 'constant', value: null, literal: 'null' }, { type: 'unknown' }, location);
  if (value.ival !== undefined) {
    const n = value.ival.ival ?? 0;
    return make(
      { kind: 'constant', value: n, literal: 'integer' },
      { type: 'int', bounds: point(n) },
      location,
    );
  }
  if (value.fval !== undefined) {
    const text = value.fval.fval ?? '0';
    // Integer literals beyond int4 arrive as fval text too; they are still integers.
    const type: ValueType = /^-?\d+$/.test(text) ? 'int' : 'numeric';
    return make(
      { kind: 'constant', value: text, literal: 'decimal' },
      { type, bounds: point(Number(text)) },
      location,
    );
  }
  if (value.boolval !== undefined) {
    return make(
      { kind: 'constant', value: value.boolval.boolval ?? false, literal: 'boolean' },
      { type: 'bool' },
      location,
    );
  }
  if (value.sval !== undefined) {
    return make(
      { kind: 'constant', value: value.sval.sval ?? '', literal: 'string' },
      { type: 'unknown' },
      location,
    );
  }
  return refuse('unsupported_sql', 'bit-string literals are not supported', location);
}

function operatorExpression(expr: A_Expr, options: ExpressionOptions, location: number): Expr {
  const kind = expr.kind ?? 'AEXPR_OP';
  const operator = (expr.name ?? []).map((part) => ('String' in part ? part.String.sval : '')).at(-1) ?? '';
  // Refused on sight, before their operands are looked at (SIMILAR TO wraps its pattern in a call).
  if (kind === 'AEXPR_SIMILAR' || (kind === 'AEXPR_OP' && REGEX_OPERATORS.has(operator))) {
    refuse(
      'data_dependent_error',
      `regular expressions (${kind === 'AEXPR_SIMILAR' ? 'SIMILAR TO' : operator}) are not allowed ${options.clause}: they can fail or run long depending on the data`,
      location,
    );
  }
  const left = expr.lexpr ? analyzeExpression(expr.lexpr, options) : undefined;
  const rightList = expr.rexpr && 'List' in expr.rexpr ? (expr.rexpr.List.items ?? []) : undefined;
  const right = rightList
    ? rightList.map((item) => analyzeExpression(item, options))
    : expr.rexpr
      ? analyzeExpression(expr.rexpr, options)
      : refuse('unsupported_sql', `operator ${operator} needs a right operand`, location);
  const operands = [...(left ? [left] : []), ...(Array.isArray(right) ? right : [right as Expr])];
  const build = (form: OperatorForm, info: Pick<ValueInfo, 'type' | 'bounds' | 'granularity'>): Expr =>
    make({ kind: 'operator', form, operator, left, right }, { ...info, ...inputsOf(operands) }, location);

  if (
    kind === 'AEXPR_LIKE' ||
    kind === 'AEXPR_ILIKE' ||
    (kind === 'AEXPR_OP' && LIKE_OPERATORS.has(operator))
  ) {
    // A pattern can be malformed (a trailing escape); only a constant one fails independently of data.
    if (!isConstant(right as Expr))
      refuse('data_dependent_error', `the pattern of LIKE must be a constant ${options.clause}`, location);
    return build(kind, { type: 'bool' });
  }
  switch (kind) {
    case 'AEXPR_IN':
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN':
    case 'AEXPR_DISTINCT':
    case 'AEXPR_NOT_DISTINCT':
      return build(kind, { type: 'bool' });
    case 'AEXPR_NULLIF': {
      const first = left!;
      return build(kind, {
        type: first.info.type,
        bounds: first.info.bounds,
        granularity: first.info.granularity,
      });
    }
    case 'AEXPR_OP':
      break;
    default:
      return refuse(
        'unsupported_sql',
        `${operatorFormWords(kind, operator)} is not supported ${options.clause}`,
        location,
      );
  }
  const rightOperand = right as Expr;
  if (COMPARISONS.has(operator)) return build(kind, { type: 'bool' });
  if (operator === '||') return build(kind, { type: 'text' });
  if (!ARITHMETIC.has(operator)) {
    return refuse('unsupported_sql', `operator ${operator} is not supported ${options.clause}`, location);
  }
  for (const operand of operands) {
    if (!isNumberType(operand.info.type) && operand.info.type !== 'unknown') {
      refuse('unsupported_sql', `arithmetic (${operator}) needs numbers ${options.clause}`, operand.location);
    }
  }
  const type = arithmeticType(operands.map((o) => o.info.type));
  const result = build(kind, {
    type,
    bounds: arithmeticBounds(operator, left, rightOperand, options, location),
    granularity: finest(operands),
  });
  return checkOverflow(result, options);
}

function arithmeticBounds(
  operator: string,
  left: Expr | undefined,
  right: Expr,
  options: ExpressionOptions,
  location: number,
): Interval | undefined {
  if (operator === '/' || operator === '%') {
    const divisor = right.info.bounds;
    if (!isConstant(right)) {
      refuse(
        'data_dependent_error',
        `division by an expression that reads data can fail (division by zero) ${options.clause}; divide by a constant, or divide aggregates in the select list`,
        right.location,
      );
    }
    if (!divisor || divisor.low !== divisor.high || divisor.low === 0) {
      refuse('data_dependent_error', `division by zero ${options.clause}`, location);
    }
    if (!left?.info.bounds) return undefined;
    return operator === '/'
      ? divideByConstant(left.info.bounds, divisor.low)
      : moduloByConstant(left.info.bounds, divisor.low);
  }
  if (!left) return right.info.bounds && (operator === '-' ? negate(right.info.bounds) : right.info.bounds);
  const [a, b] = [left.info.bounds, right.info.bounds];
  if (!a || !b) return undefined;
  if (operator === '+') return add(a, b);
  if (operator === '-') return subtract(a, b);
  return multiply(a, b);
}

/**
 * int4 and float8 arithmetic raise an error on overflow. Columns are clamped to their bounds before
 * the analyst's expression sees them (rewrite), so the interval is a true range and the check is
 * decided by the query text and policy alone. Without bounds nothing limits the range: refuse.
 */
function checkOverflow(expr: Expr, options: ExpressionOptions): Expr {
  const { bounds, type } = expr.info;
  if (isConstant(expr) || type === 'numeric') return expr;
  if (!bounds) {
    return refuse(
      'unbounded_column',
      `arithmetic ${options.clause} on a column without policy bounds can overflow; only columns with bounds can be computed with`,
      expr.location,
    );
  }
  const limit = type === 'int' ? INT_LIMIT : REAL_LIMIT;
  if (!(isFiniteInterval(bounds) && Math.max(-bounds.low, bounds.high) <= limit)) {
    refuse(
      'data_dependent_error',
      `this arithmetic can overflow ${type === 'int' ? 'integer' : 'double precision'} range under the policy bounds ${options.clause}; cast to numeric first`,
      expr.location,
    );
  }
  return expr;
}

function arithmeticType(types: readonly ValueType[]): ValueType {
  if (types.includes('real')) return 'real';
  if (types.includes('numeric')) return 'numeric';
  return 'int';
}

function caseExpression(
  node: Extract<Node, { CaseExpr: unknown }>,
  options: ExpressionOptions,
  location: number,
): Expr {
  const caseExpr = node.CaseExpr;
  const subject = caseExpr.arg ? analyzeExpression(caseExpr.arg, options) : undefined;
  const branches = (caseExpr.args ?? []).map((when) => {
    if (!('CaseWhen' in when)) return refuse('unsupported_sql', 'malformed CASE', location);
    const condition = analyzeExpression(when.CaseWhen.expr!, options);
    return {
      condition: subject ? condition : requireType(condition, 'bool'),
      result: analyzeExpression(when.CaseWhen.result!, options),
    };
  });
  const otherwise = caseExpr.defresult ? analyzeExpression(caseExpr.defresult, options) : undefined;
  const results = [...branches.map((b) => b.result), ...(otherwise ? [otherwise] : [])];
  const inputs = [
    ...(subject ? [subject] : []),
    ...branches.flatMap((b) => [b.condition, b.result]),
    ...(otherwise ? [otherwise] : []),
  ];
  return make(
    { kind: 'case', subject, branches, otherwise },
    { ...mergedValue(results), ...inputsOf(inputs) },
    location,
  );
}

/** The common type and range of values that may each be the result (NULL literals add nothing). */
function mergedValue(results: readonly Expr[]): Pick<ValueInfo, 'type' | 'bounds' | 'granularity'> {
  const values = results.filter((r) => !(r.kind === 'constant' && r.literal === 'null'));
  const types = values.map((v) => v.info.type).filter((t) => t !== 'unknown');
  const type: ValueType =
    types.every(isNumberType) && types.length > 0 ? arithmeticType(types) : (types[0] ?? 'unknown');
  const bounds =
    values.every((v) => v.info.bounds) && values.length > 0
      ? hull(values.map((v) => v.info.bounds!))
      : undefined;
  return { type, bounds, granularity: finest(values) };
}

function castExpression(cast: TypeCast, options: ExpressionOptions, location: number): Expr {
  const names = (cast.typeName?.names ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
  const typeName = names.at(-1) ?? '';
  if (/^reg/.test(typeName) || (names.length > 1 && names[0] !== 'pg_catalog')) {
    refuse('system_catalog', `casts to ${names.join('.')} are not allowed`, location);
  }
  const target = CAST_TYPES.get(typeName);
  if (!target || cast.typeName?.arrayBounds)
    refuse('unsupported_sql', `casts to ${typeName} are not supported ${options.clause}`, location);
  const arg = analyzeExpression(cast.arg!, options);
  if (!isConstant(arg) && !castCannotFail(arg.info.type, target, arg.info.bounds)) {
    refuse(
      'data_dependent_error',
      `a cast from ${arg.info.type} to ${typeName} can fail depending on the data ${options.clause}`,
      location,
    );
  }
  const keepsRange = isNumberType(arg.info.type) && isNumberType(target.type) && arg.info.bounds;
  // Casting a real to int rounds each value by at most 1/2.
  const bounds = keepsRange
    ? { low: Math.floor(arg.info.bounds!.low), high: Math.ceil(arg.info.bounds!.high) }
    : undefined;
  const literal = arg.kind === 'constant' && arg.literal !== 'null' ? point(Number(arg.value)) : undefined;
  return make(
    { kind: 'cast', arg, target: target.type, typeName: target.catalogName },
    {
      type: target.type,
      bounds:
        bounds ??
        (isNumberType(target.type) && literal && Number.isFinite(literal.low) ? literal : undefined),
      granularity: arg.info.granularity,
      ...inputsOf([arg]),
    },
    location,
  );
}

function functionCall(call: FuncCall, options: ExpressionOptions, location: number): Expr {
  const names = (call.funcname ?? []).map((n) => ('String' in n ? (n.String.sval ?? '') : ''));
  const name = names.at(-1) ?? '';
  if (call.over)
    refuse(
      'window_function',
      `window functions (${name} OVER …) are not allowed: they release row-level values`,
      location,
    );
  if (names.length > 1 && names[0] !== 'pg_catalog') {
    refuse(
      'forbidden_function',
      `function ${names.join('.')} is not allowed; only built-in functions can be used`,
      location,
    );
  }
  if (call.agg_star || call.agg_distinct || call.agg_order || call.agg_filter || isAggregateName(name)) {
    return options.onAggregate(call);
  }
  const spec = ROW_FUNCTIONS.get(name);
  if (!spec) {
    return refuse(
      'forbidden_function',
      `function ${name} is not allowed ${options.clause}; allowed: ${[...ROW_FUNCTIONS.keys()].join(', ')}`,
      location,
    );
  }
  const args = (call.args ?? []).map((arg) => analyzeExpression(arg, options));
  if (args.length < spec.minArgs || args.length > spec.maxArgs) {
    refuse(
      'unsupported_sql',
      `${name} takes ${spec.minArgs === spec.maxArgs ? spec.minArgs : `${spec.minArgs} to ${spec.maxArgs}`} arguments`,
      location,
    );
  }
  args.forEach((arg, index) => {
    if (spec.constantArgs?.includes(index)) {
      if (!isConstant(arg))
        refuse(
          'data_dependent_error',
          `argument ${index + 1} of ${name} must be a constant: with data it can fail`,
          arg.location,
        );
    } else if (spec.argType && !argumentFits(arg.info.type, spec.argType)) {
      refuse('unsupported_sql', `${name} needs a ${spec.argType} argument`, arg.location);
    }
  });
  const result = spec.result(args.map((a) => a.info));
  const bounds = name === 'extract' || name === 'date_part' ? extractBounds(args[0]!) : result.bounds;
  return make(
    { kind: 'function', name, args },
    { ...result, ...(bounds ? { bounds } : {}), granularity: finest(args), ...inputsOf(args) },
    location,
  );
}

/**
 * The values a calendar field of EXTRACT / date_part can take on any date or timestamp PostgreSQL
 * holds (years 4713 BC to 5874897 AD), whatever the data: so `EXTRACT(YEAR FROM d) - 2000` is
 * bounded arithmetic. Other fields (epoch, seconds, time zones) have no bounds here.
 */
function extractBounds(field: Expr): Interval | undefined {
  const name = field.kind === 'constant' && typeof field.value === 'string' ? field.value.toLowerCase() : '';
  return EXTRACT_BOUNDS[name];
}

const EXTRACT_BOUNDS: Record<string, Interval> = {
  year: { low: -4713, high: 5_874_897 },
  isoyear: { low: -4713, high: 5_874_898 },
  decade: { low: -472, high: 587_489 },
  century: { low: -48, high: 58_749 },
  quarter: { low: 1, high: 4 },
  month: { low: 1, high: 12 },
  week: { low: 1, high: 53 },
  day: { low: 1, high: 31 },
  doy: { low: 1, high: 366 },
  dow: { low: 0, high: 6 },
  isodow: { low: 1, high: 7 },
  hour: { low: 0, high: 23 },
  minute: { low: 0, high: 59 },
};

function argumentFits(type: ValueType, wanted: 'number' | 'text' | 'temporal'): boolean {
  if (type === 'unknown') return true;
  if (wanted === 'number') return isNumberType(type);
  if (wanted === 'text') return type === 'text';
  return type === 'date' || type === 'timestamp';
}

function subquery(link: SubLink, options: ExpressionOptions, location: number): Expr {
  const form = ({ EXISTS_SUBLINK: 'exists', ANY_SUBLINK: 'in', EXPR_SUBLINK: 'scalar' } as const)[
    link.subLinkType as 'EXISTS_SUBLINK' | 'ANY_SUBLINK' | 'EXPR_SUBLINK'
  ];
  if (!form)
    return refuse('unsupported_sql', `${subqueryWords(link.subLinkType)} is not supported`, location);
  const operator = (link.operName ?? []).map((n) => ('String' in n ? n.String.sval : '')).join('.');
  if (form === 'in' && operator !== '' && operator !== '=') {
    refuse('unsupported_sql', `only IN (subquery) is supported, not ${operator} ANY`, location);
  }
  if (readsPrivateTable(link.subselect!, options.context)) {
    refuse(
      'private_subquery',
      `a subquery ${options.clause} reads a private table; join it on the person instead (only subqueries over public tables are allowed here)`,
      location,
    );
  }
  checkSelfContained(link.subselect!, options.context);
  checkPublicQuery(link.subselect!, options.context);
  const arg = link.testexpr ? analyzeExpression(link.testexpr, options) : undefined;
  const type: ValueType = form === 'scalar' ? 'unknown' : 'bool';
  return make(
    {
      kind: 'public_subquery',
      form,
      select: link.subselect,
      schemas: tableSchemas(options.context.policy),
      arg,
    },
    { type, ...inputsOf(arg ? [arg] : []), readsData: true },
    location,
  );
}

export function isAggregateName(name: string): boolean {
  return PRIVATE_AGGREGATES.has(name) || OTHER_AGGREGATES.has(name);
}

/** A value decided by the query text alone: no column, no subquery. */
export function isConstant(expr: Expr): boolean {
  return !expr.info.readsData;
}

export function requireType(expr: Expr, type: ValueType): Expr {
  if (expr.info.type !== type && expr.info.type !== 'unknown') {
    refuse('unsupported_sql', `expected a ${type === 'bool' ? 'condition' : type} here`, expr.location);
  }
  return expr;
}

function inputsOf(inputs: readonly Expr[]): Pick<ValueInfo, 'private' | 'unit' | 'readsData'> {
  return {
    private: inputs.some((i) => i.info.private),
    unit: inputs.some((i) => i.info.unit),
    readsData: inputs.some((i) => i.info.readsData),
  };
}

function finest(inputs: readonly Expr[]): number | undefined {
  const steps = inputs.map((i) => i.info.granularity).filter((g): g is number => g !== undefined);
  return steps.length > 0 ? Math.min(...steps) : undefined;
}

function make(body: ExprBody, info: Partial<ValueInfo> & { type: ValueType }, location: number): Expr {
  const complete: ValueInfo = {
    type: info.type,
    private: info.private ?? false,
    unit: info.unit ?? false,
    readsData: info.readsData ?? false,
    ...(info.bounds ? { bounds: info.bounds } : {}),
    ...(info.granularity !== undefined ? { granularity: info.granularity } : {}),
  };
  return { ...body, info: complete, location } as Expr;
}

/** The parser's `location` of a node, when it has one. */
export function locationOf(node: Node): number {
  const value = Object.values(node)[0] as { location?: number } | undefined;
  return typeof value?.location === 'number' ? value.location : -1;
}
