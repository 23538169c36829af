/**
 * wdbc as a federated commons: each patient belongs to one of three communities, and each
 * community's node holds only its own patients, in its own database (`commons.patients`). The
 * policy (privacy unit: the patient) is written here with fresh keys for every test run.
 */
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/db/database.ts';
import { generateSigningPair } from '../../src/federation/crypto.ts';
import { type PolicySnapshot, validatePolicyFiles } from '../../src/policy/validate.ts';
import type { TableRow } from '../../src/train/schema.ts';
import { loadWdbc, WDBC_FEATURES } from '../fixtures/wdbc.ts';

export const WDBC_COMMUNITIES = ['hillcrest', 'lakeside', 'riverside'] as const;
export const nodeOf = (community: string) => `node_${community}`;

type SigningPair = Awaited<ReturnType<typeof generateSigningPair>>;

export interface WdbcFederation {
  readonly snapshot: PolicySnapshot;
  readonly files: readonly { name: string; text: string }[];
  readonly gateway: SigningPair;
  readonly nodeKeys: ReadonlyMap<string, SigningPair>;
}

/** The training request of the pooled wdbc benchmark setting (logistic, ε = 3, RDP), over `patients`. */
export const WDBC_REQUEST = {
  table: 'patients',
  features: WDBC_FEATURES.map((feature) => feature.name),
  label: 'label',
  model: { kind: 'logistic' },
  optimizer: { kind: 'adam', learning_rate: 0.1 },
  clip_norm: 1,
  batch_size: 128,
  steps: 100,
  epsilon: 3,
  delta: 1e-5,
  accountant: 'rdp',
} as const;

interface WdbcPolicyOptions {
  readonly threshold?: number;
  readonly urls?: Record<string, string>;
  /** Add a public table `patients_reference` (same columns), held by the gateway, to pre-train on. */
  readonly reference?: boolean;
}

export async function wdbcFederation(options: WdbcPolicyOptions = {}): Promise<WdbcFederation> {
  const gateway = await generateSigningPair();
  const nodeKeys = new Map<string, SigningPair>();
  for (const community of WDBC_COMMUNITIES) nodeKeys.set(nodeOf(community), await generateSigningPair());
  const files = wdbcPolicyFiles(gateway.publicKey, nodeKeys, options);
  const validation = await validatePolicyFiles(files);
  if (!validation.ok) throw new Error(JSON.stringify(validation.issues));
  return { snapshot: validation.snapshot, files, gateway, nodeKeys };
}

export function wdbcPolicyFiles(
  gatewayKey: string,
  nodeKeys: ReadonlyMap<string, { publicKey: string }>,
  options: WdbcPolicyOptions = {},
) {
  const features = WDBC_FEATURES.map(
    ({ name, lower, upper }) => `      ${name}: { type: real, bounds: [${lower}, ${upper}] }`,
  );
  const nodes = WDBC_COMMUNITIES.map((community) => {
    const id = nodeOf(community);
    const url = options.urls?.[id] ? `, url: "${options.urls[id]}"` : '';
    return `    ${id}: { community: ${community}, public_key: ${nodeKeys.get(id)!.publicKey}${url} }`;
  });
  const tables = options.reference ? 'patients, patients_reference' : 'patients';
  const reference = options.reference
    ? `  patients_reference:
    public: true
    columns:
      label: { type: int, public_values: [0, 1] }
${features.join('\n')}
`
    : '';
  return [
    {
      name: 'commons.yaml',
      text: `privacy_unit: { table: patients, column: patient_id }
communities: { column: community_id }
accounting: rdp
limits:
  max_epsilon_per_job: 5
  max_delta_per_job: 1.0e-5
access:
  analyst: { tables: [${tables}] }
  council: { tables: [${tables}] }
`,
    },
    {
      name: 'budgets.yaml',
      text: `budgets:\n${WDBC_COMMUNITIES.map((c) => `  ${c}: { epsilon: 40, delta: 1.0e-3 }`).join('\n')}\n`,
    },
    {
      name: 'tables.yaml',
      text: `tables:
  patients:
    contributions: { max_rows_per_unit: 1, max_groups_per_unit: 1 }
    population: 455   # the fixed training split's published size
    columns:
      community_id: { type: text, public_values: [${WDBC_COMMUNITIES.join(', ')}] }
      label: { type: int, public_values: [0, 1] }
${features.join('\n')}
${reference}`,
    },
    {
      name: 'federation.yaml',
      text: `federation:
  gateway: { public_key: ${gatewayKey} }
  threshold: ${options.threshold ?? 2}
  tables: [patients]
  node_timeout_ms: 60000
  nodes:
${nodes.join('\n')}
`,
    },
  ];
}

/** wdbc's training rows, each with its patient id and community (row i to community i mod 3). */
export function wdbcPatients(): (TableRow & { patient_id: number; community_id: string })[] {
  return loadWdbc('train').map((row, i) => ({
    ...row,
    patient_id: i + 1,
    community_id: WDBC_COMMUNITIES[i % WDBC_COMMUNITIES.length]!,
  }));
}

/** What a community operator does once: its own patients into its own database. */
export async function loadCommunityPatients(db: Kysely<Database>, community: string): Promise<void> {
  const rows = wdbcPatients().filter((row) => row.community_id === community);
  await loadPatients(db, 'patients', rows, ['patient_id', 'community_id']);
}

/** wdbc test rows as the public `patients_reference` table of the gateway's own database. */
export async function loadReferencePatients(db: Kysely<Database>, count: number): Promise<void> {
  await loadPatients(db, 'patients_reference', loadWdbc('test').slice(0, count), []);
}

async function loadPatients(
  db: Kysely<Database>,
  table: string,
  rows: readonly TableRow[],
  keys: readonly ('patient_id' | 'community_id')[],
): Promise<void> {
  const columns = [...keys, 'label', ...WDBC_FEATURES.map((f) => f.name)];
  const keyColumns = keys.map((key) =>
    key === 'patient_id' ? 'patient_id integer primary key, ' : 'community_id text not null, ',
  );
  await sql`create schema if not exists commons`.execute(db);
  await sql
    .raw(
      `create table commons.${table} (${keyColumns.join('')}label integer not null, ${WDBC_FEATURES.map((f) => `${f.name} double precision not null`).join(', ')})`,
    )
    .execute(db);
  for (let i = 0; i < rows.length; i += 100) {
    const values = rows
      .slice(i, i + 100)
      .map(
        (row) =>
          sql`(${sql.join(columns.map((column) => sql`${(row as Record<string, unknown>)[column]}`))})`,
      );
    await sql`insert into ${sql.table(`commons.${table}`)} (${sql.join(columns.map((c) => sql.id(c)))}) values ${sql.join(values)}`.execute(
      db,
    );
  }
}
