/**
 * `GET /v1/audit/verify` (council): walks the audit log's hash chain on the gateway's own database,
 * so a council can verify it while an embedded gateway holds the data directory.
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { verifyAuditChain } from '../../ledger/audit-log.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import { AUTH_PROBLEMS, BEARER } from '../openapi-schemas.ts';

const VerificationSchema = z
  .object({
    ok: z.boolean(),
    entries: z.number().int().openapi({ description: 'Entries that verify, from the first' }),
    head_hash: z.string().optional().openapi({ description: 'Hash of the newest entry, when all verify' }),
    broken_at_id: z.number().int().optional().openapi({ description: 'The first entry that does not' }),
    reason: z.string().optional(),
  })
  .openapi('AuditVerification');

const verifyRoute = createRoute({
  method: 'get',
  path: '/v1/audit/verify',
  operationId: 'verifyAuditChain',
  summary: 'Verify the audit log’s hash chain',
  tags: ['governance'],
  security: BEARER,
  middleware: [requireRole('council')] as const,
  responses: {
    200: {
      description: 'Whether every entry links to the one before and matches its hash',
      content: { 'application/json': { schema: VerificationSchema } },
    },
    ...AUTH_PROBLEMS,
  },
});

export function auditRoutes(deps: AppDependencies) {
  return new OpenAPIHono<AppEnv>().openapi(verifyRoute, async (c) => {
    const result = await verifyAuditChain(deps.db);
    return c.json(
      result.ok
        ? { ok: true, entries: result.entries, head_hash: result.headHash }
        : { ok: false, entries: result.entries, broken_at_id: result.brokenAtId, reason: result.reason },
      200,
    );
  });
}
