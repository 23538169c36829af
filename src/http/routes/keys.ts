/**
 * API keys for the council: list, create, revoke, rotate. Each change is audited. A revocation or
 * rotation takes effect on this gateway's next request (it forgets the keys it kept), and on other
 * gateways once their kept keys expire (DPGATE_KEY_CACHE_MS).
 */
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import { ROLES } from '../../policy/schema.ts';
import {
  ApiKeyAlreadyRevoked,
  ApiKeyError,
  ApiKeyNotFound,
  type ApiKeyRecord,
  createApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
} from '../../principals/api-keys.ts';
import type { KeyLookup } from '../../principals/key-cache.ts';
import type { AppDependencies, AppEnv } from '../context.ts';
import { requireRole } from '../middleware/auth.ts';
import { AUTH_PROBLEMS, BEARER, problem } from '../openapi-schemas.ts';
import { Problem } from '../problem.ts';

const KeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: z.enum(ROLES),
    community: z.string().nullable(),
    prefix: z.string().openapi({ description: 'The first characters of the secret, to recognise it by' }),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
  })
  .openapi('ApiKey');

const CreatedKeySchema = z
  .object({
    key: KeySchema,
    secret: z.string().openapi({ description: 'The key itself, shown this once and never stored' }),
  })
  .openapi('CreatedApiKey');

const NewKeySchema = z
  .object({
    name: z.string().min(1).max(200),
    role: z.enum(ROLES),
    community: z.string().min(1).max(63).optional().openapi({ description: 'Contributor keys only' }),
  })
  .strict()
  .openapi('NewApiKey');

const Id = z.object({ id: z.uuid() });
const notFound = problem('No such key');

const listRoute = createRoute({
  method: 'get',
  path: '/v1/keys',
  operationId: 'listKeys',
  summary: 'Every API key, newest first (never a secret)',
  tags: ['keys'],
  security: BEARER,
  middleware: [requireRole('council')] as const,
  responses: {
    200: {
      description: 'The keys',
      content: { 'application/json': { schema: z.object({ keys: z.array(KeySchema) }) } },
    },
    ...AUTH_PROBLEMS,
  },
});

const createKeyRoute = createRoute({
  method: 'post',
  path: '/v1/keys',
  operationId: 'createKey',
  summary: 'Make a key; its secret is in this response only',
  tags: ['keys'],
  security: BEARER,
  middleware: [requireRole('council')] as const,
  request: { body: { required: true, content: { 'application/json': { schema: NewKeySchema } } } },
  responses: {
    201: { description: 'The new key', content: { 'application/json': { schema: CreatedKeySchema } } },
    400: problem('The request is not valid (a contributor key without a community, or the reverse)'),
    ...AUTH_PROBLEMS,
  },
});

const revokeRoute = createRoute({
  method: 'post',
  path: '/v1/keys/{id}/revoke',
  operationId: 'revokeKey',
  summary: 'Revoke a key; the next request made with it is refused',
  tags: ['keys'],
  security: BEARER,
  middleware: [requireRole('council')] as const,
  request: { params: Id },
  responses: {
    200: { description: 'The revoked key', content: { 'application/json': { schema: KeySchema } } },
    400: problem('The id is not a UUID'),
    ...AUTH_PROBLEMS,
    404: notFound,
    409: problem('The key is already revoked'),
  },
});

const rotateRoute = createRoute({
  method: 'post',
  path: '/v1/keys/{id}/rotate',
  operationId: 'rotateKey',
  summary: 'A new key with the same name, role and community; the old one revoked in the same step',
  tags: ['keys'],
  security: BEARER,
  middleware: [requireRole('council')] as const,
  request: { params: Id },
  responses: {
    201: { description: 'The new key', content: { 'application/json': { schema: CreatedKeySchema } } },
    400: problem('The id is not a UUID'),
    ...AUTH_PROBLEMS,
    404: notFound,
    409: problem('The key is already revoked'),
  },
});

export function keyRoutes(deps: AppDependencies, keys: KeyLookup) {
  return new OpenAPIHono<AppEnv>()
    .openapi(listRoute, async (c) => c.json({ keys: (await listApiKeys(deps.db)).map(keyBody) }, 200))
    .openapi(createKeyRoute, async (c) => {
      const body = c.req.valid('json');
      const created = await keyProblems(() =>
        createApiKey(
          deps.db,
          { name: body.name, role: body.role, communityId: body.community },
          c.var.principal.id,
        ),
      );
      return c.json({ key: keyBody(created.record), secret: created.key }, 201);
    })
    .openapi(revokeRoute, async (c) => {
      const { id } = c.req.valid('param');
      const revoked = await keyProblems(() => revokeApiKey(deps.db, id, c.var.principal.id));
      keys.forget();
      return c.json(keyBody(revoked), 200);
    })
    .openapi(rotateRoute, async (c) => {
      const { id } = c.req.valid('param');
      const rotated = await keyProblems(() => rotateApiKey(deps.db, id, c.var.principal.id));
      keys.forget();
      return c.json({ key: keyBody(rotated.record), secret: rotated.key }, 201);
    });
}

async function keyProblems<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApiKeyNotFound) throw new Problem('not_found', 'There is no API key with this id.');
    if (error instanceof ApiKeyAlreadyRevoked) throw new Problem('already_revoked', error.message);
    if (error instanceof ApiKeyError) throw new Problem('invalid_request', error.message);
    throw error;
  }
}

function keyBody(key: ApiKeyRecord) {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    community: key.community,
    prefix: key.prefix,
    created_at: key.createdAt.toISOString(),
    revoked_at: key.revokedAt?.toISOString() ?? null,
  };
}
