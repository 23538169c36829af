/**
 * The `dpgate` command. Each subcommand is a thin edge over the same modules the server uses.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { auditCommand } from './cli/audit.ts';
import { expectOk, withOptionalGatewayOptions } from './cli/gateway-options.ts';
import { keysCommand } from './cli/keys.ts';
import { nodeCommand } from './cli/node.ts';
import { policyReloadCommand } from './cli/policy-reload.ts';
import { privacyCommand } from './cli/privacy.ts';
import { queryCommand } from './cli/query.ts';
import { withDatabase } from './cli/with-database.ts';
import { readConfig } from './config.ts';
import { openDatabase } from './db/connect.ts';
import { DataDirInUseError } from './db/data-dir-lock.ts';
import { migrate } from './db/migrate.ts';
import { loadDemoCommons } from './demo/load-demo.ts';
import { checkPolicyChangeInDatabase } from './ledger/policy-change-check.ts';
import { formatIssue } from './policy/issues.ts';
import { readPolicyDirectory } from './policy/load-directory.ts';
import { validatePolicyFiles } from './policy/validate.ts';
import { runServer } from './server.ts';

const program = new Command('dpgate')
  .description('A differentially private query and statistics gateway for a data commons.')
  .version(packageVersion(), '-V, --version', 'print the dpgate version')
  .showHelpAfterError();

program
  .command('serve')
  .description('Start the HTTP gateway (migrations run first).')
  .option('--demo', 'load the demo commons and create demo keys (same as DPGATE_DEMO=1)')
  .option('--host <host>', 'address to listen on (HOST)')
  .option('--port <port>', 'port to listen on (PORT)', parsePort)
  .action(async (options: { demo?: boolean; host?: string; port?: number }) => {
    const config = readConfig();
    await runServer({
      ...config,
      DPGATE_DEMO: config.DPGATE_DEMO || Boolean(options.demo),
      HOST: options.host ?? config.HOST,
      PORT: options.port ?? config.PORT,
    });
  });

program
  .command('migrate')
  .description('Apply pending database migrations (safe to run again, or from two processes at once).')
  .action(async () => {
    const config = readConfig();
    const database = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DPGATE_DATA_DIR }).catch(
      (error: unknown) => {
        if (!(error instanceof DataDirInUseError)) throw error;
        throw new DataDirInUseError(
          `${error.message}. The gateway holding it applied every migration it knows when it started; to apply a new version's migrations, stop it and start the new version (it migrates first)`,
        );
      },
    );
    // Not withDatabase: this command reports how many migrations it applied.
    try {
      const applied = await migrate(database);
      console.log(applied === 0 ? 'database is up to date' : `applied ${applied} migration(s)`);
    } finally {
      await database.close();
    }
  });

const policy = program.command('policy').description('Work with policy files.');
withOptionalGatewayOptions(
  policy
    .command('check')
    .description(
      'Validate a policy directory: files, schema, cross-references and the database (through a running gateway with --key).',
    )
    .argument('[dir]', 'policy directory (DPGATE_POLICY_DIR, default policies/)')
    .option('--offline', 'skip the checks against the database')
    .option('--demo', 'load the demo commons into the database first (once)'),
).action(
  async (
    dir: string | undefined,
    options: { offline?: boolean; demo?: boolean; url: string; key?: string },
  ) => {
    const config = readConfig();
    const files = await readPolicyDirectory(dir ?? config.DPGATE_POLICY_DIR);
    if (options.offline) return reportPolicy(await validatePolicyFiles(files));
    if (options.key) {
      const result = await expectOk<{
        valid: boolean;
        version?: string;
        issues: { path: string; message: string; file?: string; line?: number; column?: number }[];
      }>({ url: options.url, key: options.key }, 'POST', '/v1/policies/validate', { files });
      if (result.valid) return console.log(`policy ok (version ${result.version?.slice(0, 12)})`);
      for (const issue of result.issues) console.error(formatIssue({ ...issue, path: [issue.path] }));
      process.exitCode = 1;
      return;
    }
    await withDatabase(config, async (database) => {
      if (options.demo || config.DPGATE_DEMO) await loadDemoCommons(database.db);
      reportPolicy(await checkPolicyChangeInDatabase(database.db, files));
    });
  },
);

policy.addCommand(policyReloadCommand());

program.addCommand(keysCommand());
program.addCommand(privacyCommand());
program.addCommand(auditCommand());
program.addCommand(queryCommand());
program.addCommand(nodeCommand());

function reportPolicy(result: Awaited<ReturnType<typeof validatePolicyFiles>>): void {
  if (result.ok) {
    console.log(`policy ok (version ${result.snapshot.version.slice(0, 12)})`);
    return;
  }
  for (const issue of result.issues) console.error(formatIssue(issue));
  process.exitCode = 1;
}

/** package.json sits one level above both src/cli.ts and the compiled dist/cli.js. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return String(manifest.version);
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidArgumentError('must be a port number');
  return port;
}

await program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`dpgate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
