/** Three `dpgate node` processes, one per demo community, each on its own throwaway database. */
import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningPair } from '../../src/federation/crypto.ts';
import { DEMO_POLICY_DIR } from '../support/demo-policy.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export const NODE_COMMUNITIES = {
  node_riverside: 'riverside',
  node_hillcrest: 'hillcrest',
  node_lakeside: 'lakeside',
};

export interface NodeProcess {
  readonly id: string;
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export interface FederationFixture {
  readonly policyDir: string;
  readonly gateway: { publicKey: string; privateKey: CryptoKey };
  readonly nodes: Map<string, NodeProcess>;
  close(): Promise<void>;
}

type CryptoKey = Awaited<ReturnType<typeof generateSigningPair>>['privateKey'];

/** Writes the demo policy plus a federation section to a temporary directory and starts the nodes. */
export async function startFederation(options: {
  threshold: number;
  colluding?: number;
}): Promise<FederationFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'dpgate-federation-'));
  const policyDir = join(dir, 'policies');
  await cp(DEMO_POLICY_DIR, policyDir, { recursive: true });
  const gateway = await generateSigningPair();
  const keys = new Map<string, Awaited<ReturnType<typeof generateSigningPair>>>();
  for (const id of Object.keys(NODE_COMMUNITIES)) keys.set(id, await generateSigningPair());
  const nodeLines = Object.entries(NODE_COMMUNITIES)
    .map(
      ([id, community]) => `    ${id}: { community: ${community}, public_key: ${keys.get(id)!.publicKey} }`,
    )
    .join('\n');
  await writeFile(
    join(policyDir, 'federation.yaml'),
    `federation:\n  gateway: { public_key: ${gateway.publicKey} }\n  threshold: ${options.threshold}\n` +
      `  max_colluding_nodes: ${options.colluding ?? 0}\n  tables: [people, survey_responses]\n` +
      `  node_timeout_ms: 60000\n  nodes:\n${nodeLines}\n`,
  );
  const nodes = new Map<string, NodeProcess>();
  try {
    await Promise.all(
      [...keys].map(async ([id, key]) => {
        const keyFile = join(dir, `${id}.jwk`);
        await writeFile(keyFile, JSON.stringify(key.privateJwk));
        nodes.set(
          id,
          await startNode(id, keyFile, policyDir, { DATABASE_URL: '', DPGATE_DATA_DIR: 'memory://' }, [
            '--demo',
          ]),
        );
      }),
    );
  } catch (error) {
    await Promise.all([...nodes.values()].map((n) => n.stop()));
    throw error;
  }
  return {
    policyDir,
    gateway,
    nodes,
    close: async () => {
      await Promise.all([...nodes.values()].map((n) => n.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `dpgate node serve` as its own process; `database` sets DATABASE_URL or DPGATE_DATA_DIR. */
export async function startNode(
  id: string,
  keyFile: string,
  policyDir: string,
  database: { DATABASE_URL: string; DPGATE_DATA_DIR?: string },
  args: readonly string[] = [],
): Promise<NodeProcess> {
  const child = spawn(
    process.execPath,
    ['bin/dpgate.js', 'node', 'serve', '--id', id, '--key', keyFile, '--port', '0', ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...database, DPGATE_POLICY_DIR: policyDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  const started = performance.now();
  // Generous: a node loading the demo commons takes half a minute on a loaded two-core machine.
  while (performance.now() - started < 240_000) {
    if (child.exitCode !== null) throw new Error(`node ${id} exited:\n${output}`);
    const url = output.match(/"url":"(http:\/\/[^"]+)"/)?.[1];
    if (url) return { id, url, child, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`node ${id} did not start:\n${output}`);
}
