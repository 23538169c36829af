/**
 * The Kysely view of dpgate's tables, derived from the drizzle schema so there is one definition.
 * A column that has a default or may be null is optional on insert; everything else is required.
 */
import type { InferInsertModel, InferSelectModel, Table } from 'drizzle-orm';
import type { ColumnType } from 'kysely';
import type * as schema from './schema.ts';

type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];

type KyselyTable<T extends Table, Select = InferSelectModel<T>, Insert = InferInsertModel<T>> = {
  [K in keyof Select]: K extends RequiredKeys<Insert>
    ? Select[K]
    : ColumnType<
        Select[K],
        Insert[K & keyof Insert] | undefined,
        Exclude<Insert[K & keyof Insert], undefined>
      >;
};

export interface Database {
  'dpgate.community_budgets': KyselyTable<typeof schema.communityBudgets>;
  'dpgate.charges': KyselyTable<typeof schema.charges>;
  'dpgate.released_answers': KyselyTable<typeof schema.releasedAnswers>;
  'dpgate.api_keys': KyselyTable<typeof schema.apiKeys>;
  'dpgate.policy_versions': KyselyTable<typeof schema.policyVersions>;
  'dpgate.audit_log': KyselyTable<typeof schema.auditLog>;
  'dpgate.training_jobs': KyselyTable<typeof schema.trainingJobs>;
  'dpgate.models': KyselyTable<typeof schema.models>;
  'dpgate.instance_state': KyselyTable<typeof schema.instanceState>;
}
