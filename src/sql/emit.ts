/**
 * IR back to PostgreSQL syntax trees for the deparser. Nothing the analyst typed is copied as text:
 * identifiers come from policy (tables, columns) or are ours (aliases t1…, columns k0/v0/m0…), and
 * every literal the analyst wrote becomes a `$n` parameter. Columns with policy bounds are read
 * clamped, with a CASE so NULL stays NULL (LEAST/GREATEST would turn NULL into a bound) and NaN
 * goes to the upper bound (PostgreSQL sorts NaN above every number).
 */
import type { Node } from 'libpg-query';
import { walk } from './analyze/public-query.ts';
import type { Expr } from './ir.ts';

/** Literal values bound as `$1, $2, …` in order. */
export class ParameterList {
  readonly values: (string | number | boolean)[] = [];

  /** `$n`, cast when the literal's own type must survive (untyped strings resolve like literals). */
  bind(
    value: string | number | boolean,
    type: 'int4' | 'int8' | 'numeric' | 'bool' | 'text' | undefined,
  ): Node {
    this.values.push(value);
    const param: Node = { ParamRef: { number: this.values.length } };
    return type ? cast(param, type) : param;
  }
}

export function emitExpression(expr: Expr, params: ParameterList): Node {
  const emit = (e: Expr): Node => emitExpression(e, params);
  switch (expr.kind) {
    case 'column': {
      const ref = columnRef(expr.table.alias, expr.column);
      const [low, high] = expr.policy?.bounds ?? [];
      return typeof low === 'number' && typeof high === 'number' ? clamp(ref, low, high) : ref;
    }
    case 'constant':
      return emitConstant(expr, params);
    case 'operator': {
      const right = Array.isArray(expr.right)
        ? { List: { items: expr.right.map(emit) } }
        : emit(expr.right as Expr);
      return {
        A_Expr: {
          kind: expr.form,
          name: [{ String: { sval: expr.operator } }],
          ...(expr.left ? { lexpr: emit(expr.left) } : {}),
          rexpr: right,
        },
      };
    }
    case 'bool':
      return {
        BoolExpr: {
          boolop: ({ and: 'AND_EXPR', or: 'OR_EXPR', not: 'NOT_EXPR' } as const)[expr.operator],
          args: expr.args.map(emit),
        },
      };
    case 'function': {
      const result = call(expr.name, expr.args.map(emit));
      // EXTRACT of an infinite date or timestamp is ±Infinity: read clamped to the field's bounds, as
      // a column with bounds is, so they are a true range (a cast to int of it cannot fail).
      const { bounds } = expr.info;
      return (expr.name === 'extract' || expr.name === 'date_part') && bounds
        ? clamp(result, bounds.low, bounds.high)
        : result;
    }
    case 'case':
      return {
        CaseExpr: {
          ...(expr.subject ? { arg: emit(expr.subject) } : {}),
          args: expr.branches.map((b) => ({ CaseWhen: { expr: emit(b.condition), result: emit(b.result) } })),
          ...(expr.otherwise ? { defresult: emit(expr.otherwise) } : {}),
        },
      };
    case 'variadic':
      return expr.form === 'coalesce'
        ? { CoalesceExpr: { args: expr.args.map(emit) } }
        : {
            MinMaxExpr: { op: expr.form === 'least' ? 'IS_LEAST' : 'IS_GREATEST', args: expr.args.map(emit) },
          };
    case 'null_test':
      return { NullTest: { arg: emit(expr.arg), nulltesttype: expr.negated ? 'IS_NOT_NULL' : 'IS_NULL' } };
    case 'cast':
      return cast(emit(expr.arg), expr.typeName);
    case 'public_subquery':
      return {
        SubLink: {
          subLinkType: ({ exists: 'EXISTS_SUBLINK', in: 'ANY_SUBLINK', scalar: 'EXPR_SUBLINK' } as const)[
            expr.form
          ],
          ...(expr.arg ? { testexpr: emit(expr.arg) } : {}),
          subselect: bindPublicQuery(expr.select as Node, params, expr.schemas),
        },
      };
  }
}

function emitConstant(expr: Extract<Expr, { kind: 'constant' }>, params: ParameterList): Node {
  switch (expr.literal) {
    case 'null':
      return { A_Const: { isnull: true } };
    case 'integer':
      return params.bind(expr.value as number, 'int4');
    case 'decimal':
      return params.bind(expr.value as string, /^-?\d+$/.test(String(expr.value)) ? 'int8' : 'numeric');
    case 'boolean':
      return params.bind(expr.value as boolean, 'bool');
    case 'string':
      return params.bind(expr.value as string, undefined);
  }
}

