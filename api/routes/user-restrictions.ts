import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { recomputeUserExclusions } from '../../db/postprocess/user-exclusions.js';
import {
  hideEntity,
  listHidden,
  missingEntities,
  type Restrictions,
  readRestrictions,
  replaceRestrictions,
  unhideEntity,
} from '../../db/user-settings.js';
import type { ApiContext, AppEnv } from '../context.js';
import { ApiError } from '../middleware/errors.js';
import { errorResponses } from '../schemas/common.js';
import {
  ActingUserHeaders,
  HiddenEntitySchema,
  HiddenListSchema,
  HiddenParams,
  HideBody,
  jsonAnswer,
  jsonBody,
  RESTRICTION_KEYS,
  RecomputeSchema,
  RestrictionsBody,
  RestrictionsSchema,
  USER_ROUTE,
  UserIdParams,
} from '../schemas/users.js';
import { actingUser, requireAdmin, requireSelfOrAdmin, requireUser, toRecomputeJson } from '../services/users.js';

const recomputed = { recompute: RecomputeSchema };

const getRestrictionsRoute = createRoute({
  method: 'get',
  path: '/api/users/{id}/restrictions',
  ...USER_ROUTE,
  summary: "A user's restrictions",
  request: { params: UserIdParams },
  responses: { 200: jsonAnswer(RestrictionsSchema, 'per dimension: mode and ids'), ...errorResponses(400, 401, 404) },
});

const putRestrictionsRoute = createRoute({
  method: 'put',
  path: '/api/users/{id}/restrictions',
  ...USER_ROUTE,
  summary: "Replace a user's restrictions (admin); their exclusions are recomputed before the answer",
  request: {
    params: UserIdParams,
    headers: ActingUserHeaders,
    body: jsonBody(RestrictionsBody),
  },
  responses: {
    200: jsonAnswer(RestrictionsSchema.extend(recomputed), 'the restrictions now, and when the recompute finished'),
    ...errorResponses(400, 401, 403, 404),
  },
});

const listHiddenRoute = createRoute({
  method: 'get',
  path: '/api/users/{id}/hidden',
  ...USER_ROUTE,
  summary: 'The entities a user hid',
  request: { params: UserIdParams },
  responses: { 200: jsonAnswer(HiddenListSchema, 'hidden entities'), ...errorResponses(400, 401, 404) },
});

const hideRoute = createRoute({
  method: 'post',
  path: '/api/users/{id}/hidden',
  ...USER_ROUTE,
  summary: 'Hide an entity (and what it cascades to) from a user; recomputed before the answer',
  request: {
    params: UserIdParams,
    headers: ActingUserHeaders,
    body: jsonBody(HideBody),
  },
  responses: {
    200: jsonAnswer(HiddenEntitySchema.extend(recomputed), 'it was hidden already'),
    201: jsonAnswer(HiddenEntitySchema.extend(recomputed), 'hidden'),
    ...errorResponses(400, 401, 403, 404),
  },
});

const unhideRoute = createRoute({
  method: 'delete',
  path: '/api/users/{id}/hidden/{entityType}/{entityId}',
  ...USER_ROUTE,
  summary: 'Show a hidden entity again; recomputed before the answer',
  request: { params: HiddenParams, headers: ActingUserHeaders },
  responses: { 200: jsonAnswer(z.object(recomputed), 'shown'), ...errorResponses(400, 401, 403, 404) },
});

function restrictionsJson(restrictions: Restrictions) {
  const out: Record<string, { mode: string; ids: string[] }> = {};
  for (const [key, type] of Object.entries(RESTRICTION_KEYS)) {
    const restriction = restrictions[type];
    if (restriction) out[key] = { mode: restriction.mode, ids: restriction.ids.map(String) };
  }
  return out;
}

