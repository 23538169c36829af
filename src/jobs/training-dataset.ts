/**
 * Reading a job's dataset: the resolved SELECT run read-only as the query role, then bounded to the
 * policy's rows per person. The gateway does this for a pooled table, each node (`dpgate node`) for
 * its own share of a table that lives on the nodes.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { readOnlyTransactions } from '../db/read-only-transaction.ts';
import type { Policy } from '../policy/schema.ts';
import { runReadOnly } from '../queries/execute.ts';
import { buildTrainingDataset, type TableRow, type TrainingDataset } from '../train/index.ts';
import { PERSON_COLUMN, type ResolvedTraining } from './training-request.ts';

const DATASET_TIMEOUT_MS = 60_000;

export async function readTrainingDataset(
  db: Kysely<Database>,
  resolved: ResolvedTraining,
  policy: Policy,
): Promise<TrainingDataset> {
  const rows = await runReadOnly(
    readOnlyTransactions(db),
    resolved.datasetSql,
    Math.max(DATASET_TIMEOUT_MS, policy.limits.statement_timeout_ms),
  );
  return buildTrainingDataset({
    rows: rows as TableRow[],
    schema: resolved.schema,
    personColumn: PERSON_COLUMN,
    maxRowsPerPerson: resolved.maxRowsPerPerson,
  });
}
