/**
 * The query corpus over the demo commons: every query is either accepted, with the communities it
 * is charged to and the L1 sensitivity of each measurement (people: 1 row and 1 group per person;
 * survey_responses: 2 rows and 2 groups; joined: 1·2 = 2 rows, min(1, 2) = 1 group), or refused
 * with its stable code. Used by corpus.test.ts (planning), execution.test.ts (every accepted query
 * runs on the database) and bench/sql.bench.ts.
 */
import type { Role } from '../../src/policy/schema.ts';
import type { QueryRequest, SqlRefusalCode } from '../../src/sql/index.ts';
import { ALL_COMMUNITIES } from './demo-policy.ts';

export type AcceptedCase =
  | {
      sql: string;
      scope: string[];
      l1: number[];
      grouping?: 'none' | 'public' | 'selected';
      /** Groups released from listed public domains (values or ranges), after WHERE narrowed them. */
      cells?: number;
    }
  | { sql: string; free: true };
export interface RefusedCase {
  sql: string;
  refuse: SqlRefusalCode;
  role?: Role;
  request?: QueryRequest;
  hidden?: true;
}

const ALL = ALL_COMMUNITIES;

export const ACCEPTED: AcceptedCase[] = [
  // Single tables, no GROUP BY: one group, so one person moves a value by rows × value bound.
  { sql: 'SELECT COUNT(*) FROM people', scope: ALL, l1: [1], grouping: 'none' },
  { sql: 'SELECT COUNT(*) FROM survey_responses', scope: ALL, l1: [2], grouping: 'none' },
  { sql: 'SELECT COUNT(age) FROM people', scope: ALL, l1: [1] },
  { sql: 'SELECT COUNT(DISTINCT person_id) FROM survey_responses', scope: ALL, l1: [1] },
  { sql: 'SELECT SUM(age) FROM people', scope: ALL, l1: [100] },
  { sql: 'SELECT SUM(income) FROM people', scope: ALL, l1: [500000] },
  { sql: 'SELECT SUM(income) FROM survey_responses', scope: ALL, l1: [1000000] },
  { sql: 'SELECT AVG(age) FROM people', scope: ALL, l1: [100, 1] },
  { sql: 'SELECT AVG(age), SUM(age), COUNT(age) FROM people', scope: ALL, l1: [100, 1] },
  { sql: 'SELECT VAR_POP(age) FROM people', scope: ALL, l1: [10000, 100, 1] },
  {
    sql: 'SELECT STDDEV(age), VARIANCE(age), STDDEV_SAMP(age), VAR_SAMP(age) FROM people',
    scope: ALL,
    l1: [10000, 100, 1],
  },
  // Aggregates over expressions: bounds by interval arithmetic.
  { sql: 'SELECT SUM(age * 2) FROM people', scope: ALL, l1: [200] },
  { sql: 'SELECT SUM(age - 50) FROM people', scope: ALL, l1: [50] },
  { sql: 'SELECT SUM(-income) FROM people', scope: ALL, l1: [500000] },
  { sql: 'SELECT SUM(age / 10) FROM people', scope: ALL, l1: [10] },
  { sql: 'SELECT SUM(CASE WHEN sex = 1 THEN income ELSE 0 END) FROM people', scope: ALL, l1: [500000] },
  // Two-stage: per person first (one row per person, n ∈ [0, 2], total ∈ [0, 2·500000]), then
  // across persons; more forms in two-stage.test.ts.
  {
    sql: 'SELECT COUNT(*) FROM (SELECT person_id, COUNT(*) AS n FROM survey_responses GROUP BY person_id) t WHERE n > 1',
    scope: ALL,
    l1: [1],
    grouping: 'none',
  },
  {
    sql: 'SELECT AVG(total) FROM (SELECT person_id, SUM(income) AS total FROM survey_responses GROUP BY person_id) t',
    scope: ALL,
    l1: [1000000, 1],
  },
  // Keys computed from public domains release the image of the domain; more in key-image.test.ts.
  {
    sql: "SELECT CASE WHEN age < 30 THEN 'young' ELSE 'older' END AS band, COUNT(*) FROM people GROUP BY 1",
    scope: ALL,
    l1: [1],
    grouping: 'public',
    cells: 2,
  },
  // LEAST(age, 30) ∈ [0, 30], GREATEST(age, 90) ∈ [90, 100]: a literal is never skipped as NULL.
  { sql: 'SELECT SUM(LEAST(age, 30) + GREATEST(age, 90)) FROM people', scope: ALL, l1: [130] },
  { sql: 'SELECT SUM(COALESCE(age, 0) + ABS(age - 200)) FROM people', scope: ALL, l1: [300] },
  { sql: 'SELECT SUM(age::numeric * 0.5) FROM people', scope: ALL, l1: [51200] },
  {
    sql: 'SELECT SUM(age) FILTER (WHERE sex = 1), COUNT(*) FILTER (WHERE married = 1) FROM people',
    scope: ALL,
    l1: [100, 1],
  },
  // WHERE and the community scope (DESIGN §3).
  { sql: "SELECT COUNT(*) FROM people WHERE community_id = 'riverside'", scope: ['riverside'], l1: [1] },
  {
    sql: "SELECT COUNT(*) FROM people WHERE community_id IN ('riverside', 'lakeside') AND age > 30",
    scope: ['lakeside', 'riverside'],
    l1: [1],
  },
  { sql: "SELECT COUNT(*) FROM people WHERE community_id = 'riverside' OR age > 30", scope: ALL, l1: [1] },
  { sql: "SELECT COUNT(*) FROM people WHERE community_id <> 'riverside'", scope: ALL, l1: [1] },
  {
    sql: 'SELECT COUNT(*) FROM people WHERE age BETWEEN 20 AND 30 AND sex IN (0, 1) AND income IS NOT NULL AND NOT married = 1',
    scope: ALL,
    l1: [1],
  },
  {
    sql: "SELECT COUNT(*) FROM people WHERE community_id LIKE 'river%' AND lower(community_id) <> 'x'",
    scope: ALL,
    l1: [1],
  },
  { sql: 'SELECT COUNT(*) FROM people WHERE person_id = 42', scope: ALL, l1: [1] },
  {
    sql: "SELECT COUNT(*) FROM people WHERE community_id IN (SELECT community_id FROM communities WHERE region = 'north')",
    scope: ALL,
    l1: [1],
  },
  // Joins on the person (ON and USING), and with the public table.
  {
    sql: 'SELECT COUNT(*) FROM people p JOIN survey_responses s ON p.person_id = s.person_id',
    scope: ALL,
    l1: [2],
  },
  {
    sql: "SELECT AVG(s.income) FROM people p JOIN survey_responses s USING (person_id) WHERE p.community_id = 'hillcrest'",
    scope: ['hillcrest'],
    l1: [1000000, 2],
  },
  {
    sql: "SELECT COUNT(*) FROM survey_responses s JOIN people p ON s.person_id = p.person_id AND p.community_id = 'lakeside'",
    scope: ['lakeside'],
    l1: [2],
  },
  { sql: 'SELECT COUNT(*) FROM people a JOIN people b ON a.person_id = b.person_id', scope: ALL, l1: [1] },
  {
    sql: 'SELECT region, COUNT(*) FROM people JOIN communities USING (community_id) GROUP BY region',
    scope: ALL,
    l1: [1],
    grouping: 'public',
  },
  {
    sql: 'SELECT c.name, SUM(p.age) FROM communities c JOIN people p ON p.community_id = c.community_id GROUP BY c.name',
    scope: ALL,
    l1: [100],
    grouping: 'public',
  },
  // CTEs and FROM subqueries that keep the person.
  {
    sql: 'WITH adults AS (SELECT person_id, age FROM people WHERE age >= 18) SELECT COUNT(*), AVG(age) FROM adults',
    scope: ALL,
    l1: [1, 100, 1],
  },
  {
    sql: "WITH r AS (SELECT * FROM people WHERE community_id = 'riverside') SELECT sex, COUNT(*) FROM r GROUP BY sex",
    scope: ['riverside'],
    l1: [1],
    grouping: 'public',
  },
  {
    sql: 'SELECT COUNT(*) FROM (SELECT person_id, income * 2 AS doubled FROM people) t WHERE t.doubled > 1000',
    scope: ALL,
    l1: [1],
  },
  { sql: 'SELECT SUM(x) FROM (SELECT age + 1 AS x FROM survey_responses) AS t(x)', scope: ALL, l1: [202] },
  {
    sql: 'WITH s AS (SELECT person_id, educ FROM survey_responses) SELECT COUNT(*) FROM s JOIN people p USING (person_id)',
    scope: ALL,
    l1: [2],
  },
  // GROUP BY with public domains: every value released, empty groups included.
  { sql: 'SELECT sex, COUNT(*) FROM people GROUP BY sex', scope: ALL, l1: [1], grouping: 'public' },
  {
    sql: 'SELECT educ, COUNT(*) FROM survey_responses GROUP BY educ',
    scope: ALL,
    l1: [4],
    grouping: 'public',
  },
  {
    sql: 'SELECT educ, sex, COUNT(*) FROM survey_responses WHERE educ > 14 GROUP BY educ, sex',
    scope: ALL,
    l1: [4],
    grouping: 'public',
    cells: 4,
  },
  {
    sql: 'SELECT community_id, AVG(age) FROM people GROUP BY community_id',
    scope: ALL,
    l1: [100, 1],
    grouping: 'public',
  },
  {
    sql: 'SELECT s.race, COUNT(*) FROM people p JOIN survey_responses s USING (person_id) GROUP BY s.race',
    scope: ALL,
    l1: [2],
    grouping: 'public',
  },
  // Public domains narrowed by top-level conjuncts on the key (or on a column joined equal to it):
  // fewer released groups, and a person can be in no more groups than are left (k = min(k, cells)).
  {
    sql: 'SELECT educ, COUNT(*) FROM people WHERE educ IN (1, 2) GROUP BY educ',
    scope: ALL,
    l1: [1],
    grouping: 'public',
    cells: 2,
  },
  {
    sql: 'SELECT educ, COUNT(*) FROM survey_responses WHERE educ = 3 GROUP BY educ',
    scope: ALL,
    l1: [2],
    cells: 1,
  },
  {
    sql: 'SELECT educ, SUM(income) FROM survey_responses WHERE educ >= 3 AND 4 > educ GROUP BY educ',
    scope: ALL,
    l1: [1000000],
    cells: 1,
  },
  {
    sql: 'SELECT educ, sex, COUNT(*) FROM survey_responses WHERE educ BETWEEN 15 AND 20 AND sex = 1 GROUP BY educ, sex',
    scope: ALL,
    l1: [4],
    cells: 2,
  },
  {
    sql: 'SELECT race, COUNT(*) FROM survey_responses WHERE race = 1 OR race IN (2, 9) GROUP BY race',
    scope: ALL,
    l1: [4],
    cells: 2,
  },
  {
    sql: "SELECT region, COUNT(*) FROM people JOIN communities USING (community_id) WHERE region IN ('north', 'south') GROUP BY region",
    scope: ALL,
    l1: [1],
    cells: 2,
  },
  {
    sql: "SELECT p.community_id, AVG(p.age) FROM people p JOIN communities c ON p.community_id = c.community_id WHERE c.community_id = 'riverside' GROUP BY 1",
    scope: ALL,
    l1: [100, 1],
    cells: 1,
  },
  // … and conditions the planner cannot read exactly narrow nothing.
  {
    sql: "SELECT educ, COUNT(*) FROM people WHERE educ::text = '1' GROUP BY educ",
    scope: ALL,
    l1: [1],
    cells: 16,
  },
  {
    sql: 'SELECT educ, COUNT(*) FROM people WHERE educ = 1 OR age > 3 GROUP BY educ',
    scope: ALL,
    l1: [1],
    cells: 16,
  },
  { sql: "SELECT sex, COUNT(*) FROM people WHERE sex = '1' GROUP BY sex", scope: ALL, l1: [1], cells: 2 },
  { sql: 'SELECT educ, COUNT(*) FROM people WHERE educ = 99 GROUP BY educ', scope: ALL, l1: [1], cells: 16 },
  // GROUP BY without a public domain: partition selection on distinct persons.
  {
    sql: 'SELECT age / 10 AS decade, COUNT(*) FROM people GROUP BY 1',
    scope: ALL,
    l1: [1],
    grouping: 'selected',
  },
  {
    sql: 'SELECT age, COUNT(*) FROM survey_responses GROUP BY age',
    scope: ALL,
    l1: [4],
    grouping: 'selected',
  },
  {
    sql: 'SELECT age, sex, COUNT(*) FROM people GROUP BY age, sex',
    scope: ALL,
    l1: [1],
    grouping: 'selected',
  },
  // COUNT(DISTINCT x): at most r distinct values per person and group are kept, so r per group.
  { sql: 'SELECT COUNT(DISTINCT age) FROM people', scope: ALL, l1: [1], grouping: 'none' },
  { sql: 'SELECT COUNT(DISTINCT educ) FROM survey_responses', scope: ALL, l1: [2], grouping: 'none' },
  { sql: 'SELECT COUNT(DISTINCT educ), COUNT(educ) FROM survey_responses', scope: ALL, l1: [2, 2] },
  { sql: 'SELECT COUNT(DISTINCT age / 10) FROM people', scope: ALL, l1: [1] },
  { sql: 'SELECT COUNT(DISTINCT community_id) FROM people', scope: ALL, l1: [1] },
  { sql: 'SELECT COUNT(DISTINCT educ) FILTER (WHERE sex = 1) FROM people', scope: ALL, l1: [1] },
  { sql: 'SELECT COUNT(DISTINCT person_id) FILTER (WHERE sex = 1) FROM people', scope: ALL, l1: [1] },
  {
    sql: 'SELECT sex, COUNT(DISTINCT educ) FROM survey_responses GROUP BY sex',
    scope: ALL,
    l1: [4],
    grouping: 'public',
    cells: 2,
  },
  {
    sql: 'SELECT age, COUNT(DISTINCT educ) FROM survey_responses GROUP BY age',
    scope: ALL,
    l1: [4],
    grouping: 'selected',
  },
  {
    sql: 'SELECT COUNT(DISTINCT s.educ) FROM people p JOIN survey_responses s USING (person_id)',
    scope: ALL,
    l1: [2],
  },
  // HAVING, ORDER BY, LIMIT/OFFSET and output expressions: post-processing.
  {
    sql: 'SELECT sex, COUNT(*) AS n FROM people GROUP BY sex HAVING COUNT(*) > 100 ORDER BY n DESC LIMIT 1',
    scope: ALL,
    l1: [1],
  },
  {
    sql: 'SELECT educ, ROUND(SUM(income) / COUNT(*), 2) AS mean FROM people GROUP BY educ ORDER BY 2 DESC NULLS LAST LIMIT 5 OFFSET 1',
    scope: ALL,
    l1: [500000, 1],
  },
  {
    sql: 'SELECT married, SQRT(VAR_POP(age)) AS sd, COUNT(*) * 2 + 1 FROM people GROUP BY married ORDER BY married',
    scope: ALL,
    l1: [10000, 100, 1, 1],
  },
  {
    sql: 'SELECT sex, CASE WHEN COUNT(*) > 500 THEN 1 ELSE 0 END AS big FROM people GROUP BY sex',
    scope: ALL,
    l1: [1],
  },
  // Quantiles by the exponential mechanism (permute-and-flip); no additive measurement.
  { sql: 'SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY age) FROM people', scope: ALL, l1: [] },
  {
    sql: 'SELECT sex, PERCENTILE_DISC(0.9) WITHIN GROUP (ORDER BY income), COUNT(*) FROM survey_responses GROUP BY sex',
    scope: ALL,
    l1: [4],
  },
  { sql: 'SELECT MEDIAN(age) FROM people', scope: ALL, l1: [] },
  // SQL-injection edge cases resolved by the real parser.
  {
    sql: 'SELECT COUNT(*) /* a /* nested */ comment; DROP TABLE people; */ FROM people',
    scope: ALL,
    l1: [1],
  },
  { sql: 'SELECT COUNT(*) FROM people -- ; DROP TABLE people', scope: ALL, l1: [1] },
  { sql: 'SELECT COUNT(*) FROM people WHERE community_id = $$riverside$$', scope: ['riverside'], l1: [1] },
  {
    sql: "SELECT COUNT(*) FROM people WHERE lower(community_id) = $q$x'; DROP TABLE people; --$q$",
    scope: ALL,
    l1: [1],
  },
  { sql: 'SELECT COUNT(*) FROM U&"\\0070eople"', scope: ALL, l1: [1] },
  { sql: 'SELECT COUNT(*) FROM "people"', scope: ALL, l1: [1] },
  { sql: 'SELECT COUNT(*) FROM PEOPLE', scope: ALL, l1: [1] },
  { sql: 'SELECT COUNT(*) FROM commons.people', scope: ALL, l1: [1] },
  { sql: "SELECT COUNT(*) FROM people WHERE community_id <> E'river\\'side'", scope: ALL, l1: [1] },
  {
    sql: 'SELECT COUNT(*) FROM people WHERE income::int > 5 AND CAST(age AS smallint) < 50',
    scope: ALL,
    l1: [1],
  },
  { sql: 'SELECT COUNT(*) FROM people;', scope: ALL, l1: [1] },
  // Public tables only: free.
  { sql: 'SELECT * FROM communities', free: true },
  {
    sql: "SELECT region, COUNT(*) FROM communities WHERE name LIKE '%a%' GROUP BY region ORDER BY 1",
    free: true,
  },
  { sql: 'SELECT 1', free: true },
  {
    sql: "SELECT COUNT(*) FROM people WHERE age > (SELECT COUNT(*) FROM communities c WHERE c.region <> 'x')",
    scope: ALL,
    l1: [1],
  },
];

