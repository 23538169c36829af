/**
 * A federated query at the gateway: plan (free) → charge every community whose node is asked
 * (committed before any node is contacted) → secure aggregation of the nodes' noised, masked
 * vectors → release. The gateway never holds one node's unmasked vector; its only unmasked vector
 * is the sum of at least `threshold` nodes', each of which already carries its noise share.
 * A round that aborts releases nothing; its charge stands, like a pooled query that failed after
 * charging, because nodes may already have computed on their data.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { appendAudit } from '../ledger/audit-log.ts';
import { type CommunityCharge, commitCharge } from '../ledger/charge.ts';
import { ledgerTransaction } from '../ledger/ledger-transaction.ts';
import { releaseCost } from '../ledger/release-cost.ts';
import type { PolicySnapshot } from '../policy/validate.ts';
import type { Principal } from '../principals/principal.ts';
import type { ReleasedAnswer } from '../sql/index.ts';
import { planFederatedQuery, releaseFederated } from './federated-query.ts';
import {
  AggregationAborted,
  type AggregationOptions,
  type Dropout,
  secureAggregate,
} from './secagg-gateway.ts';

export interface FederatedQueryContext {
  readonly db: Kysely<Database>;
  readonly policy: PolicySnapshot;
  readonly principal: Principal;
  readonly requestId: string;
  readonly aggregation: AggregationOptions;
}

export interface FederatedQueryBody {
  readonly sql: string;
  readonly epsilon?: number | undefined;
  readonly delta?: number | undefined;
}

export interface FederatedAnswer extends ReleasedAnswer {
  readonly id: string;
  readonly cost: { readonly epsilon: number; readonly delta: number; readonly rho: number };
  readonly charged: readonly CommunityCharge[];
  readonly contributors: readonly string[];
  readonly dropouts: readonly Dropout[];
  readonly noise: {
    readonly guaranteed_nodes: number;
    readonly local_sigma: readonly number[];
    readonly tau: readonly number[];
    readonly wrap_probability: number;
  };
}

export class FederatedQueryAborted extends Error {
  override name = 'FederatedQueryAborted';
  constructor(
    readonly answerId: string,
    readonly dropouts: readonly Dropout[],
  ) {
    super('too few nodes completed the round; nothing was released and the charge stands');
  }
}

export async function answerFederatedQuery(
  context: FederatedQueryContext,
  body: FederatedQueryBody,
): Promise<FederatedAnswer> {
  const { db, policy, principal, requestId } = context;
  const federation = policy.policy.federation;
  if (!federation) throw new Error('the policy has no federation section');
  const task = {
    kind: 'sql' as const,
    sql: body.sql,
    epsilon: body.epsilon ?? policy.policy.limits.default_epsilon,
    delta: body.delta ?? policy.policy.limits.default_delta,
    policyVersion: policy.version,
  };
  const federated = planFederatedQuery(policy.policy, task); // throws FederatedQueryRefusal
  const nodes = Object.keys(federation.nodes).sort();
  const nodeCommunities = new Set(nodes.map((node) => federation.nodes[node]!.community));
  const communities = federated.plan.scope.communities.filter((c) => nodeCommunities.has(c));
  const answerId = crypto.randomUUID();
  const cost = releaseCost({
    losses: federated.losses,
    mechanism: 'distributed_discrete_gaussian',
    zcdpDelta: federated.plan.cost.delta,
  });

  const charged = await ledgerTransaction(db, async (trx) => {
    const committed = await commitCharge(trx, {
      requestId,
      principal,
      kind: 'query',
      subjectId: answerId,
      description: body.sql,
      communities,
      cost,
      policyVersion: policy.version,
    });
    await appendAudit(trx, {
      actor: principal.id,
      action: 'query.charged',
      requestId,
      details: {
        answer_id: answerId,
        federated: true,
        communities,
        charged: committed.map((c) => c.charged),
      },
    });
    return committed;
  });

  let result: Awaited<ReturnType<typeof secureAggregate>>;
  try {
    result = await secureAggregate(
      { nodes, threshold: federation.threshold, bits: federated.bits, length: federated.length, task },
      { timeoutMs: federation.node_timeout_ms, ...context.aggregation },
    );
  } catch (error) {
    if (!(error instanceof AggregationAborted)) throw error;
    await appendAudit(db, {
      actor: principal.id,
      action: 'query.failed',
      requestId,
      details: { answer_id: answerId, federated: true, round: error.round, dropouts: error.dropouts },
    });
    throw new FederatedQueryAborted(answerId, error.dropouts);
  }
  const answer = releaseFederated(federated, result.sum.toSignedIntegers(), result.contributors.length);
  await appendAudit(db, {
    actor: principal.id,
    action: 'query.released',
    requestId,
    details: {
      answer_id: answerId,
      federated: true,
      contributors: result.contributors,
      dropouts: result.dropouts,
    },
  });
  return {
    id: answerId,
    ...answer,
    cost: {
      epsilon: cost.approx.epsilon,
      delta: cost.approx.delta,
      rho: federated.losses.reduce((s, l) => s + (l.kind === 'zcdp' ? l.rho : 0), 0),
    },
    charged,
    contributors: result.contributors,
    dropouts: result.dropouts,
    noise: {
      guaranteed_nodes: federation.threshold - federation.max_colluding_nodes,
      local_sigma: federated.noise.map((n) =>
        Math.sqrt(n.localSigmaSquared.numerator / n.localSigmaSquared.denominator),
      ),
      tau: federated.noise.map((n) => n.tau),
      wrap_probability: federated.wrapProbability,
    },
  };
}
