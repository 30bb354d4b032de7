import type { Sql } from '../../db/client.js';
import type { ExclusionRecompute } from '../../db/postprocess/user-exclusions.js';
import { findUser, type User } from '../../db/users.js';
import type { Viewer } from '../library/view.js';
import { ApiError } from '../middleware/errors.js';

/** A user by path id, or 404. */
export async function requireUser(sql: Sql, id: number): Promise<User> {
  const user = await findUser(sql, id);
  if (!user) throw new ApiError(404, `user ${id} not found`);
  return user;
}

export function toUserJson(user: User) {
  return {
    id: String(user.id),
    name: user.name,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/** When an API write's recompute of the user's exclusions finished (it runs before the answer). */
export function toRecomputeJson(recompute: ExclusionRecompute) {
  return { recomputedAt: recompute.recomputedAt.toISOString(), ms: recompute.ms, excluded: recompute.excluded };
}

/**
 * X-Mirror-User: whose view a request uses (docs/user-views.md). It is not authentication — the
 * bearer token is — but it gives the roles their meaning: a request acting as a `user` reads the
 * library through that user's exclusions and may change only that user's hidden entities and
 * activity; restrictions and user management take an admin or no header (the app itself).
 */

// Lower case, as the header schema's own validation errors name it.
export const ACTING_USER_FIELD = 'x-mirror-user';

/** The user the header names (null without it); an unknown id is a 404, never "sees everything". */
export async function actingUser(sql: Sql, id: number | undefined): Promise<User | null> {
  if (id === undefined) return null;
  const user = await findUser(sql, id);
  if (!user) throw new ApiError(404, `${ACTING_USER_FIELD}: user ${id} not found`, { field: ACTING_USER_FIELD });
  return user;
}

/** The view a library read uses: the user's own, or everything (no header, or an admin). */
export function viewerOf(user: User | null): Viewer | null {
  return user?.role === 'user' ? { userId: user.id } : null;
}

/** Restrictions and user management: the app itself (no header) or an admin. */
export function requireAdmin(user: User | null): void {
  if (user && user.role !== 'admin') {
    throw new ApiError(403, `${ACTING_USER_FIELD}: only an admin may do this`, { field: ACTING_USER_FIELD });
  }
}

/** A user's own hidden entities and activity: that user, an admin, or the app itself. */
export function requireSelfOrAdmin(user: User | null, targetId: number): void {
  if (user && user.role !== 'admin' && user.id !== targetId) {
    throw new ApiError(403, `${ACTING_USER_FIELD}: a user may only change their own`, { field: ACTING_USER_FIELD });
  }
}
