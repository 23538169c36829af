/**
 * The policy format councils write in `policies/*.yaml`, as a zod schema.
 *
 * This schema checks the shape of one merged policy (types, ranges, unknown keys). Facts that need
 * more than one field at a time (a unit path naming a declared table, a public domain pointing at a
 * public table, ...) are checked in `cross-check.ts`; facts about the database in `database-check.ts`.
 * `policies/schema.json` is generated from this file (`npm run policy:schema`) so editors can check
 * files as they are typed.
 */

import { z } from 'zod';
import { LEDGER_RDP_ORDERS } from '../dp/accounting/rdp-ledger.ts';

export const ROLES = ['analyst', 'contributor', 'council'] as const;
export type Role = (typeof ROLES)[number];

export const COLUMN_TYPES = ['int', 'real', 'text', 'bool', 'date', 'timestamp'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** SQL identifiers as dpgate accepts them in policy: lower-case, unquoted PostgreSQL names. */
const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL name (letters, digits, _; at most 63)');

/** `table.column`, both identifiers. */
const columnReference = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$/, 'must be written table.column');

/** One hop of a unit path: `local_column -> table.column`. */
const unitHop = z
  .string()
  .regex(
    /^[a-z_][a-z0-9_]{0,62}\s*->\s*[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$/,
    'must be written "column -> table.column"',
  );

const finiteNumber = z.number({ error: 'must be a finite number' });
const scalarValue = z.union([z.string(), finiteNumber, z.boolean()]);

/** A calendar day written `YYYY-MM-DD` (its validity as a date is checked in `cross-check.ts`). */
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date written YYYY-MM-DD');

/** An inclusive range of calendar days, the public domain of a date or timestamp column. */
const publicDateRange = z.strictObject({ from: isoDate, to: isoDate });

const epsilon = finiteNumber.positive('must be greater than 0');
const delta = finiteNumber.min(0, 'must be at least 0').lt(1, 'must be less than 1');

const budget = z.strictObject({
  epsilon,
  delta,
});

const column = z.strictObject({
  type: z.enum(COLUMN_TYPES),
  /** Inclusive clamping bounds [lower, upper] for numeric and date columns. */
  bounds: z.tuple([scalarValue, scalarValue]).optional(),
  /** Release grid for real values: answers are multiples of this step. */
  granularity: finiteNumber.positive('must be greater than 0').optional(),
  /** An enumerated public domain: every value is released as a group, empty or not. */
  public_values: z.array(scalarValue).min(1, 'must list at least one value').optional(),
  /** An integer range [from, to] as public domain. */
  public_range: z.tuple([z.number().int(), z.number().int()]).optional(),
  /**
   * A public table's column whose values form the domain (`table.column`), or, for a date or
   * timestamp column, a public calendar range of whole days `{ from, to }` (inclusive, ISO dates):
   * the column itself, its days, and keys computed from it (date_trunc, EXTRACT, ::date) release
   * every value of that range.
   */
  public_domain: z.union([columnReference, publicDateRange]).optional(),
  /**
   * A bound d on the distinct values of this column one person has in total: COUNT(DISTINCT) of it
   * (or of an expression of it alone) is charged min(r, d) per group, and the rewrite keeps at most
   * d of each person's distinct values, so the bound holds whatever the data.
   */
  max_distinct_per_unit: z.number().int().positive('must be at least 1').optional(),
  /** Never readable by analysts, not even inside an aggregate. */
  hidden: z.boolean().optional(),
});

const contributions = z.strictObject({
  /** L∞ bound: rows one person may contribute to one group. */
  max_rows_per_unit: z.number().int().positive('must be at least 1'),
  /** L0 bound: groups one person may contribute to in one query. */
  max_groups_per_unit: z.number().int().positive('must be at least 1').default(1),
  /**
   * L1 bound: rows one person may contribute to all groups of one query together (optional; without
   * it a person's rows in total are bounded only by groups × rows per group).
   */
  max_rows_in_total: z.number().int().positive('must be at least 1').optional(),
});

/** Schemas dpgate never lets a policy govern: PostgreSQL's catalogs and dpgate's own ledger. */
export const RESERVED_SCHEMAS = ['dpgate', 'information_schema', 'pg_catalog', 'pg_toast'] as const;

/** The schema a policy table lives in when the policy names none. */
export const DEFAULT_SCHEMA = 'commons';

const schemaName = identifier.refine(
  (name) => !name.startsWith('pg_') && !(RESERVED_SCHEMAS as readonly string[]).includes(name),
  "must not be a system schema or dpgate's own (dpgate, information_schema, pg_*)",
);

const table = z.strictObject({
  /**
   * The database schema holding the table. Table names stay unique across schemas: analysts may
   * write them with or without the schema.
   */
  schema: schemaName.default(DEFAULT_SCHEMA),
  /** A public table holds no personal data: reading it alone costs nothing. */
  public: z.boolean().default(false),
  /** For private tables other than the unit table: the foreign-key path to the privacy unit. */
  unit_path: z.array(unitHop).min(1).optional(),
  contributions: contributions.optional(),
  /**
   * A public count of the persons in this table (from the data's own documentation, not computed by
   * dpgate). DP-SGD divides by the expected batch q·N, so N must be public.
   */
  population: z.number().int().positive().optional(),
  /**
   * A public row count of this table (declared by the council, e.g. from the data's documentation;
   * never read from the data). Dry runs use it to warn when a query is likely to outrun
   * `limits.statement_timeout_ms`.
   */
  declared_rows: z.number().int().positive().optional(),
  columns: z.record(identifier, column).default({}),
});

const limits = z.strictObject({
  max_epsilon_per_query: epsilon.default(1),
  max_delta_per_query: delta.default(1e-6),
  default_epsilon: epsilon.default(0.1),
  default_delta: delta.default(1e-7),
  /**
   * How long the database may work on one query. Sized for a commons: a bounded GROUP BY over 10
   * million rows takes seconds on a small server. A query that times out keeps its charge.
   */
  statement_timeout_ms: z.number().int().positive().max(600_000).default(60_000),
  /**
   * Rows per second the database scans and aggregates for one bounded query, for the dry run's
   * time estimate (a public planning figure, measured with bench/bounding.bench.ts).
   */
  scan_rows_per_second: z.number().positive().default(2_000_000),
  max_result_cells: z.number().int().positive().default(10_000),
  /** Caps for one DP-SGD training job (a model usually needs more ε than one query). */
  max_epsilon_per_job: epsilon.default(5),
  max_delta_per_job: delta.default(1e-5),
});

const access = z.record(
  z.string(),
  z.strictObject({
    tables: z.array(identifier),
  }),
);

/** A raw 32-byte Ed25519 public key, base64url (43 characters, as `dpgate node keygen` prints it). */
const publicKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a 32-byte Ed25519 public key in base64url');

const federationNode = z.strictObject({
  /** The community whose rows this node holds (one community per node). */
  community: identifier,
  public_key: publicKey,
  /** Where the gateway reaches the node's `dpgate node` process. */
  url: z.url({ error: 'must be an http(s) URL' }).optional(),
});

/**
 * Communities that keep their rows on their own nodes. The gateway sees only securely aggregated,
 * noised sums of what the nodes compute (docs/federation.md).
 */
const federation = z.strictObject({
  gateway: z.strictObject({ id: identifier.default('gateway'), public_key: publicKey }),
  nodes: z
    .record(identifier, federationNode)
    .refine((n) => Object.keys(n).length >= 2, 'must name at least two nodes'),
  /** t: the fewest nodes that must finish a round; fewer and the round aborts with nothing released. */
  threshold: z.number().int().min(2, 'must be at least 2'),
  /** f: nodes assumed able to collude with the gateway; each round's noise is sized for t − f nodes. */
  max_colluding_nodes: z.number().int().min(0).default(0),
  /** Tables whose rows live on the nodes, not in the shared database. */
  tables: z.array(identifier).min(1, 'must list at least one table'),
  /** Per-request wait for a node, in milliseconds. */
  node_timeout_ms: z.number().int().positive().max(600_000).default(30_000),
});

export const policySchema = z.strictObject({
  privacy_unit: z.strictObject({ table: identifier, column: identifier }),
  communities: z.strictObject({
    /** The column, on the privacy unit's table, that names each person's community. */
    column: identifier,
    /** Optional public table column listing every community, for cross-checks. */
    domain: columnReference.optional(),
  }),
  /**
   * How charges compose: `rdp` (each charge's Rényi curve, a fixed-order Rényi filter), `zcdp`
   * (ρ adds) or `basic` (ε and δ add). See docs/accounting.md.
   */
  accounting: z.enum(['basic', 'zcdp', 'rdp']).default('rdp'),
  /** rdp only: the filter's Rényi order; by default the one that admits the most Gaussian noise. */
  rdp_order: z
    .number()
    .refine((order) => LEDGER_RDP_ORDERS.includes(order), {
      message: `must be one of the ledger's orders: ${LEDGER_RDP_ORDERS.join(', ')}`,
    })
    .optional(),
  budgets: z
    .record(identifier, budget)
    .refine((b) => Object.keys(b).length > 0, 'must name at least one community'),
  default_mechanism: z.enum(['laplace', 'gaussian']).default('laplace'),
  /** Return the stored answer, at no cost, when the same principal repeats the same query. */
  reuse_answers: z.boolean().default(true),
  limits: limits.default(limits.parse({})),
  tables: z.record(identifier, table),
  access: access.default({}),
  federation: federation.optional(),
});

/** A policy as written (before defaults are filled in). */
export type PolicyInput = z.input<typeof policySchema>;
/** A policy with defaults filled in; everything downstream reads this. */
export type Policy = z.output<typeof policySchema>;
export type TablePolicy = Policy['tables'][string];

/** `schema.table` of a policy table, as SQL (policy names are lower-case identifiers). */
export function qualifiedTable(policy: Policy, table: string): string {
  return `${policy.tables[table]?.schema ?? DEFAULT_SCHEMA}.${table}`;
}
export type ColumnPolicy = TablePolicy['columns'][string];
export type Budget = Policy['budgets'][string];
export type FederationPolicy = NonNullable<Policy['federation']>;
