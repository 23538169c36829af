import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningPair } from '../../src/federation/crypto.ts';
import { answerFederatedQuery, FederatedQueryAborted } from '../../src/federation/federated-sql-gateway.ts';
import { type Envelope, signEnvelope } from '../../src/federation/messages.ts';
import type { HeldVector } from '../../src/federation/secagg-gateway.ts';
import { HttpTransport } from '../../src/federation/transport.ts';
import { applyPolicy } from '../../src/ledger/apply-policy.ts';
import { readPolicyDirectory } from '../../src/policy/load-directory.ts';
import { type PolicySnapshot, validatePolicyFiles } from '../../src/policy/validate.ts';
import { openTestDatabase, type TestDatabase } from '../support/databases.ts';
import { testPrincipal } from '../support/ledger.ts';
import { type FederationFixture, startFederation } from './node-processes.ts';

let federation: FederationFixture;
let pooled: TestDatabase;
let policy: PolicySnapshot;

beforeAll(async () => {
  [federation, pooled] = await Promise.all([startFederation({ threshold: 2 }), openTestDatabase('pglite')]);
  const validation = await validatePolicyFiles(await readPolicyDirectory(federation.policyDir));
  if (!validation.ok) throw new Error(JSON.stringify(validation.issues));
  policy = validation.snapshot;
  await applyPolicy(pooled.db, policy);
}, 600_000);

afterAll(async () => {
  await federation?.close();
  await pooled?.close();
});

function context(options: { observe?: (held: HeldVector) => void; transport?: HttpTransport } = {}) {
  const urls = Object.fromEntries([...federation.nodes].map(([id, node]) => [id, node.url]));
  return {
    db: pooled.db,
    policy,
    principal: testPrincipal('analyst'),
    requestId: crypto.randomUUID(),
    aggregation: {
      transport: options.transport ?? new HttpTransport(urls),
      identity: {
        id: 'gateway',
        signingKey: federation.gateway.privateKey,
        nodeKeys: Object.fromEntries(
          Object.entries(policy.policy.federation!.nodes).map(([id, node]) => [id, node.public_key]),
        ),
      },
      observe: options.observe,
    },
  };
}

async function pooledTruth(query: string): Promise<Record<string, number>> {
  const result = await sql.raw<Record<string, string>>(query).execute(pooled.db);
  return Object.fromEntries(Object.entries(result.rows[0]!).map(([k, v]) => [k, Number(v)]));
}

