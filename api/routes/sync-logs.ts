import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { entityHistory, type HistoryEntry, isEntityKnown } from '../../db/runs.js';
import { ENTITY_TABLES, ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import type { ApiContext, AppEnv } from '../context.js';
import { ApiError } from '../middleware/errors.js';
import { errorResponses } from '../schemas/common.js';
import { EntityLogParams, EntityLogQuery, entityLogSchema } from '../schemas/sync.js';

function historyRoute(type: EntityType) {
  return createRoute({
    method: 'get',
    path: `/api/${ENTITY_TABLES[type]}/{id}/sync-logs`,
    tags: ['runs'],
    summary: `A ${type}'s sync history, newest first, with each row's run (full syncs' run-wide rows included)`,
    security: [{ bearerAuth: [] }],
    request: { params: EntityLogParams, query: EntityLogQuery },
    responses: {
      200: { description: 'log rows', content: { 'application/json': { schema: entityLogSchema(type) } } },
      ...errorResponses(400, 401, 404),
    },
  });
}

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
    hadChanges: entry.hadChanges,
    changedFields: entry.changedFields,
    error: entry.errorMessage,
    details: entry.details,
    createdAt: entry.createdAt.toISOString(),
    run: entry.run && {
      id: entry.runId,
      type: entry.run.type,
      status: entry.run.status,
      trigger: entry.run.trigger,
      startedAt: entry.run.startedAt.toISOString(),
      completedAt: iso(entry.run.completedAt),
      counts: entry.run.counts,
    },
  };
}

/** `GET /api/<type plural>/:id/sync-logs` for each of the seven types. */
export function registerSyncLogRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  for (const type of ENTITY_TYPES) {
    app.openapi(historyRoute(type), async (c) => {
      const { id } = c.req.valid('param');
      const { limit } = c.req.valid('query');
      if (!(await isEntityKnown(ctx.sql, type, ENTITY_TABLES[type], id))) {
        throw new ApiError(404, `${type} ${id} has never been synced`);
      }
      const rows = await entityHistory(ctx.sql, type, id, limit);
      return c.json({ [`${type}Id`]: String(id), logs: rows.map(toLog) }, 200);
    });
  }
}
