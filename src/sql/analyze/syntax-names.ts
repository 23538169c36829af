/**
 * What a refusal calls a piece of syntax: the SQL the analyst wrote, never the name of the parser's
 * node for it (an analyst writes `GROUPING(x)`, not "GroupingFunc").
 */
import type { Node } from 'libpg-query';

const NODE_WORDS: Record<string, string> = {
  A_ArrayExpr: 'ARRAY[…]',
  A_Indirection: 'subscripts and field selection (x[1], (x).f)',
  A_Star: '*',
  BooleanTest: 'IS [NOT] TRUE / FALSE / UNKNOWN',
  CollateClause: 'COLLATE',
  CurrentOfExpr: 'WHERE CURRENT OF',
  GroupingFunc: 'GROUPING(…)',
  JsonArrayConstructor: 'JSON_ARRAY(…)',
  JsonArrayQueryConstructor: 'JSON_ARRAY(subquery)',
  JsonIsPredicate: 'IS JSON',
  JsonObjectConstructor: 'JSON_OBJECT(…)',
  JsonFuncExpr: 'JSON_QUERY / JSON_VALUE / JSON_EXISTS',
  JsonParseExpr: 'JSON(…)',
  JsonScalarExpr: 'JSON_SCALAR(…)',
  JsonSerializeExpr: 'JSON_SERIALIZE(…)',
  JsonTable: 'JSON_TABLE',
  MergeSupportFunc: 'MERGE_ACTION()',
  MultiAssignRef: 'multiple-column assignment',
  NamedArgExpr: 'named function arguments (name => value)',
  RangeSubselect: 'this subquery',
  RangeTableSample: 'TABLESAMPLE',
  RowExpr: 'ROW(…)',
  SetToDefault: 'DEFAULT',
  XmlExpr: 'XML functions',
  XmlSerialize: 'XMLSERIALIZE',
};

/** A_Expr kinds the analyzer does not accept, as written in SQL. */
const OPERATOR_FORM_WORDS: Record<string, string> = {
  AEXPR_OP_ANY: 'operator ANY (…)',
  AEXPR_OP_ALL: 'operator ALL (…)',
  AEXPR_SIMILAR: 'SIMILAR TO',
  AEXPR_BETWEEN_SYM: 'BETWEEN SYMMETRIC',
  AEXPR_NOT_BETWEEN_SYM: 'NOT BETWEEN SYMMETRIC',
};

const SUBLINK_WORDS: Record<string, string> = {
  ALL_SUBLINK: 'ALL (subquery)',
  ANY_SUBLINK: 'ANY (subquery)',
  ROWCOMPARE_SUBLINK: 'a row comparison with a subquery',
  ARRAY_SUBLINK: 'ARRAY(subquery)',
  MULTIEXPR_SUBLINK: 'a multiple-column subquery',
  CTE_SUBLINK: 'a subquery',
};

export function syntaxWords(node: Node): string {
  return NODE_WORDS[Object.keys(node)[0] ?? ''] ?? 'this syntax';
}

export function operatorFormWords(kind: string | undefined, operator: string): string {
  return (OPERATOR_FORM_WORDS[kind ?? ''] ?? 'this operator form').replace('operator', operator);
}

export function subqueryWords(subLinkType: string | undefined): string {
  return SUBLINK_WORDS[subLinkType ?? ''] ?? 'this kind of subquery';
}
