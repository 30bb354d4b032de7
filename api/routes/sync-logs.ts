import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { entityHistory, type HistoryEntry, isEntityKnown } from '../../db/runs.js';
import { ENTITY_SPECS } from '../../stash/entities/index.js';
import type { ApiContext, AppEnv } from '../context.js';
import { ApiError } from '../middleware/errors.js';
import { errorResponses } from '../schemas/common.js';
import { SceneLogParams, SceneLogQuery, SceneLogSchema } from '../schemas/sync.js';

const route = createRoute({
  method: 'get',
  path: '/api/scenes/{id}/sync-logs',
  tags: ['runs'],
  summary: "A scene's sync history, newest first, with each row's run (full syncs' run-wide rows included)",
  security: [{ bearerAuth: [] }],
  request: { params: SceneLogParams, query: SceneLogQuery },
  responses: {
    200: { description: 'log rows', content: { 'application/json': { schema: SceneLogSchema } } },
    ...errorResponses(400, 401, 404),
  },
});

function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

function toLog(entry: HistoryEntry) {
  return {
    id: String(entry.id),
    runId: entry.runId,
    runWide: entry.runWide,
    syncType: entry.syncType,
    changeType: entry.changeType,
    changedFields: entry.changedFields,
    error: entry.errorMessage,
    details: entry.details,
    createdAt: entry.createdAt.toISOString(),
    run: entry.run && {
      type: entry.run.type,
      status: entry.run.status,
      trigger: entry.run.trigger,
      startedAt: entry.run.startedAt.toISOString(),
      completedAt: iso(entry.run.completedAt),
      counts: entry.run.counts,
    },
  };
}

export function registerSyncLogRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const { limit } = c.req.valid('query');
    if (!(await isEntityKnown(ctx.sql, 'scene', ENTITY_SPECS.scene.table, id))) {
      throw new ApiError(404, `scene ${id} has never been synced`);
    }
    const rows = await entityHistory(ctx.sql, 'scene', id, limit);
    return c.json({ sceneId: String(id), logs: rows.map(toLog) }, 200);
  });
}
