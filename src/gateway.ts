/**
 * Bringing a gateway up against its database: migrate, load the demo if asked, check and apply the
 * policy, make demo keys. Shared by `dpgate serve` and the tests; the HTTP server is separate.
 */
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { type DatabaseHandle, openDatabase } from './db/connect.ts';
import type { Database } from './db/database.ts';
import { migrate } from './db/migrate.ts';
import { type DemoKeys, ensureDemoKeys } from './demo/demo-keys.ts';
import { loadDemoCommons } from './demo/load-demo.ts';
import type { Logger } from './http/context.ts';
import { failInterruptedJobs } from './jobs/training-jobs.ts';
import { failAbandonedAnswers } from './ledger/answers.ts';
import { applyPolicy } from './ledger/apply-policy.ts';
import { checkPolicyChangeInDatabase } from './ledger/policy-change-check.ts';
import { latestAppliedPolicy } from './ledger/policy-versions.ts';
import { formatIssue, InvalidPolicyError, type PolicyIssue } from './policy/issues.ts';
import { readPolicyDirectory } from './policy/load-directory.ts';
import { PolicyStore } from './policy/policy-store.ts';
import { PolicyReloader } from './policy/reloader.ts';
import type { PolicySnapshot } from './policy/validate.ts';
import { DEFAULT_PENDING_ANSWER_TIMEOUT_MS } from './queries/answer-query.ts';

export interface GatewayOptions {
  readonly databaseUrl?: string | undefined;
  /** On PostgreSQL, where data queries run (db/connect-postgres.ts). */
  readonly queryConnections?: 'sessions' | 'transactions' | undefined;
  /** PostgreSQL connections this gateway opens at most, over all its pools. */
  readonly maxConnections?: number | undefined;
  readonly dataDir: string;
  readonly policyDir: string;
  readonly demo: boolean;
  readonly logger: Logger;
  /** Pending answers older than this are resolved as failed at start (see failAbandonedAnswers). */
  readonly pendingAnswerTimeoutMs?: number;
}

export interface Gateway {
  readonly database: DatabaseHandle;
  readonly policies: PolicyStore;
  readonly demoKeys?: DemoKeys;
  readonly demoKeysFile: string;
}

export async function openGateway(options: GatewayOptions): Promise<Gateway> {
  const { logger } = options;
  const database = await openDatabase({
    url: options.databaseUrl,
    dataDir: options.dataDir,
    queryConnections: options.queryConnections,
    maxConnections: options.maxConnections,
  });
  try {
    const applied = await migrate(database);
    logger.info({ applied, database: database.driver.kind }, 'migrations checked');
    const interrupted = await failInterruptedJobs(database.db);
    if (interrupted > 0)
      logger.warn({ interrupted }, 'training jobs cut off by a restart marked failed; their charges stand');
    await resolveAbandonedAnswers(database.db, options.pendingAnswerTimeoutMs, logger);
    if (options.demo && (await loadDemoCommons(database.db))) logger.info({}, 'demo commons loaded');

    const startup = await loadStartupPolicy(database, options.policyDir, logger);
    const policies = new PolicyStore(startup.snapshot);
    if (startup.refusedIssues) policies.refuse(startup.refusedIssues);
    const changed = await applyPolicy(database.db, policies.current);
    logger.info({ policy_version: policies.current.version, changed }, 'policy in force');

    const demoKeysFile = join(
      options.dataDir.includes('://') ? '.dpgate' : options.dataDir,
      'demo-keys.json',
    );
    if (!options.demo) return { database, policies, demoKeysFile };
    const communities = Object.keys(policies.current.policy.budgets);
    return {
      database,
      policies,
      demoKeysFile,
      demoKeys: await ensureDemoKeys(database.db, demoKeysFile, communities),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/** Marks abandoned pending answers failed; logs how many. Their charges stand. */
export async function resolveAbandonedAnswers(
  db: Kysely<Database>,
  timeoutMs = DEFAULT_PENDING_ANSWER_TIMEOUT_MS,
  logger: Logger,
): Promise<void> {
  const resolved = await failAbandonedAnswers(db, timeoutMs);
  if (resolved > 0)
    logger.warn({ resolved }, 'answers cut off before release marked failed; their charges stand');
}

/** Re-reads the policy directory and applies it to this database when it passes every check. */
export function directoryPolicyReloader(options: {
  readonly db: Kysely<Database>;
  readonly policyDir: string;
  readonly policies: PolicyStore;
  readonly logger: Logger;
}): PolicyReloader {
  const { db, policyDir, policies, logger } = options;
  return new PolicyReloader({
    readFiles: () => readPolicyDirectory(policyDir),
    check: (files) => checkPolicyChangeInDatabase(db, files),
    apply: async (snapshot) => {
      await applyPolicy(db, snapshot);
    },
    policies,
    logger,
  });
}

/**
 * The policy files on disk if they pass every check; otherwise the last version that took effect in
 * this database (a wrong file never takes effect, even across restarts); otherwise a refusal to start.
 */
async function loadStartupPolicy(
  database: DatabaseHandle,
  policyDir: string,
  logger: Logger,
): Promise<{ snapshot: PolicySnapshot; refusedIssues?: readonly PolicyIssue[] }> {
  const files = await readPolicyDirectory(policyDir);
  const result = await checkPolicyChangeInDatabase(database.db, files);
  if (result.ok) return { snapshot: result.snapshot };

  const fallback = await latestAppliedPolicy(database.db);
  if (!fallback) throw new InvalidPolicyError(result.issues);
  logger.warn(
    { issues: result.issues.map(formatIssue) },
    'policy files refused; serving the last good policy',
  );
  return { snapshot: fallback, refusedIssues: result.issues };
}
