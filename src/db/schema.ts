/**
 * dpgate's own tables, defined once. `drizzle-kit generate` turns this file into SQL migrations in
 * `migrations/`; `kysely-types.ts` derives the query types from it, so the two cannot drift apart.
 *
 * Everything lives in the Postgres schema `dpgate`; the commons data lives in `commons` and is never
 * mixed with these tables. Budget amounts are NUMERIC (exact), never floats.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  jsonb,
  numeric,
  pgSchema,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';

export const dpgate = pgSchema('dpgate');

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

/** One row per community: its total budget (from policy) and what has been spent. */
export const communityBudgets = dpgate.table(
  'community_budgets',
  {
    community_id: text('community_id').primaryKey(),
    accounting: text('accounting', { enum: ['basic', 'zcdp', 'rdp'] }).notNull(),
    epsilon_total: numeric('epsilon_total').notNull(),
    delta_total: numeric('delta_total').notNull(),
    epsilon_spent: numeric('epsilon_spent').notNull().default('0'),
    delta_spent: numeric('delta_spent').notNull().default('0'),
    rho_spent: numeric('rho_spent').notNull().default('0'),
    /** zcdp only: the largest total ρ whose tight (ε, δ) conversion fits the budget. */
    rho_total: numeric('rho_total'),
    /** rdp only: the filter's order, fixed when the budget is set (src/dp/accounting/rdp-ledger.ts). */
    rdp_order: numeric('rdp_order'),
    /** rdp only: the composed Rényi curve of every charge, and the sum of their δ parts. */
    rdp_spent: jsonb('rdp_spent').$type<{ curve: number[]; delta: number }>(),
    policy_version: text('policy_version').notNull(),
    updated_at: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'budget_spent_non_negative',
      sql`${t.epsilon_spent} >= 0 AND ${t.delta_spent} >= 0 AND ${t.rho_spent} >= 0`,
    ),
    // The last line of defence: whatever the application does, a budget is never overspent.
    check('budget_epsilon_not_overspent', sql`${t.epsilon_spent} <= ${t.epsilon_total}`),
    check('budget_delta_not_overspent', sql`${t.delta_spent} <= ${t.delta_total}`),
    check('budget_rho_not_overspent', sql`${t.rho_total} IS NULL OR ${t.rho_spent} <= ${t.rho_total}`),
  ],
);

/** Append-only: one row per community charged by one request. */
export const charges = dpgate.table(
  'charges',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    community_id: text('community_id')
      .notNull()
      .references(() => communityBudgets.community_id),
    request_id: text('request_id').notNull(),
    principal_id: uuid('principal_id').notNull(),
    kind: text('kind', { enum: ['query', 'training', 'evaluation'] }).notNull(),
    /** The query or training job this charge paid for. */
    subject_id: text('subject_id').notNull(),
    /** What contributors read in the ledger: the query text or a job summary. */
    description: text('description').notNull(),
    epsilon: numeric('epsilon').notNull(),
    delta: numeric('delta').notNull(),
    rho: numeric('rho'),
    /** The charge's own Rényi curve on the ledger's orders and its δ part (every charge since rdp accounting). */
    rdp_curve: jsonb('rdp_curve').$type<{ curve: number[]; delta: number }>(),
    mechanism: text('mechanism').notNull(),
    policy_version: text('policy_version').notNull(),
    created_at: createdAt(),
  },
  (t) => [
    unique('charges_request_community').on(t.request_id, t.community_id),
    index('charges_community_time').on(t.community_id, t.created_at),
    check(
      'charge_non_negative',
      sql`${t.epsilon} >= 0 AND ${t.delta} >= 0 AND (${t.rho} IS NULL OR ${t.rho} >= 0)`,
    ),
  ],
);

/** Every noisy answer released, kept so retries and repeats return the same bytes. */
export const releasedAnswers = dpgate.table(
  'released_answers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    principal_id: uuid('principal_id').notNull(),
    idempotency_key: text('idempotency_key'),
    request_hash: text('request_hash').notNull(),
    query_fingerprint: text('query_fingerprint').notNull(),
    policy_version: text('policy_version').notNull(),
    /** pending: charged, answer not yet released; released: `response` holds it; failed: charged, no answer. */
    status: text('status', { enum: ['pending', 'released', 'failed'] })
      .notNull()
      .default('pending'),
    response: jsonb('response'),
    /** The exact bytes sent when the answer was released, so a replay sends the same bytes. */
    response_text: text('response_text'),
    created_at: createdAt(),
    released_at: timestamp('released_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    unique('released_answers_idempotency').on(t.principal_id, t.idempotency_key),
    index('released_answers_fingerprint').on(t.principal_id, t.query_fingerprint),
    check('released_answer_has_response', sql`(${t.status} = 'released') = (${t.response} IS NOT NULL)`),
  ],
);

/** API keys: only a SHA-256 hash of each key is stored, with a short prefix to recognise it by. */
export const apiKeys = dpgate.table(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    role: text('role', { enum: ['analyst', 'contributor', 'council'] }).notNull(),
    community_id: text('community_id'),
    key_prefix: text('key_prefix').notNull(),
    key_hash: text('key_hash').notNull().unique(),
    created_at: createdAt(),
    revoked_at: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    check('api_key_role', sql`${t.role} IN ('analyst', 'contributor', 'council')`),
    check(
      'api_key_contributor_community',
      sql`(${t.role} = 'contributor') = (${t.community_id} IS NOT NULL)`,
    ),
  ],
);

/** Every policy set that took effect, by content hash. */
export const policyVersions = dpgate.table('policy_versions', {
  version: text('version').primaryKey(),
  files: jsonb('files').notNull(),
  policy: jsonb('policy').notNull(),
  applied_at: timestamp('applied_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Append-only, hash-chained: each entry's hash covers the previous entry's hash. */
export const auditLog = dpgate.table('audit_log', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  actor: text('actor').notNull(),
  action: text('action').notNull(),
  request_id: text('request_id'),
  details: jsonb('details').notNull(),
  prev_hash: text('prev_hash').notNull(),
  hash: text('hash').notNull().unique(),
});

export const trainingJobs = dpgate.table('training_jobs', {
  id: uuid('id').primaryKey().defaultRandom(),
  principal_id: uuid('principal_id').notNull(),
  status: text('status', { enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] }).notNull(),
  spec: jsonb('spec').notNull(),
  cost: jsonb('cost'),
  progress: jsonb('progress'),
  error: text('error'),
  model_id: uuid('model_id'),
  policy_version: text('policy_version').notNull(),
  /** Set by a cancel request; the gateway running the job stops it at its next progress report. */
  cancel_requested: boolean('cancel_requested').notNull().default(false),
  /** Refreshed while the job runs; a queued or running job whose heartbeat stops was cut off. */
  heartbeat_at: timestamp('heartbeat_at', { withTimezone: true, mode: 'date' }),
  created_at: createdAt(),
  started_at: timestamp('started_at', { withTimezone: true, mode: 'date' }),
  finished_at: timestamp('finished_at', { withTimezone: true, mode: 'date' }),
});

export const models = dpgate.table('models', {
  id: uuid('id').primaryKey().defaultRandom(),
  job_id: uuid('job_id').references(() => trainingJobs.id),
  principal_id: uuid('principal_id').notNull(),
  kind: text('kind').notNull(),
  weights: jsonb('weights').notNull(),
  card: jsonb('card').notNull(),
  created_at: createdAt(),
});

/** Facts about this installation, such as whether the demo commons has been loaded. */
export const instanceState = dpgate.table('instance_state', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
  updated_at: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
