/**
 * `GET /v1/federation`: the federation section of the policy in force, for every signed-in role (a
 * contributor sees which node holds their community and whether the gateway can reach it): the
 * nodes, the community each holds, the dropout threshold, the node tables, key fingerprints and,
 * when this gateway holds the federation key, each node's reachability.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { keyFingerprint } from '../../federation/crypto.ts';
import { NodeProber } from '../../federation/node-reachability.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { AUTH_PROBLEMS, BEARER } from '../openapi-schemas.ts';

const ReachabilitySchema = z
  .object({
    reachable: z.boolean(),
    policy_version: z.string().nullable(),
    same_policy: z.boolean(),
    checked_at: z.string(),
  })
  .openapi('NodeReachability');

const FederationSchema = z
  .object({
    federation: z
      .object({
        gateway: z.object({ id: z.string(), public_key: z.string(), fingerprint: z.string() }),
        threshold: z.number().int().openapi({ description: 't: fewest nodes that must finish a round' }),
        max_colluding_nodes: z.number().int().openapi({ description: 'f: nodes assumed to collude' }),
        guaranteed_nodes: z
          .number()
          .int()
          .openapi({ description: 't − f: nodes whose noise every released sum is sized for' }),
        tables: z.array(z.string()),
        node_timeout_ms: z.number().int(),
        nodes: z.array(
          z.object({
            id: z.string(),
            community: z.string(),
            public_key: z.string(),
            fingerprint: z.string(),
            url: z.string().nullable().openapi({ description: 'The council only; null for other roles' }),
            reachability: ReachabilitySchema.nullable().openapi({
              description: 'null when this gateway holds no federation key (it does not contact nodes)',
            }),
          }),
        ),
      })
      .nullable(),
    policy_version: z.string(),
  })
  .openapi('Federation');

const route = createRoute({
  method: 'get',
  path: '/v1/federation',
  operationId: 'getFederation',
  summary: 'The federation section of the policy in force, with node fingerprints and reachability',
  tags: ['federation'],
  security: BEARER,
  responses: {
    200: { description: 'The federation', content: { 'application/json': { schema: FederationSchema } } },
    401: AUTH_PROBLEMS[401],
  },
});

export function federationRoutes(deps: AppDependencies) {
  const app = new OpenAPIHono<AppEnv>();
  // One prober per policy version, so a reload re-reads the node urls.
  let prober: { version: string; prober: NodeProber } | undefined;
  const proberFor = (version: string, urls: Record<string, string>) => {
    if (prober?.version !== version) prober = { version, prober: new NodeProber(urls, version) };
    return prober.prober;
  };
  return app.openapi(route, async (c) => {
    const { policy, version } = deps.policies.current;
    const federation = policy.federation;
    if (!federation) return c.json({ federation: null, policy_version: version }, 200);
    const nodes = Object.entries(federation.nodes).sort(([a], [b]) => a.localeCompare(b));
    const urls = Object.fromEntries(nodes.flatMap(([id, node]) => (node.url ? [[id, node.url]] : [])));
    const reachability = deps.federation ? await proberFor(version, urls).check() : undefined;
    return c.json(
      {
        federation: {
          gateway: {
            id: federation.gateway.id,
            public_key: federation.gateway.public_key,
            fingerprint: await keyFingerprint(federation.gateway.public_key),
          },
          threshold: federation.threshold,
          max_colluding_nodes: federation.max_colluding_nodes,
          guaranteed_nodes: federation.threshold - federation.max_colluding_nodes,
          tables: federation.tables,
          node_timeout_ms: federation.node_timeout_ms,
          nodes: await Promise.all(
            nodes.map(async ([id, node]) => ({
              id,
              community: node.community,
              public_key: node.public_key,
              fingerprint: await keyFingerprint(node.public_key),
              // Where the nodes run is infrastructure: the council's to see, not every key's.
              url: c.var.principal.role === 'council' ? (node.url ?? null) : null,
              reachability: reachability?.[id] ?? null,
            })),
          ),
        },
        policy_version: version,
      },
      200,
    );
  });
}
