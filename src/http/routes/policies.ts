import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { formatIssue } from '../../policy/issues.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import { AUTH_PROBLEMS, BEARER } from '../openapi-schemas.ts';

const PolicyStateSchema = z
  .object({
    version: z.string(),
    policy: z.record(z.string(), z.unknown()),
    files: z.array(z.object({ name: z.string(), text: z.string() })),
    last_refusal: z.object({ at: z.string(), issues: z.array(z.string()) }).nullable(),
  })
  .openapi('PolicyState');

const route = createRoute({
  method: 'get',
  path: '/v1/policies',
  summary: 'The policy in force and the last refused policy set',
  tags: ['governance'],
  security: BEARER,
  middleware: [requireRole('council')] as const,
  responses: {
    200: {
      description: 'The policy in force',
      content: { 'application/json': { schema: PolicyStateSchema } },
    },
    ...AUTH_PROBLEMS,
  },
});

export function policyRoutes(deps: AppDependencies) {
  return new OpenAPIHono<AppEnv>().openapi(route, (c) => {
    const { version, policy, files } = deps.policies.current;
    const refusal = deps.policies.lastRefusal;
    return c.json(
      {
        version,
        policy,
        files: files.map(({ name, text }) => ({ name, text })),
        last_refusal: refusal
          ? { at: refusal.at.toISOString(), issues: refusal.issues.map(formatIssue) }
          : null,
      },
      200,
    );
  });
}
