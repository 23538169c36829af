/**
 * Authentication (`Authorization: Bearer <key>` → principal) and role checks. A missing or unknown
 * key is 401; a known key with the wrong role is 403.
 */
import type { MiddlewareHandler } from 'hono';
import type { Role } from '../../policy/schema.ts';
import type { KeyLookup } from '../../principals/key-cache.ts';
import type { AppEnv } from '../context.ts';
import { Problem } from '../problem.ts';

const CHALLENGE = { 'www-authenticate': 'Bearer realm="dpgate"' };

export function authenticate(keys: KeyLookup): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
    if (!match) {
      throw new Problem('unauthorized', 'Send your API key as "Authorization: Bearer <key>".', {
        headers: CHALLENGE,
      });
    }
    const principal = await keys.authenticate(match[1]!);
    if (!principal) {
      throw new Problem('unauthorized', 'This API key is unknown or revoked.', { headers: CHALLENGE });
    }
    c.set('principal', principal);
    await next();
  };
}

export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { role } = c.var.principal;
    if (!roles.includes(role)) {
      throw new Problem(
        'forbidden',
        `This needs the ${roles.join(' or ')} role; your key has the ${role} role.`,
        {
          extensions: { required_roles: roles, role },
        },
      );
    }
    await next();
  };
}
