import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../context.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * `Authorization: Bearer <token>` on every /api route. Both sides are hashed first so the
 * comparison is constant-time whatever the lengths; a failure says nothing about why.
 */
export function bearerAuth(token: string): MiddlewareHandler<AppEnv> {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="stash-mirror"');
      return c.json({ error: 'unauthorized: send Authorization: Bearer <API_TOKEN>' }, 401);
    }
    await next();
  };
}
