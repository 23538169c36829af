/**
 * `dpgate keys list|create|revoke|rotate`. Through a running gateway's keys API with a council key
 * (`--key`), which works while an embedded gateway holds its data directory; `create` without a key
 * writes to the database directly, to make the first council key.
 */
import { Command, Option } from 'commander';
import { readConfig } from '../config.ts';
import { readPolicyDirectory } from '../policy/load-directory.ts';
import { ROLES } from '../policy/schema.ts';
import { validatePolicyFiles } from '../policy/validate.ts';
import { checkNewApiKey, createApiKey } from '../principals/api-keys.ts';
import {
  expectOk,
  type GatewayOptions,
  withGatewayOptions,
  withOptionalGatewayOptions,
} from './gateway-options.ts';
import { withDatabase } from './with-database.ts';

interface KeyView {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly community: string | null;
  readonly prefix: string;
  readonly created_at: string;
  readonly revoked_at: string | null;
}

type Role = (typeof ROLES)[number];

export function keysCommand(): Command {
  const keys = new Command('keys').description('Manage API keys.');

  keys.addCommand(
    withGatewayOptions(
      new Command('list').description('List every API key (never the secrets).'),
      'a council',
    )
      .option('--json', 'print the raw JSON')
      .action(async (options: GatewayOptions & { json?: boolean }) => {
        const body = await expectOk<{ keys: KeyView[] }>(options, 'GET', '/v1/keys');
        if (options.json) console.log(JSON.stringify(body.keys, null, 2));
        else console.log(formatKeys(body.keys));
      }),
  );

  keys.addCommand(
    withOptionalGatewayOptions(
      new Command('create').description('Create an API key and print it once; only its hash is stored.'),
    )
      .addOption(
        new Option('--role <role>', 'analyst, contributor or council').choices(ROLES).makeOptionMandatory(),
      )
      .option('--community <id>', 'the community a contributor key belongs to')
      .requiredOption('--name <name>', 'who or what the key is for')
      .action(
        async (options: { role: Role; community?: string; name: string; url: string; key?: string }) => {
          const request = { role: options.role, name: options.name, communityId: options.community };
          checkNewApiKey(request);
          if (options.key) {
            const created = await expectOk<{ key: KeyView; secret: string }>(
              { url: options.url, key: options.key },
              'POST',
              '/v1/keys',
              {
                name: options.name,
                role: options.role,
                ...(options.community ? { community: options.community } : {}),
              },
            );
            return printSecret(created.secret, created.key);
          }
          const config = readConfig();
          if (options.community) await checkCommunity(config.DPGATE_POLICY_DIR, options.community);
          const created = await withDatabase(config, (database) => createApiKey(database.db, request));
          printSecret(created.key, { name: options.name, role: options.role, prefix: created.prefix });
        },
      ),
  );

  keys.addCommand(
    withGatewayOptions(
      new Command('revoke')
        .description('Revoke a key: every gateway on the database refuses it from the next request.')
        .argument('<id>', 'the key’s id (from `dpgate keys list`)'),
      'a council',
    ).action(async (id: string, options: GatewayOptions) => {
      const revoked = await expectOk<KeyView>(options, 'POST', `/v1/keys/${encodeURIComponent(id)}/revoke`);
      console.log(
        `revoked ${revoked.role} key "${revoked.name}" (${revoked.prefix}…) at ${revoked.revoked_at}`,
      );
    }),
  );

  keys.addCommand(
    withGatewayOptions(
      new Command('rotate')
        .description('Replace a key with a new one for the same principal; the old one is revoked.')
        .argument('<id>', 'the key’s id (from `dpgate keys list`)'),
      'a council',
    ).action(async (id: string, options: GatewayOptions) => {
      const rotated = await expectOk<{ key: KeyView; secret: string }>(
        options,
        'POST',
        `/v1/keys/${encodeURIComponent(id)}/rotate`,
      );
      printSecret(rotated.secret, rotated.key);
    }),
  );
  return keys;
}

/** The secret alone on stdout (for scripts); what it is on stderr. */
function printSecret(secret: string, key: Pick<KeyView, 'name' | 'role' | 'prefix'>): void {
  console.log(secret);
  console.error(`created ${key.role} key "${key.name}" (${key.prefix}…); it will not be shown again`);
}

export function formatKeys(keys: readonly KeyView[]): string {
  const header = ['id', 'name', 'role', 'community', 'prefix', 'created', 'revoked'];
  const rows = keys.map((k) => [
    k.id,
    k.name,
    k.role,
    k.community ?? '',
    `${k.prefix}…`,
    k.created_at.slice(0, 19).replace('T', ' '),
    k.revoked_at ? k.revoked_at.slice(0, 19).replace('T', ' ') : '',
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

async function checkCommunity(policyDir: string, community: string): Promise<void> {
  const validation = await validatePolicyFiles(await readPolicyDirectory(policyDir));
  if (validation.ok && !(community in validation.snapshot.policy.budgets)) {
    throw new Error(
      `unknown community "${community}": the policy has budgets for ${Object.keys(validation.snapshot.policy.budgets).join(', ')}`,
    );
  }
}
