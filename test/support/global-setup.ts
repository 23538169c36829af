/**
 * Runs once before the suite: builds the PGlite templates (migrated; with and without the demo
 * commons) and writes them to files, so each test file restores one in about a second instead of
 * paying PGlite's cold start and the demo load again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/connect.ts';
import { migrate } from '../../src/db/migrate.ts';
import { loadDemoCommons } from '../../src/demo/load-demo.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplates: { demo: string; empty: string };
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const directory = join(tmpdir(), `dpgate-test-templates-${process.pid}`);
  mkdirSync(directory, { recursive: true });
  const write = async (demo: boolean) => {
    const handle = await openDatabase({ dataDir: 'memory://' });
    await migrate(handle);
    if (demo) await loadDemoCommons(handle.db);
    if (handle.driver.kind !== 'pglite') throw new Error('expected PGlite');
    const dump = await handle.driver.pglite.dumpDataDir('none');
    await handle.close();
    const file = join(directory, demo ? 'demo.tar' : 'empty.tar');
    writeFileSync(file, new Uint8Array(await dump.arrayBuffer()));
    return file;
  };
  const [demo, empty] = await Promise.all([write(true), write(false)]);
  project.provide('pgliteTemplates', { demo, empty });
}