describe('federated SQL over three node processes', () => {
  it('COUNT and SUM agree with the pooled commons within their stated intervals', async () => {
    const held: HeldVector[] = [];
    const answer = await answerFederatedQuery(context({ observe: (h) => held.push(h) }), {
      sql: 'SELECT COUNT(*) AS n, SUM(income) AS income FROM people',
      epsilon: 1,
      delta: 1e-6,
    });
    const truth = await pooledTruth(
      'SELECT COUNT(*) AS n, SUM(LEAST(GREATEST(income, 0), 500000)) AS income FROM commons.people',
    );
    expect(answer.columns).toEqual(['n', 'income']);
    expect(answer.contributors).toHaveLength(3);
    const [n, income] = answer.rows[0] as number[];
    const [nAccuracy, incomeAccuracy] = answer.accuracy[0] as unknown as { halfWidth: number }[];
    expect(Math.abs(n! - truth.n!)).toBeLessThanOrEqual(nAccuracy!.halfWidth);
    expect(Math.abs(income! - truth.income!)).toBeLessThanOrEqual(incomeAccuracy!.halfWidth);
    // Charged before the round, to every community, at most the requested ε.
    expect(answer.charged.map((c) => c.communityId).sort()).toEqual(['hillcrest', 'lakeside', 'riverside']);
    expect(answer.cost.epsilon).toBeLessThanOrEqual(1);
    // The gateway held three masked inputs, their masked sum and the final sum: nothing else.
    expect(held.map((h) => h.kind)).toEqual([
      'masked_input',
      'masked_input',
      'masked_input',
      'masked_sum',
      'sum',
    ]);
    for (const h of held.filter((x) => x.kind === 'masked_input')) {
      // A node's true count and income sum are far below 2^40; a masked coordinate is uniform mod 2^64.
      const magnitudes = Array.from({ length: h.vector.length }, (_, i) => h.vector.limbs[2 * i + 1]!);
      expect(Math.max(...magnitudes)).toBeGreaterThan(2 ** 8);
    }
  }, 120_000);

  it('GROUP BY a public key with AVG: every group within its interval', async () => {
    const answer = await answerFederatedQuery(context(), {
      sql: 'SELECT sex, COUNT(*) AS n, AVG(age) AS age FROM people GROUP BY sex',
      epsilon: 1,
      delta: 1e-6,
    });
    expect(answer.rows.map((r) => r[0])).toEqual([0, 1]);
    for (const [index, row] of answer.rows.entries()) {
      const truth = await pooledTruth(
        `SELECT COUNT(*) AS n, AVG(LEAST(GREATEST(age, 0), 100)) AS age FROM commons.people WHERE sex = ${row[0]}`,
      );
      const [, nAccuracy, ageAccuracy] = answer.accuracy[index] as unknown as {
        halfWidth: number;
        lower: number;
        upper: number;
      }[];
      expect(Math.abs((row[1] as number) - truth.n!)).toBeLessThanOrEqual(nAccuracy!.halfWidth);
      expect(truth.age).toBeGreaterThanOrEqual(ageAccuracy!.lower);
      expect(truth.age).toBeLessThanOrEqual(ageAccuracy!.upper);
    }
  }, 120_000);

  it('a node refuses a request signed by a key other than the gateway’s, and a replayed one', async () => {
    const node = federation.nodes.get('node_riverside')!;
    const impostor = await generateSigningPair();
    const envelope = await signEnvelope(
      { sessionId: 'a'.repeat(64), round: 'advertise', from: 'gateway', to: 'node_riverside', body: {} },
      impostor.privateKey,
    );
    const post = (message: Envelope) =>
      fetch(`${node.url}/federation/v1/secagg`, { method: 'POST', body: JSON.stringify(message) });
    const refused = await post(envelope);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'gateway signature does not verify' });

    const captured: Envelope[] = [];
    const urls = Object.fromEntries([...federation.nodes].map(([id, n]) => [id, n.url]));
    const recording = new HttpTransport(urls);
    const call = recording.call.bind(recording);
    recording.call = async (target, message, timeout) => {
      if (target === 'node_riverside') captured.push(message);
      return call(target, message, timeout);
    };
    await answerFederatedQuery(context({ transport: recording }), {
      sql: 'SELECT COUNT(*) FROM people',
      epsilon: 0.1,
      delta: 1e-7,
    });
    for (const message of captured) {
      const replay = await post(message);
      expect(replay.status).toBe(400);
      expect(((await replay.json()) as { error: string }).error).toMatch(/replayed|out of order/);
    }
  }, 120_000);

  it('completes when one node dies mid-round, and aborts with nothing released when two do', async () => {
    const urls = Object.fromEntries([...federation.nodes].map(([id, n]) => [id, n.url]));
    const killing = (victims: string[]) => {
      const transport = new HttpTransport(urls);
      const call = transport.call.bind(transport);
      transport.call = async (target, message, timeout) => {
        if (message.round === 'masked-input' && victims.includes(target))
          await federation.nodes.get(target)!.stop();
        return call(target, message, timeout);
      };
      return transport;
    };
    const answer = await answerFederatedQuery(context({ transport: killing(['node_lakeside']) }), {
      sql: 'SELECT COUNT(*) AS n FROM people',
      epsilon: 0.5,
      delta: 1e-6,
    });
    expect(answer.contributors).toEqual(['node_hillcrest', 'node_riverside']);
    expect(answer.dropouts).toEqual([
      expect.objectContaining({ node: 'node_lakeside', round: 'masked-input' }),
    ]);
    const truth = await pooledTruth(
      "SELECT COUNT(*) AS n FROM commons.people WHERE community_id <> 'lakeside'",
    );
    const [n] = answer.rows[0] as number[];
    expect(Math.abs(n! - truth.n!)).toBeLessThanOrEqual(
      (answer.accuracy[0]![0] as { halfWidth: number }).halfWidth,
    );

    const run = answerFederatedQuery(context({ transport: killing(['node_hillcrest']) }), {
      sql: 'SELECT COUNT(*) AS n FROM people',
      epsilon: 0.5,
      delta: 1e-6,
    });
    await expect(run).rejects.toBeInstanceOf(FederatedQueryAborted);
    const audit = await pooled.db
      .selectFrom('dpgate.audit_log')
      .select(['action', 'details'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(audit.action).toBe('query.failed');
  }, 120_000);
});
