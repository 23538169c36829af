/** An app over a test database with the demo policy in force and one key per role. */

import { createApp } from '../../src/http/app.ts';
import type { AppDependencies, Logger } from '../../src/http/context.ts';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { PolicyStore } from '../../src/policy/policy-store.ts';
import { createApiKey } from '../../src/principals/api-keys.ts';
import type { TestDatabase } from './databases.ts';
import { demoPolicySnapshot } from './demo-policy.ts';

export interface LoggedLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly message: string | undefined;
}

/** A logger that keeps what it is told, so tests can check what reaches the logs. */
export function recordingLogger(lines: LoggedLine[] = [], bound: Record<string, unknown> = {}): Logger {
  const record = (level: LoggedLine['level']) => (fields: object, message?: string) => {
    lines.push({ level, fields: { ...bound, ...fields }, message });
  };
  return {
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    child: (fields) => recordingLogger(lines, { ...bound, ...fields }),
  };
}

/** `more` adds dependencies (a policy reloader, rate limits) built over the app's store and logger. */
export async function createTestApp(
  database: TestDatabase,
  more: (parts: { policies: PolicyStore; logger: Logger }) => Partial<AppDependencies> = () => ({}),
) {
  const snapshot = await demoPolicySnapshot();
  await applyPolicy(database.db, snapshot);
  const policies = new PolicyStore(snapshot);
  const logs: LoggedLine[] = [];
  const logger = recordingLogger(logs);
  const app = createApp({
    db: database.db,
    queries: database.queries,
    databaseKind: database.kind,
    policies,
    logger,
    readAsset: async (name) => new TextEncoder().encode(`asset ${name}`),
    ...more({ policies, logger }),
  });
  const keys = {
    analyst: (await createApiKey(database.db, { role: 'analyst', name: 'test analyst' })).key,
    council: (await createApiKey(database.db, { role: 'council', name: 'test council' })).key,
    riverside: (
      await createApiKey(database.db, {
        role: 'contributor',
        name: 'test contributor',
        communityId: 'riverside',
      })
    ).key,
  };
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  /** POST /v1/queries as the given key (the analyst's by default). */
  const query = (body: Record<string, unknown>, key = keys.analyst, headers: Record<string, string> = {}) =>
    app.request('/v1/queries', {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  return { app, keys, bearer, logs, policies, query };
}
