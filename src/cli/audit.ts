/**
 * `dpgate audit verify`: walks the hash chain of the audit log and reports the first broken entry.
 * On the database directly, or with a council `--key` through a running gateway's
 * `GET /v1/audit/status` (the way while an embedded gateway holds its data directory).
 */
import { Command } from 'commander';
import { readConfig } from '../config.ts';
import { verifyAuditChain } from '../ledger/audit-log.ts';
import { expectOk, withOptionalGatewayOptions } from './gateway-options.ts';
import { withDatabase } from './with-database.ts';

interface Verification {
  readonly ok: boolean;
  readonly entries: number;
  readonly head_hash?: string | null;
  readonly broken_at_id?: number | null;
  readonly reason?: string | null;
}

export function auditCommand(): Command {
  const audit = new Command('audit').description('Check the audit log.');
  withOptionalGatewayOptions(
    audit
      .command('verify')
      .description(
        'Verify the audit log’s hash chain; exits 1 at the first edited, inserted or deleted entry.',
      ),
  ).action(async (options: { url: string; key?: string }) => {
    const result = options.key
      ? await expectOk<Verification>({ url: options.url, key: options.key }, 'GET', '/v1/audit/status')
      : await withDatabase(readConfig(), async (database) => {
          const local = await verifyAuditChain(database.db);
          return local.ok
            ? { ok: true, entries: local.entries, head_hash: local.headHash }
            : { ok: false, entries: local.entries, broken_at_id: local.brokenAtId, reason: local.reason };
        });
    if (result.ok) {
      console.log(`audit log ok: ${result.entries} entries, head ${result.head_hash}`);
    } else {
      console.error(
        `audit log broken at entry ${result.broken_at_id}: ${result.reason} (${result.entries} entries before it verify)`,
      );
      process.exitCode = 1;
    }
  });
  return audit;
}
