/** `dpgate audit verify`: walks the hash chain of the audit log and reports the first broken entry. */
import { Command } from 'commander';
import { readConfig } from '../config.ts';
import { verifyAuditChain } from '../ledger/audit-log.ts';
import { withDatabase } from './with-database.ts';

export function auditCommand(): Command {
  const audit = new Command('audit').description('Check the audit log.');
  audit
    .command('verify')
    .description('Verify the audit log’s hash chain; exits 1 at the first edited, inserted or deleted entry.')
    .action(async () => {
      const result = await withDatabase(readConfig(), (database) => verifyAuditChain(database.db));
      if (result.ok) {
        console.log(`audit log ok: ${result.entries} entries, head ${result.headHash}`);
      } else {
        console.error(
          `audit log broken at entry ${result.brokenAtId}: ${result.reason} (${result.entries} entries before it verify)`,
        );
        process.exitCode = 1;
      }
    });
  return audit;
}
