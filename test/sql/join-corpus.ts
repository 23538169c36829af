/**
 * Corpus of unit paths of several hops and outer joins, over the unit-path fixture
 * (test/fixtures/unit-paths.ts: the demo commons plus visits → people, items → visits → people,
 * doses → items → visits → people, and the public clinics). Each accepted query lists its scope and
 * the L1 sensitivity of each measurement, from the bounds of the tables the analyst names (path
 * tables add none): visits r = 2, items r = 6, doses r = 12, each k = 3; people r = 1, k = 1; a join
 * multiplies r and takes the smallest k; k is at most the groups of a listed domain. Used by
 * joins.test.ts (planning, and every accepted query runs on the database).
 */

import type { AcceptedCase, RefusedCase } from './corpus.ts';
import { ALL_COMMUNITIES as ALL } from './demo-policy.ts';

export const JOIN_ACCEPTED: Exclude<AcceptedCase, { free: true }>[] = [
  // Unit paths of several hops: rows are capped per person reached through the path.
  { sql: 'SELECT COUNT(*) FROM items', scope: ALL, l1: [6], grouping: 'none' },
  { sql: 'SELECT COUNT(*), SUM(price), COUNT(price) FROM items', scope: ALL, l1: [6, 1200, 6] },
  { sql: 'SELECT AVG(price) FROM items', scope: ALL, l1: [1200, 6] },
  { sql: "SELECT COUNT(*) FROM items WHERE kind = 'drug' AND price > 10", scope: ALL, l1: [6] },
  // Three kinds, k = 3: L1 = 3 · 6.
  {
    sql: 'SELECT kind, COUNT(*) FROM items GROUP BY kind',
    scope: ALL,
    l1: [18],
    grouping: 'public',
    cells: 3,
  },
  // The narrowed domain has one group: L1 = 1 · 6.
  {
    sql: "SELECT kind, COUNT(*) FROM items WHERE kind = 'test' GROUP BY kind",
    scope: ALL,
    l1: [6],
    cells: 1,
  },
  { sql: 'SELECT COUNT(DISTINCT person_id) FROM items', scope: ALL, l1: [1] },
  { sql: 'SELECT SUM(mg), COUNT(DISTINCT person_id) FROM doses', scope: ALL, l1: [600, 1] },
  // Joined with the unit table on the person: r = 1 · 6, k = min(1, 3).
  {
    sql: 'SELECT p.sex, COUNT(*) FROM people p JOIN items i USING (person_id) GROUP BY p.sex',
    scope: ALL,
    l1: [6],
    grouping: 'public',
  },
  {
    sql: "SELECT SUM(d.mg) FROM people p JOIN doses d ON d.person_id = p.person_id WHERE p.community_id = 'riverside'",
    scope: ['riverside'],
    l1: [600],
  },
  // Two path tables joined on the person: r = 6 · 2 = 12, k = 3 clinics: 3 · 12 · 200.
  {
    sql: 'SELECT v.clinic, SUM(i.price) FROM items i JOIN visits v USING (person_id) GROUP BY v.clinic',
    scope: ALL,
    l1: [7200],
  },
  // Along the first hop of items' path (visits.visit_id is unique): each item meets its own visit.
  // r = 6 · 2 = 12 (the product, though the hop adds no rows), k = 3 clinics.
  { sql: 'SELECT COUNT(*) FROM items i JOIN visits v ON i.visit_id = v.visit_id', scope: ALL, l1: [12] },
  {
    sql: 'SELECT v.clinic, COUNT(*), SUM(i.price) FROM items i JOIN visits v USING (visit_id) GROUP BY v.clinic',
    scope: ALL,
    l1: [36, 7200],
    cells: 3,
  },

  // private LEFT JOIN public: every private row is kept, sensitivity as without the join.
  { sql: 'SELECT COUNT(*) FROM visits v LEFT JOIN clinics c ON v.clinic = c.clinic', scope: ALL, l1: [2] },
  {
    sql: "SELECT COUNT(*), SUM(v.cost) FROM visits v LEFT JOIN clinics c USING (clinic) WHERE c.region IS NULL OR c.region = 'coast'",
    scope: ALL,
    l1: [2, 2000],
  },
  // A public table's column: its domain is the table's values, k = 3 (L1 = 3 · 2).
  {
    sql: 'SELECT c.region, COUNT(*) FROM visits v LEFT JOIN clinics c ON v.clinic = c.clinic GROUP BY c.region',
    scope: ALL,
    l1: [6],
    grouping: 'public',
  },
  {
    sql: 'SELECT c.region, SUM(v.cost) FROM clinics c RIGHT JOIN visits v ON v.clinic = c.clinic GROUP BY c.region',
    scope: ALL,
    l1: [6000],
  },
  {
    sql: 'SELECT c.region, AVG(p.age) FROM people p LEFT JOIN communities c ON p.community_id = c.community_id GROUP BY c.region',
    scope: ALL,
    l1: [100, 1],
  },
  {
    sql: 'SELECT COUNT(*) FROM (SELECT clinic, cost FROM visits WHERE cost > 100) v LEFT JOIN clinics c USING (clinic) WHERE c.clinic IS NULL',
    scope: ALL,
    l1: [2],
  },
  {
    sql: "SELECT COUNT(*) FROM items i LEFT JOIN clinics c ON c.clinic = 'north' AND i.price > 100",
    scope: ALL,
    l1: [6],
  },

  // public LEFT JOIN private: groups of the public side with no private row are released empty.
  {
    sql: 'SELECT c.clinic, COUNT(*), SUM(v.cost) FROM clinics c LEFT JOIN visits v ON v.clinic = c.clinic GROUP BY c.clinic',
    scope: ALL,
    l1: [6, 6000],
    grouping: 'public',
  },
  {
    sql: 'SELECT c.clinic, COUNT(*) FROM visits v RIGHT JOIN clinics c ON v.clinic = c.clinic GROUP BY c.clinic',
    scope: ALL,
    l1: [6],
  },
  {
    sql: 'SELECT c.clinic, COUNT(*) FROM clinics c LEFT JOIN (SELECT clinic FROM visits WHERE cost > 500) v ON v.clinic = c.clinic GROUP BY c.clinic',
    scope: ALL,
    l1: [6],
  },
  {
    sql: 'SELECT c.community_id, COUNT(*), AVG(p.age) FROM communities c LEFT JOIN people p ON p.community_id = c.community_id GROUP BY c.community_id',
    scope: ALL,
    l1: [1, 100, 1],
  },
  // Every row kept satisfies the ON (the NULL-extended ones are dropped), so it narrows the scope.
  {
    sql: "SELECT COUNT(*) FROM communities c LEFT JOIN people p ON p.community_id = c.community_id AND p.community_id = 'lakeside'",
    scope: ['lakeside'],
    l1: [1],
  },
];

