/**
 * The council's record: every policy version that took effect, and whether the audit log's hash
 * chain still verifies.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { verifyAuditChain } from '../../ledger/audit-log.ts';
import { listPolicyVersions } from '../../ledger/policy-versions.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import { AUTH_PROBLEMS, BEARER } from '../openapi-schemas.ts';

const PolicyVersionSchema = z
  .object({
    version: z.string().openapi({ description: 'The content hash of the policy set' }),
    applied_at: z.string(),
    files: z.array(z.string()),
    in_force: z.boolean(),
  })
  .openapi('PolicyVersion');

const AuditStatusSchema = z
  .object({
    ok: z.boolean(),
    entries: z.number().int().openapi({ description: 'Entries that verify, from the first' }),
    head_hash: z
      .string()
      .nullable()
      .openapi({ description: 'Hash of the newest entry, when the chain holds' }),
    broken_at_id: z.number().int().nullable(),
    reason: z.string().nullable(),
  })
  .openapi('AuditStatus');

const versionsRoute = createRoute({
  method: 'get',
  path: '/v1/policies/versions',
  operationId: 'listPolicyVersions',
  summary: 'Every policy version that took effect in this database, newest first',
  tags: ['governance'],
  security: BEARER,
  middleware: [requireRole('council')] as const,
  responses: {
    200: {
      description: 'The version history',
      content: { 'application/json': { schema: z.object({ versions: z.array(PolicyVersionSchema) }) } },
    },
    ...AUTH_PROBLEMS,
  },
});

const auditRoute = createRoute({
  method: 'get',
  path: '/v1/audit/status',
  operationId: 'verifyAuditLog',
  summary: 'Walk the audit log’s hash chain and report the first broken entry, if any',
  tags: ['governance'],
  security: BEARER,
  middleware: [requireRole('council')] as const,
  responses: {
    200: {
      description: 'The chain’s status',
      content: { 'application/json': { schema: AuditStatusSchema } },
    },
    ...AUTH_PROBLEMS,
  },
});

export function governanceRoutes(deps: AppDependencies) {
  return new OpenAPIHono<AppEnv>()
    .openapi(versionsRoute, async (c) => {
      const current = deps.policies.current.version;
      const versions = await listPolicyVersions(deps.db);
      return c.json(
        {
          versions: versions.map((entry) => ({
            version: entry.version,
            applied_at: entry.appliedAt.toISOString(),
            files: entry.files,
            in_force: entry.version === current,
          })),
        },
        200,
      );
    })
    .openapi(auditRoute, async (c) => {
      const result = await verifyAuditChain(deps.db);
      return c.json(
        result.ok
          ? {
              ok: true,
              entries: result.entries,
              head_hash: result.headHash,
              broken_at_id: null,
              reason: null,
            }
          : {
              ok: false,
              entries: result.entries,
              head_hash: null,
              broken_at_id: result.brokenAtId,
              reason: result.reason,
            },
        200,
      );
    });
}
