/**
 * Generated aggregate queries over the demo commons for property tests: literals chosen so they
 * cannot be mistaken for anything the rewrite writes itself, text with the characters naive
 * sanitisers trip on.
 */
import fc from 'fast-check';

/** Numbers that cannot be mistaken for anything the rewrite writes itself (bounds, ranks, buckets). */
const numberLiteral = fc.integer({ min: 1000, max: 99_999 }).map((n) => n + 0.375);
/** Text with the characters naive sanitisers trip on. */
const textLiteral = fc
  .array(fc.constantFrom(...`abcxyz';-/*$\\"() `.split('')), { minLength: 3, maxLength: 12 })
  .map((chars) => `zq${chars.join('')}`);

const numericColumn = fc.constantFrom('age', 'income');
const keyColumn = fc.constantFrom('sex', 'educ', 'married', 'race');

export interface GeneratedQuery {
  readonly sql: string;
  readonly numbers: readonly number[];
  readonly texts: readonly string[];
}

const sqlText = (value: string): string => `'${value.replaceAll("'", "''")}'`;

const condition = fc.oneof(
  fc.tuple(numericColumn, numberLiteral).map(([c, n]) => ({ sql: `${c} > ${n}`, numbers: [n], texts: [] })),
  fc
    .tuple(numericColumn, numberLiteral, numberLiteral)
    .map(([c, a, b]) => ({ sql: `${c} BETWEEN ${a} AND ${b}`, numbers: [a, b], texts: [] })),
  textLiteral.map((t) => ({ sql: `lower(CAST(sex AS text)) = ${sqlText(t)}`, numbers: [], texts: [t] })),
  fc.tuple(textLiteral, textLiteral).map(([a, b]) => ({
    sql: `CAST(race AS text) NOT IN (${sqlText(a)}, ${sqlText(b)})`,
    numbers: [],
    texts: [a, b],
  })),
  textLiteral.map((t) => ({
    sql: `CAST(educ AS text) LIKE ${sqlText(`${t}%`)}`,
    numbers: [],
    texts: [`${t}%`],
  })),
);

const aggregate = fc.oneof(
  fc.constant({ sql: 'COUNT(*)', numbers: [] as number[], texts: [] as string[] }),
  numericColumn.map((c) => ({ sql: `SUM(${c})`, numbers: [], texts: [] })),
  numericColumn.map((c) => ({ sql: `AVG(${c})`, numbers: [], texts: [] })),
  fc
    .tuple(numericColumn, numberLiteral)
    .map(([c, n]) => ({ sql: `SUM(CASE WHEN ${c} > ${n} THEN 1 ELSE 0 END)`, numbers: [n], texts: [] })),
  fc
    .tuple(numericColumn, numberLiteral)
    .map(([c, n]) => ({ sql: `COUNT(*) FILTER (WHERE ${c} < ${n})`, numbers: [n], texts: [] })),
  numericColumn.map((c) => ({
    sql: `PERCENTILE_CONT(0.25) WITHIN GROUP (ORDER BY ${c})`,
    numbers: [],
    texts: [],
  })),
);

export const generatedQuery: fc.Arbitrary<GeneratedQuery> = fc
  .record({
    table: fc.constantFrom('people', 'survey_responses'),
    aggregates: fc.array(aggregate, { minLength: 1, maxLength: 3 }),
    conditions: fc.array(condition, { maxLength: 3 }),
    key: fc.option(keyColumn, { nil: undefined }),
  })
  .map(({ table, aggregates, conditions, key }) => {
    const where = conditions.length > 0 ? ` WHERE ${conditions.map((c) => c.sql).join(' AND ')}` : '';
    const select = [...(key ? [key] : []), ...aggregates.map((a) => a.sql)].join(', ');
    return {
      sql: `SELECT ${select} FROM ${table}${where}${key ? ` GROUP BY ${key}` : ''}`,
      numbers: [...aggregates, ...conditions].flatMap((p) => p.numbers),
      texts: [...aggregates, ...conditions].flatMap((p) => p.texts),
    };
  });
