/**
 * What `dpgate node` serves: the node side of secure aggregation over HTTP, and nothing else. It
 * answers only requests signed by the gateway named in policy, computes its input (a federated
 * query's measurements, a training step's clipped gradient sum, or a job's held-out counts) from its own database with the
 * same planning and rewrite the gateway uses, adds its own noise share and masks the result. No route returns a row, an unmasked aggregate or an un-noised value.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { readOnlyTransactions } from '../db/read-only-transaction.ts';
import type { RandomSource } from '../dp/random.ts';
import type { Planner } from '../jobs/training-request.ts';
import type { PolicySnapshot } from '../policy/validate.ts';
import { runReadOnly } from '../queries/execute.ts';
import { planInWorker } from '../train/worker-runner.ts';
import type { CryptoKey } from './crypto.ts';
import {
  FederatedQueryRefusal,
  type FederatedQueryTask,
  nodeContribution,
  planFederatedQuery,
} from './federated-query.ts';
import { SecAggRefusal, type SessionSpec } from './messages.ts';
import { ModularVector } from './modular-vector.ts';
import { trainingTasks } from './node-training.ts';
import { type FederationDirectory, type NodeTasks, SecAggNode } from './secagg-node.ts';

export interface NodeServiceOptions {
  readonly nodeId: string;
  readonly signingKey: CryptoKey;
  readonly policy: PolicySnapshot;
  readonly db: Kysely<Database>;
  /** How training jobs are planned (default: in a worker thread, off the event loop). */
  readonly plan?: Planner;
  /** Tests only: a seeded source for the node's sampling and noise (default: the CSPRNG). */
  readonly random?: RandomSource;
}

/** The directory of keys a node trusts, from its own copy of the policy. */
export function directoryFromPolicy(snapshot: PolicySnapshot): FederationDirectory {
  const federation = snapshot.policy.federation;
  if (!federation) throw new Error('the policy has no federation section');
  return {
    gatewayId: federation.gateway.id,
    gatewayKey: federation.gateway.public_key,
    nodeKeys: Object.fromEntries(Object.entries(federation.nodes).map(([id, node]) => [id, node.public_key])),
    minimumThreshold: federation.threshold,
  };
}

/** Federated SQL on this node: the task is re-planned from the node's own policy copy. */
export function sqlTasks(options: Pick<NodeServiceOptions, 'policy' | 'db'>): NodeTasks {
  const { policy, db } = options;
  const plan = (spec: SessionSpec) => {
    const task = spec.task as unknown as FederatedQueryTask;
    if (task.policyVersion !== policy.version)
      throw new SecAggRefusal('the gateway holds another policy version');
    try {
      const federated = planFederatedQuery(policy.policy, task);
      if (spec.bits !== federated.bits || spec.length !== federated.length) {
        throw new SecAggRefusal('session shape does not match the planned query');
      }
      return federated;
    } catch (error) {
      if (error instanceof FederatedQueryRefusal) throw new SecAggRefusal(`query refused: ${error.code}`);
      throw error;
    }
  };
  return {
    accept: (spec) => {
      plan(spec);
    },
    input: async (spec) => {
      const federated = plan(spec);
      const rows = await runReadOnly(
        readOnlyTransactions(db),
        federated.plan.sql,
        policy.policy.limits.statement_timeout_ms,
      );
      return ModularVector.fromIntegers(federated.bits, nodeContribution(federated, rows));
    },
  };
}

function dispatchTasks(tasks: Readonly<Record<string, NodeTasks>>): NodeTasks {
  const pick = (spec: SessionSpec): NodeTasks => {
    const kind = String(spec.task.kind);
    const handler = Object.hasOwn(tasks, kind) ? tasks[kind] : undefined;
    if (!handler) throw new SecAggRefusal('unknown task kind');
    return handler;
  };
  return { accept: (spec) => pick(spec).accept(spec), input: (spec) => pick(spec).input(spec) };
}

export function createNodeService(options: NodeServiceOptions) {
  // One instance for all of a job's rounds: they share the persons the node held out at the first.
  const training = trainingTasks({
    policy: options.policy,
    db: options.db,
    plan: options.plan ?? planInWorker,
    ...(options.random ? { random: options.random } : {}),
  });
  const node = new SecAggNode(
    options.nodeId,
    options.signingKey,
    directoryFromPolicy(options.policy),
    dispatchTasks({
      sql: sqlTasks(options),
      standardise: training,
      'dp-sgd': training,
      'held-out': training,
    }),
  );
  const community = options.policy.policy.federation!.nodes[options.nodeId]?.community;
  if (!community) throw new Error(`node "${options.nodeId}" is not in the policy's federation section`);
  const app = new Hono();
  app.get('/federation/v1/health', (c) =>
    c.json({ node: options.nodeId, community, policy_version: options.policy.version }),
  );
  app.post('/federation/v1/secagg', bodyLimit({ maxSize: 256 * 1024 * 1024 }), async (c) => {
    let message: unknown;
    try {
      message = await c.req.json();
    } catch {
      return c.json({ error: 'malformed message' }, 400);
    }
    try {
      return c.json(await node.handle(message));
    } catch (error) {
      // Our own refusal texts only; anything else may carry data and is not described.
      if (error instanceof SecAggRefusal) return c.json({ error: error.message }, 400);
      return c.json({ error: 'the node could not answer' }, 500);
    }
  });
  return { node, app, community };
}
