import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { recordWatch } from '../../db/postprocess/user-stats.js';
import { isSceneKnown, listStats } from '../../db/user-activity.js';
import type { ApiContext, AppEnv } from '../context.js';
import { ApiError } from '../middleware/errors.js';
import { errorResponses } from '../schemas/common.js';
import {
  ActingUserHeaders,
  ActivityBody,
  ActivitySchema,
  jsonAnswer,
  jsonBody,
  StatsQuery,
  StatsSchema,
  USER_ROUTE,
  UserIdParams,
} from '../schemas/users.js';
import { actingUser, requireSelfOrAdmin, requireUser } from '../services/users.js';

const activityRoute = createRoute({
  method: 'post',
  path: '/api/users/{id}/activity',
  ...USER_ROUTE,
  summary: "Record a play or an o event of a scene (the mirror's own data; Stash is never written)",
  request: {
    params: UserIdParams,
    headers: ActingUserHeaders,
    body: jsonBody(ActivityBody),
  },
  responses: {
    201: jsonAnswer(
      ActivitySchema,
      "recorded; the user's stats for the scene's performers, studio, tags and groups are rebuilt",
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

const statsRoute = createRoute({
  method: 'get',
  path: '/api/users/{id}/stats',
  ...USER_ROUTE,
  summary: "A user's watch stats per performer, studio, tag or group, best first",
  request: { params: UserIdParams, query: StatsQuery },
  responses: {
    200: jsonAnswer(StatsSchema, 'stats'),
    ...errorResponses(400, 401, 404),
  },
});

/** `/api/users/:id/activity` and `/api/users/:id/stats`. */
export function registerUserActivityRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  app.openapi(activityRoute, async (c) => {
    const { id } = c.req.valid('param');
    requireSelfOrAdmin(await actingUser(ctx.sql, c.req.valid('header')['x-mirror-user']), id);
    const user = await requireUser(ctx.sql, id);
    const body = c.req.valid('json');
    // A deleted scene is accepted: its events follow the scene Stash merged it into (docs/user-views.md).
    if (!(await isSceneKnown(ctx.sql, body.sceneId))) {
      throw new ApiError(404, `sceneId: scene ${body.sceneId} not found`, { field: 'sceneId' });
    }
    const { activity, statsUpdated } = await recordWatch(ctx.sql, user.id, {
      sceneId: body.sceneId,
      event: body.event,
      at: body.at,
      durationSeconds: body.durationSeconds ?? null,
    });
    return c.json(
      {
        activity: {
          id: String(activity.id),
          sceneId: String(activity.sceneId),
          event: activity.event,
          at: activity.at.toISOString(),
          durationSeconds: activity.durationSeconds,
        },
        statsUpdated,
      },
      201,
    );
  });

  app.openapi(statsRoute, async (c) => {
    const user = await requireUser(ctx.sql, c.req.valid('param').id);
    const { type, sort, limit } = c.req.valid('query');
    const rows = await listStats(ctx.sql, user.id, type, sort, limit);
    return c.json(
      {
        userId: String(user.id),
        type,
        sort,
        stats: rows.map((row) => ({
          id: String(row.id),
          name: row.name,
          playCount: row.playCount,
          playDuration: row.playDuration,
          oCount: row.oCount,
          lastPlayedAt: row.lastPlayedAt?.toISOString() ?? null,
          lastOAt: row.lastOAt?.toISOString() ?? null,
        })),
      },
      200,
    );
  });
}