export const JOIN_REFUSED: RefusedCase[] = [
  {
    sql: 'SELECT COUNT(*) FROM people p FULL JOIN communities c USING (community_id)',
    refuse: 'invalid_join',
  },
  { sql: 'SELECT COUNT(*) FROM visits v FULL JOIN items i USING (person_id)', refuse: 'invalid_join' },
  {
    sql: 'SELECT COUNT(*) FROM people p LEFT JOIN survey_responses s USING (person_id)',
    refuse: 'invalid_join',
  },
  {
    sql: 'SELECT COUNT(*) FROM survey_responses s RIGHT JOIN people p USING (person_id)',
    refuse: 'invalid_join',
  },
  { sql: 'SELECT COUNT(*) FROM visits v LEFT JOIN items i USING (person_id)', refuse: 'invalid_join' },
  {
    sql: 'SELECT COUNT(*) FROM (people p JOIN communities c USING (community_id)) LEFT JOIN visits v USING (person_id)',
    refuse: 'invalid_join',
  },
  {
    sql: "SELECT COUNT(*) FROM visits v LEFT JOIN (SELECT * FROM clinics WHERE region = 'coast') c USING (clinic)",
    refuse: 'invalid_join',
  },
  {
    sql: 'WITH c AS (SELECT clinic FROM clinics) SELECT COUNT(*) FROM visits v LEFT JOIN c USING (clinic)',
    refuse: 'invalid_join',
  },
  {
    sql: 'SELECT COUNT(*) FROM visits v LEFT JOIN (clinics c JOIN communities m ON true) ON v.clinic = c.clinic',
    refuse: 'invalid_join',
  },
  {
    sql: 'SELECT COUNT(*) FROM visits v LEFT JOIN clinics c ON v.cost / 0 > 1',
    refuse: 'data_dependent_error',
  },
  { sql: 'SELECT COUNT(*) FROM items i JOIN visits v ON i.price = v.cost', refuse: 'invalid_join' },
  { sql: 'SELECT COUNT(*) FROM items i JOIN visits v ON i.visit_id = v.cost', refuse: 'invalid_join' },
  { sql: 'SELECT COUNT(*) FROM items i LEFT JOIN visits v USING (visit_id)', refuse: 'invalid_join' },
  { sql: 'SELECT COUNT(*) FROM items, visits', refuse: 'invalid_join' },
  { sql: 'SELECT person_id, COUNT(*) FROM doses GROUP BY person_id', refuse: 'group_by_unit' },
  { sql: 'SELECT COUNT(*) FROM items WHERE person_id % 2 = 0', refuse: 'unbounded_column' },
];
