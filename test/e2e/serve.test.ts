/**
 * `dpgate serve` as a new user runs it: a fresh data directory, the demo, signals to stop, and a
 * second start on the same directory. On PostgreSQL, two gateways start at once on one database.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTestDatabase, TEST_DATABASE_KINDS } from '../support/databases.ts';
import { startGateway } from '../support/gateway-process.ts';
import { MIGRATION_COUNT } from '../support/migrations.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'dpgate-e2e-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const embedded = { DATABASE_URL: undefined, DPGATE_DATA_DIR: dataDir, DPGATE_DEMO: '1' };

describe('dpgate serve on embedded PGlite', () => {
  let firstStartMs = 0;

  it('starts on a fresh data directory with the demo, healthy within 15 s', async () => {
    const gateway = await startGateway(embedded);
    firstStartMs = gateway.readyAfterMs;
    try {
      expect(gateway.readyAfterMs).toBeLessThan(15_000);
      const health = await (await fetch(`${gateway.url}/health`)).json();
      expect(health).toMatchObject({ status: 'ok', database: 'ok', database_kind: 'pglite' });

      const keys = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8'));
      expect(Object.keys(keys.contributors).sort()).toEqual(['hillcrest', 'lakeside', 'riverside']);
      expect(gateway.output()).toContain(keys.analyst);
      expect(gateway.output()).toContain(`curl -s -H "Authorization: Bearer ${keys.analyst}"`);
      const me = await fetch(`${gateway.url}/v1/me`, {
        headers: { authorization: `Bearer ${keys.council}` },
      });
      expect(await me.json()).toMatchObject({ role: 'council' });
    } finally {
      expect(await gateway.stop('SIGINT')).toBe(0);
    }
  });

  it('shuts down cleanly on SIGTERM, finishing in-flight requests, and reopens the same data faster', async () => {
    const gateway = await startGateway(embedded);
    try {
      expect(gateway.readyAfterMs).toBeLessThan(firstStartMs);
      expect(gateway.output()).toContain('"applied":0');
      expect(gateway.output()).not.toContain('demo commons loaded');
      const keys = JSON.parse(readFileSync(join(dataDir, 'demo-keys.json'), 'utf8'));
      const inFlight = Array.from({ length: 20 }, () =>
        fetch(`${gateway.url}/v1/me`, { headers: { authorization: `Bearer ${keys.analyst}` } }).then(
          (r) => r.status,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      const exitCode = gateway.stop('SIGTERM');
      const statuses = await Promise.allSettled(inFlight);
      // Every request either completed normally or was never accepted; none was cut off with an error status.
      for (const status of statuses) if (status.status === 'fulfilled') expect(status.value).toBe(200);
      expect(await exitCode).toBe(0);
      expect(gateway.output()).toContain('dpgate stopped');
    } finally {
      gateway.child.kill('SIGKILL');
    }
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
  });
});

describe.runIf(TEST_DATABASE_KINDS.includes('postgres'))('dpgate serve on PostgreSQL', () => {
  it('starts two gateways at once on one database: migrations and demo run once', async () => {
    const database = await openTestDatabase('postgres', { demo: false });
    const keysDir = mkdtempSync(join(tmpdir(), 'dpgate-e2e-pg-'));
    try {
      await database.db.schema.dropSchema('dpgate').cascade().execute();
      await database.db.schema.dropSchema('drizzle').cascade().execute();
      const env = { DATABASE_URL: database.url, DPGATE_DATA_DIR: keysDir, DPGATE_DEMO: '1' };
      const gateways = await Promise.all([startGateway(env), startGateway(env)]);
      try {
        const outputs = gateways.map((gateway) => gateway.output());
        expect(outputs.filter((output) => output.includes(`"applied":${MIGRATION_COUNT}`))).toHaveLength(1);
        expect(outputs.filter((output) => output.includes('"applied":0'))).toHaveLength(1);
        expect(outputs.filter((output) => output.includes('demo commons loaded'))).toHaveLength(1);
        for (const gateway of gateways) {
          expect(await (await fetch(`${gateway.url}/health`)).json()).toMatchObject({
            status: 'ok',
            database_kind: 'postgres',
          });
        }
      } finally {
        await Promise.all(gateways.map((gateway) => gateway.stop()));
      }
    } finally {
      rmSync(keysDir, { recursive: true, force: true });
      await database.close();
    }
  });
});