export const REFUSED: RefusedCase[] = [
  { sql: 'SELECT 1; DROP TABLE people', refuse: 'multiple_statements' },
  { sql: 'SELECT COUNT(*) FROM people; SELECT 2', refuse: 'multiple_statements' },
  { sql: 'DELETE FROM people', refuse: 'not_a_select' },
  { sql: 'UPDATE people SET age = 1', refuse: 'not_a_select' },
  { sql: 'SELEC COUNT(*) FROM people', refuse: 'syntax_error' },
  { sql: 'SELECT COUNT(*) FROM persons', refuse: 'unknown_table' },
  { sql: 'SELECT COUNT(*) FROM "People"', refuse: 'unknown_table' },
  { sql: 'SELECT COUNT(*) FROM public.people', refuse: 'unknown_table' },
  { sql: 'SELECT SUM(salary) FROM people', refuse: 'unknown_column' },
  {
    sql: 'SELECT COUNT(*) FROM people JOIN survey_responses USING (person_id) WHERE age > 30',
    refuse: 'ambiguous_column',
  },
  { sql: 'SELECT COUNT(*) FROM survey_responses WHERE response_id > 3', refuse: 'unknown_column' },
  // A hidden column is refused as one that does not exist (refusal-hygiene.test.ts compares the two).
  { sql: 'SELECT COUNT(notes) FROM people', refuse: 'unknown_column', hidden: true },
  { sql: "SELECT COUNT(*) FROM people WHERE notes LIKE '%x%'", refuse: 'unknown_column', hidden: true },
  { sql: 'SELECT motto FROM communities', refuse: 'unknown_column', hidden: true },
  { sql: 'SELECT c.nmae FROM communities c', refuse: 'unknown_column' },
  { sql: 'SELECT COUNT(*) FROM people', refuse: 'not_allowed', role: 'contributor' },
  { sql: 'SELECT relname FROM pg_class', refuse: 'system_catalog' },
  { sql: 'SELECT * FROM pg_catalog.pg_stats', refuse: 'system_catalog' },
  { sql: 'SELECT COUNT(*) FROM information_schema.tables', refuse: 'system_catalog' },
  { sql: "SELECT COUNT(*) FROM people WHERE 'people'::regclass IS NOT NULL", refuse: 'system_catalog' },
  { sql: 'SELECT age FROM people', refuse: 'row_level_output' },
  { sql: 'SELECT * FROM survey_responses', refuse: 'row_level_output' },
  { sql: 'SELECT sex, age, COUNT(*) FROM people GROUP BY sex', refuse: 'row_level_output' },
  { sql: 'SELECT COUNT(*) FROM people ORDER BY age', refuse: 'row_level_output' },
  { sql: 'SELECT person_id, COUNT(*) FROM survey_responses GROUP BY person_id', refuse: 'group_by_unit' },
  { sql: 'SELECT COUNT(*) FROM people GROUP BY CAST(person_id AS text)', refuse: 'group_by_unit' },
  { sql: 'SELECT COUNT(*) FROM people GROUP BY person_id = 1', refuse: 'group_by_unit' },
  { sql: 'SELECT person_id % 10, COUNT(*) FROM people GROUP BY 1', refuse: 'group_by_unit' },
  { sql: 'SELECT COUNT(*) FROM survey_responses GROUP BY person_id / 2 + age', refuse: 'group_by_unit' },
  { sql: 'SELECT COUNT(*) FROM people p GROUP BY md5(p.person_id::text)', refuse: 'group_by_unit' },
  { sql: 'SELECT SUM(COUNT(*)) FROM people', refuse: 'nested_aggregate' },
  { sql: 'SELECT AVG(age + COUNT(*)) FROM people', refuse: 'nested_aggregate' },
  { sql: 'SELECT MAX(age) FROM people', refuse: 'private_min_max' },
  { sql: 'SELECT sex, MIN(income) FROM people GROUP BY sex', refuse: 'private_min_max' },
  { sql: 'SELECT SUM(educ) FROM people', refuse: 'unbounded_column' },
  { sql: 'SELECT AVG(race * 2) FROM survey_responses', refuse: 'unbounded_column' },
  { sql: 'SELECT COUNT(*) FROM people WHERE pg_sleep(1) IS NOT NULL', refuse: 'forbidden_function' },
  { sql: 'SELECT COUNT(*) FROM people WHERE random() < 0.5', refuse: 'forbidden_function' },
  {
    sql: "SELECT COUNT(*) FROM people WHERE set_config('x.y', '1', false) = '1'",
    refuse: 'forbidden_function',
  },
  {
    sql: "SELECT COUNT(*) FROM people WHERE current_setting('search_path') = ''",
    refuse: 'forbidden_function',
  },
  { sql: "SELECT * FROM dblink('host=x', 'select 1') AS t(a int)", refuse: 'forbidden_function' },
  { sql: "SELECT COUNT(*) FROM people WHERE lo_import('/etc/passwd') > 0", refuse: 'forbidden_function' },
  { sql: "SELECT lo_export(1, '/tmp/x')", refuse: 'forbidden_function' },
  { sql: 'SELECT COUNT(*) FROM people WHERE public.f(age) > 0', refuse: 'forbidden_function' },
  { sql: 'SELECT COUNT(*) OVER () FROM people', refuse: 'window_function' },
  { sql: 'SELECT sex, ROW_NUMBER() OVER (ORDER BY sex) FROM people GROUP BY sex', refuse: 'window_function' },
  {
    sql: 'SELECT sex, married, COUNT(*) FROM people GROUP BY GROUPING SETS ((sex), (married))',
    refuse: 'grouping_sets',
  },
  { sql: 'SELECT sex, COUNT(*) FROM people GROUP BY ROLLUP (sex)', refuse: 'grouping_sets' },
  { sql: 'SELECT sex, married, COUNT(*) FROM people GROUP BY CUBE (sex, married)', refuse: 'grouping_sets' },
  { sql: 'SELECT DISTINCT sex FROM people', refuse: 'select_distinct' },
  { sql: 'SELECT COUNT(*) FROM people UNION SELECT COUNT(*) FROM survey_responses', refuse: 'set_operation' },
  {
    sql: 'SELECT COUNT(*) FROM (SELECT person_id FROM people EXCEPT SELECT person_id FROM survey_responses) t',
    refuse: 'set_operation',
  },
  { sql: 'SELECT SUM(income / age) FROM people', refuse: 'data_dependent_error' },
  { sql: 'SELECT COUNT(*) FROM people WHERE 100 / (age - 42) > 1', refuse: 'data_dependent_error' },
  { sql: 'SELECT COUNT(*) FROM people WHERE CAST(community_id AS int) = 1', refuse: 'data_dependent_error' },
  { sql: 'SELECT COUNT(*) FROM people WHERE CAST(educ AS smallint) > 5', refuse: 'data_dependent_error' },
  { sql: "SELECT COUNT(*) FROM people WHERE community_id ~ '^(a+)+$'", refuse: 'data_dependent_error' },
  { sql: "SELECT COUNT(*) FROM people WHERE community_id SIMILAR TO 'r%'", refuse: 'data_dependent_error' },
  { sql: "SELECT COUNT(*) FROM people WHERE 'abc' LIKE community_id", refuse: 'data_dependent_error' },
  { sql: 'SELECT SUM(age * age * age * age * age) FROM people', refuse: 'data_dependent_error' },
  { sql: 'SELECT COUNT(*) FROM people, survey_responses', refuse: 'invalid_join' },
  { sql: 'SELECT COUNT(*) FROM people CROSS JOIN survey_responses', refuse: 'invalid_join' },
  { sql: 'SELECT COUNT(*) FROM people p JOIN survey_responses s ON p.age = s.age', refuse: 'invalid_join' },
  {
    sql: 'SELECT COUNT(*) FROM people p JOIN survey_responses s ON p.person_id = s.person_id OR p.age = s.age',
    refuse: 'invalid_join',
  },
  { sql: 'SELECT COUNT(*) FROM people p JOIN survey_responses s USING (age)', refuse: 'invalid_join' },
  {
    sql: 'SELECT COUNT(*) FROM people p LEFT JOIN survey_responses s USING (person_id)',
    refuse: 'invalid_join',
  },
  {
    sql: 'SELECT COUNT(*) FROM people WHERE person_id IN (SELECT person_id FROM survey_responses WHERE age > 90)',
    refuse: 'private_subquery',
  },
  {
    sql: 'SELECT COUNT(*) FROM people p WHERE EXISTS (SELECT 1 FROM survey_responses s WHERE s.person_id = p.person_id)',
    refuse: 'private_subquery',
  },
  {
    sql: 'SELECT COUNT(*) FROM people WHERE age > (SELECT AVG(age) FROM people)',
    refuse: 'private_subquery',
  },
  { sql: 'SELECT COUNT(*) FROM people WHERE age > 10 LIMIT (SELECT 1)', refuse: 'unsupported_sql' },
  {
    sql: 'SELECT COUNT(*) FROM people p WHERE EXISTS (SELECT 1 FROM communities c WHERE c.community_id = p.community_id)',
    refuse: 'unsupported_sql',
  },
  {
    sql: 'SELECT COUNT(*) FROM people WHERE age = (SELECT LENGTH(name) FROM communities WHERE region = sex::text)',
    refuse: 'unsupported_sql',
  },
  {
    sql: 'WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT n FROM r',
    refuse: 'unsupported_sql',
  },
  { sql: 'SELECT COUNT(*) FROM (SELECT person_id FROM people LIMIT 10) t', refuse: 'unsupported_sql' },
  // A subquery that aggregates must be grouped by the person (two-stage aggregation).
  {
    sql: 'SELECT COUNT(*) FROM (SELECT educ, COUNT(*) AS n FROM survey_responses GROUP BY educ) t',
    refuse: 'unsupported_sql',
  },
  {
    sql: 'WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r) SELECT COUNT(*) FROM people',
    refuse: 'unsupported_sql',
  },
  { sql: 'SELECT SUM(DISTINCT age) FROM people', refuse: 'unsupported_sql' },
  { sql: 'SELECT COUNT(DISTINCT age / 0) FROM people', refuse: 'data_dependent_error' },
  { sql: 'SELECT COUNT(DISTINCT notes) FROM people', refuse: 'unknown_column', hidden: true },
  { sql: 'SELECT COUNT(DISTINCT MAX(age)) FROM people', refuse: 'nested_aggregate' },
  // CTE names must not shadow a table in one place and leave it readable in another.
  { sql: 'WITH a AS (SELECT * FROM a) SELECT COUNT(*) FROM a', refuse: 'unknown_table' },
  { sql: 'WITH people AS (SELECT * FROM people) SELECT * FROM people', refuse: 'unknown_table' },
  {
    sql: 'WITH c AS (SELECT * FROM d), d AS (SELECT * FROM communities) SELECT * FROM c',
    refuse: 'unknown_table',
  },
  {
    sql: 'SELECT * FROM (WITH people AS (SELECT 1 AS a) SELECT * FROM people) s, people',
    refuse: 'unsupported_sql',
  },
  { sql: "SELECT string_agg(community_id, ',') FROM people", refuse: 'unsupported_sql' },
  { sql: "SELECT COUNT(*) FROM people WHERE community_id = 'atlantis'", refuse: 'unknown_community' },
  { sql: 'SELECT COUNT(*) FROM people', refuse: 'epsilon_too_large', request: { epsilon: 5 } },
  {
    sql: 'SELECT COUNT(*) FROM people',
    refuse: 'invalid_epsilon',
    request: { epsilon: Number.POSITIVE_INFINITY },
  },
  { sql: 'SELECT COUNT(*) FROM people', refuse: 'delta_too_large', request: { delta: 0.01 } },
  { sql: 'SELECT COUNT(*) FROM people', refuse: 'invalid_delta', request: { delta: -1 } },
  { sql: 'SELECT COUNT(*) FROM people', refuse: 'noise_out_of_range', request: { epsilon: 1e-13 } },
  {
    sql: 'SELECT COUNT(*) FROM people',
    refuse: 'invalid_mechanism',
    request: { mechanism: 'exponential' as 'laplace' },
  },
  { sql: 'SELECT age, COUNT(*) FROM people GROUP BY age', refuse: 'delta_required', request: { delta: 0 } },
  {
    sql: 'SELECT COUNT(*) FROM people',
    refuse: 'delta_required',
    request: { mechanism: 'gaussian', delta: 0 },
  },
];
