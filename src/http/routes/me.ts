import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { AUTH_PROBLEMS, BEARER, RATE_LIMITED } from '../openapi-schemas.ts';

const PrincipalSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(['analyst', 'contributor', 'council']),
    community_id: z.string().nullable(),
  })
  .openapi('Principal');

const route = createRoute({
  method: 'get',
  path: '/v1/me',
  operationId: 'getMe',
  summary: 'Who this API key belongs to',
  tags: ['principals'],
  security: BEARER,
  responses: {
    ...RATE_LIMITED,
    200: { description: 'The key’s principal', content: { 'application/json': { schema: PrincipalSchema } } },
    401: AUTH_PROBLEMS[401],
  },
});

export function meRoutes() {
  return new OpenAPIHono<AppEnv>().openapi(route, (c) => {
    const { id, name, role, communityId } = c.var.principal;
    return c.json({ id, name, role, community_id: communityId }, 200);
  });
}