/**
 * A validated public query or subquery (analyze/public-query.ts) made ready to run: every table
 * qualified with its policy schema (`schemas`, by table name), every literal bound as a parameter. Positional GROUP BY /
 * ORDER BY numbers and type modifiers stay literal: they are syntax, not values.
 */
export function bindPublicQuery(
  node: Node,
  params: ParameterList,
  schemas: Readonly<Record<string, string>>,
): Node {
  const cteNames = new Set<string>();
  walk(node, (key, value) => {
    if (key === 'CommonTableExpr') cteNames.add((value as { ctename?: string }).ctename ?? '');
  });
  const positional = new Set<unknown>();
  walk(node, (key, value) => {
    if (key === 'groupClause') for (const item of value as Node[]) positional.add(item);
    if (key === 'SortBy') positional.add((value as { node?: Node }).node);
  });
  const copy = (value: unknown, key?: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => copy(item));
    if (value === null || typeof value !== 'object') return value;
    if (key === 'typeName' || positional.has(value)) return structuredClone(value);
    const entries = Object.entries(value);
    if (entries.length === 1 && entries[0]![0] === 'A_Const')
      return bindLiteral(entries[0]![1] as never, params);
    const result: Record<string, unknown> = {};
    for (const [k, v] of entries) result[k] = copy(v, k);
    const isCteReference = result.schemaname === undefined && cteNames.has(String(result.relname));
    // Validation resolved every non-CTE table to a policy table, so its schema is known.
    if (key === 'RangeVar' && !isCteReference) {
      const schema = schemas[String(result.relname)];
      if (schema === undefined) throw new Error('bindPublicQuery: a table validation did not resolve');
      result.schemaname = schema;
    }
    return result;
  };
  return copy(node) as Node;
}

function bindLiteral(
  value: {
    ival?: { ival?: number };
    fval?: { fval?: string };
    sval?: { sval?: string };
    boolval?: { boolval?: boolean };
    isnull?: boolean;
  },
  params: ParameterList,
): Node {
  if (value.isnull) return { A_Const: { isnull: true } };
  if (value.ival !== undefined) return params.bind(value.ival.ival ?? 0, 'int4');
  if (value.fval !== undefined)
    return params.bind(value.fval.fval ?? '0', /^-?\d+$/.test(value.fval.fval ?? '') ? 'int8' : 'numeric');
  if (value.boolval !== undefined) return params.bind(value.boolval.boolval ?? false, 'bool');
  return params.bind(value.sval?.sval ?? '', undefined);
}

export function columnRef(...names: string[]): Node {
  return { ColumnRef: { fields: names.map((sval) => ({ String: { sval } })) } };
}

/** A built-in function, schema-qualified so no object on the search path can stand in for it. */
export function call(name: string, args: readonly Node[]): Node {
  return {
    FuncCall: {
      funcname: [{ String: { sval: 'pg_catalog' } }, { String: { sval: name } }],
      args: [...args],
      funcformat: 'COERCE_EXPLICIT_CALL',
    },
  };
}

export function cast(arg: Node, typeName: string): Node {
  return {
    TypeCast: {
      arg,
      typeName: { names: [{ String: { sval: 'pg_catalog' } }, { String: { sval: typeName } }], typemod: -1 },
    },
  };
}

export function operator(name: string, left: Node, right: Node): Node {
  return { A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: name } }], lexpr: left, rexpr: right } };
}

/** A number we computed (a bound, a step, a bucket count): finite by construction, never analyst text. */
export function numberConstant(value: number): Node {
  if (!Number.isFinite(value)) throw new RangeError('numberConstant: not finite');
  if (Number.isInteger(value) && Math.abs(value) < 2 ** 31) return { A_Const: { ival: { ival: value } } };
  return { A_Const: { fval: { fval: decimalText(value) } } };
}

/** CASE WHEN x < low THEN low WHEN x > high THEN high ELSE x END. */
export function clamp(value: Node, low: number, high: number): Node {
  return {
    CaseExpr: {
      args: [
        { CaseWhen: { expr: operator('<', value, numberConstant(low)), result: numberConstant(low) } },
        { CaseWhen: { expr: operator('>', value, numberConstant(high)), result: numberConstant(high) } },
      ],
      defresult: value,
    },
  };
}

/** Plain decimal notation (PostgreSQL reads 1e-7 too, but a decimal keeps numeric exact). */
function decimalText(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  return value.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}