/** `/api/users/:id/restrictions` and `/api/users/:id/hidden`: what a user may see. */
export function registerUserRestrictionRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  app.openapi(getRestrictionsRoute, async (c) => {
    const user = await requireUser(ctx.sql, c.req.valid('param').id);
    return c.json({ restrictions: restrictionsJson(await readRestrictions(ctx.sql, user.id)) }, 200);
  });

  app.openapi(putRestrictionsRoute, async (c) => {
    requireAdmin(await actingUser(ctx.sql, c.req.valid('header')['x-mirror-user']));
    const user = await requireUser(ctx.sql, c.req.valid('param').id);
    const body = c.req.valid('json');
    const restrictions: Restrictions = {};
    for (const [key, type] of Object.entries(RESTRICTION_KEYS)) {
      const restriction = body[key as keyof typeof RESTRICTION_KEYS];
      if (!restriction) continue;
      // Every id must be an entity the mirror has: a typo would silently restrict nothing.
      const [missing] = await missingEntities(ctx.sql, type, restriction.ids);
      if (missing !== undefined) {
        const index = restriction.ids.indexOf(missing);
        throw new ApiError(404, `${key}.ids.${index}: ${type} ${missing} not found`, { field: `${key}.ids.${index}` });
      }
      restrictions[type] = restriction;
    }
    const recompute = await recomputeUserExclusions(ctx.sql, user.id, (tx) =>
      replaceRestrictions(tx, user.id, restrictions),
    );
    const stored = await readRestrictions(ctx.sql, user.id);
    return c.json({ restrictions: restrictionsJson(stored), recompute: toRecomputeJson(recompute) }, 200);
  });

  app.openapi(listHiddenRoute, async (c) => {
    const user = await requireUser(ctx.sql, c.req.valid('param').id);
    const hidden = await listHidden(ctx.sql, user.id);
    return c.json(
      {
        hidden: hidden.map((entry) => ({
          entityType: entry.entityType,
          id: String(entry.id),
          name: entry.name,
          hiddenAt: entry.hiddenAt.toISOString(),
        })),
      },
      200,
    );
  });

  app.openapi(hideRoute, async (c) => {
    const { id } = c.req.valid('param');
    requireSelfOrAdmin(await actingUser(ctx.sql, c.req.valid('header')['x-mirror-user']), id);
    const user = await requireUser(ctx.sql, id);
    const { entityType, id: entityId } = c.req.valid('json');
    if ((await missingEntities(ctx.sql, entityType, [entityId])).length > 0) {
      throw new ApiError(404, `id: ${entityType} ${entityId} not found`, { field: 'id' });
    }
    let created = false;
    const recompute = await recomputeUserExclusions(ctx.sql, user.id, async (tx) => {
      created = await hideEntity(tx, user.id, entityType, entityId);
    });
    const entry = (await listHidden(ctx.sql, user.id)).find(
      (hidden) => hidden.entityType === entityType && hidden.id === entityId,
    );
    const answer = {
      entityType,
      id: String(entityId),
      name: entry?.name ?? null,
      hiddenAt: (entry?.hiddenAt ?? new Date()).toISOString(),
      recompute: toRecomputeJson(recompute),
    };
    return created ? c.json(answer, 201) : c.json(answer, 200);
  });

  app.openapi(unhideRoute, async (c) => {
    const { id, entityType, entityId } = c.req.valid('param');
    requireSelfOrAdmin(await actingUser(ctx.sql, c.req.valid('header')['x-mirror-user']), id);
    const user = await requireUser(ctx.sql, id);
    const recompute = await recomputeUserExclusions(ctx.sql, user.id, async (tx) => {
      // Thrown inside the transaction: nothing is recomputed or written.
      if (!(await unhideEntity(tx, user.id, entityType, entityId))) {
        throw new ApiError(404, `${entityType} ${entityId} is not hidden from user ${user.id}`);
      }
    });
    return c.json({ recompute: toRecomputeJson(recompute) }, 200);
  });
}
