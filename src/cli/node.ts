/**
 * `dpgate node`: what a community runs beside its own database when it keeps its rows at home.
 *  - `dpgate node keygen --out key.json`: a new Ed25519 signing key (private JWK, mode 0600); prints
 *    the public key for the council to put under `federation.nodes.<id>.public_key`, and (on stderr)
 *    its fingerprint, which the dashboard shows beside every node;
 *  - `dpgate node serve --id <node> --key key.json`: serves the federation protocol (HTTP, signed)
 *    over this node's database (DATABASE_URL, or PGlite in DPGATE_DATA_DIR) and policy directory.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { serve } from '@hono/node-server';
import { Command, InvalidArgumentError } from 'commander';
import { type Kysely, sql } from 'kysely';
import { readConfig } from '../config.ts';
import { openDatabase } from '../db/connect.ts';
import type { Database } from '../db/database.ts';
import { migrate } from '../db/migrate.ts';
import { syncQueryRole } from '../db/query-role.ts';
import { loadDemoCommons } from '../demo/load-demo.ts';
import { generateSigningPair, importSigningKey, keyFingerprint } from '../federation/crypto.ts';
import { createNodeService } from '../federation/node-service.ts';
import { formatIssue } from '../policy/issues.ts';
import { readPolicyDirectory } from '../policy/load-directory.ts';
import { validatePolicyFiles } from '../policy/validate.ts';

export function nodeCommand(): Command {
  const node = new Command('node').description('Run a federation node beside a community’s own database.');
  node
    .command('keygen')
    .description('Create a signing key pair; print the public key for the policy.')
    .requiredOption('--out <file>', 'where to write the private key (JWK)')
    .action(async (options: { out: string }) => {
      const pair = await generateSigningPair();
      await writeFile(options.out, JSON.stringify(pair.privateJwk), { mode: 0o600, flag: 'wx' });
      console.log(pair.publicKey);
      // On stderr, so scripts reading the key from stdout still get the key alone.
      console.error(`fingerprint: ${await keyFingerprint(pair.publicKey)}`);
    });
  node
    .command('serve')
    .description('Answer the gateway’s signed federation requests (never rows or unmasked values).')
    .requiredOption('--id <node>', 'this node’s id under federation.nodes')
    .requiredOption('--key <file>', 'this node’s private signing key (from `dpgate node keygen`)')
    .option('--host <host>', 'address to listen on (HOST)')
    .option('--port <port>', 'port to listen on (PORT)', parsePort)
    .option('--demo', 'load the demo commons and keep only this node’s community (for trying it out)')
    .action(async (options: { id: string; key: string; host?: string; port?: number; demo?: boolean }) => {
      const config = readConfig();
      const validation = await validatePolicyFiles(await readPolicyDirectory(config.DPGATE_POLICY_DIR));
      if (!validation.ok) {
        for (const issue of validation.issues) console.error(formatIssue(issue));
        throw new Error('the policy is not valid');
      }
      const snapshot = validation.snapshot;
      const community = snapshot.policy.federation?.nodes[options.id]?.community;
      if (!community) throw new Error(`node "${options.id}" is not under federation.nodes in the policy`);
      const signing = await importSigningKey(JSON.parse(await readFile(options.key, 'utf8')));
      if (signing.publicKey !== snapshot.policy.federation!.nodes[options.id]!.public_key) {
        throw new Error('the key file does not match this node’s public key in the policy');
      }
      const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DPGATE_DATA_DIR });
      await migrate(database);
      if (options.demo || config.DPGATE_DEMO) await keepOneCommunity(database.db, community);
      await database.db.transaction().execute((trx) => syncQueryRole(trx, snapshot.policy, 'node'));
      const service = createNodeService({
        nodeId: options.id,
        signingKey: signing.privateKey,
        policy: snapshot,
        db: database.db,
      });
      const server = serve({
        fetch: service.app.fetch,
        hostname: options.host ?? config.HOST,
        port: options.port ?? config.PORT,
      });
      server.once('listening', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : options.port;
        console.log(
          JSON.stringify({
            msg: 'node listening',
            node: options.id,
            community,
            url: `http://${options.host ?? config.HOST}:${port}`,
          }),
        );
      });
      const stop = () => {
        server.close();
        void database.close().finally(() => process.exit(0));
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
  return node;
}

/** Demo only: the full demo commons, then every other community's people and responses removed. */
async function keepOneCommunity(db: Kysely<Database>, community: string): Promise<void> {
  await loadDemoCommons(db);
  await db.transaction().execute(async (trx) => {
    await sql`delete from commons.survey_responses where person_id in
      (select person_id from commons.people where community_id <> ${community})`.execute(trx);
    await sql`delete from commons.people where community_id <> ${community}`.execute(trx);
  });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidArgumentError('must be a port number');
  return port;
}
