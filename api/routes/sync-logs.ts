import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
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

function iso(value: unknown): string | null {
  return value instanceof Date ? value.toISOString() : null;
}

/** A sync_log row joined with its run (the run columns are null when the run row is gone). */
interface LogRow {
  id: number;
  run_id: string;
  entity_id: number | null;
  sync_type: string;
  change_type: string;
  changed_fields: string[] | null;
  error_message: string | null;
  details: Record<string, unknown> | null;
  created_at: Date;
  run_type: string | null;
  run_status: string;
  run_trigger: string;
  run_started_at: Date;
  run_completed_at: Date | null;
  run_counts: Record<string, unknown> | null;
}

function toLog(row: LogRow) {
  return {
    id: String(row.id),
    runId: row.run_id,
    runWide: row.entity_id === null,
    syncType: row.sync_type,
    changeType: row.change_type,
    changedFields: row.changed_fields ?? null,
    error: row.error_message ?? null,
    details: row.details ?? null,
    createdAt: iso(row.created_at) ?? '',
    run:
      row.run_type === null
        ? null
        : {
            type: row.run_type,
            status: row.run_status,
            trigger: row.run_trigger,
            startedAt: iso(row.run_started_at) ?? '',
            completedAt: iso(row.run_completed_at),
            counts: row.run_counts ?? {},
          },
  };
}

export function registerSyncLogRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid('param');
    const { limit } = c.req.valid('query');
    const { sql } = ctx;
    const [known] = await sql`
      select exists (select 1 from scenes where id = ${id})
          or exists (select 1 from sync_log where entity_type = 'scene' and entity_id = ${id}) as known`;
    if (!known?.known) throw new ApiError(404, `scene ${id} has never been synced`);
    // The scene's own rows and the full syncs' run-wide scene rows (entity_id NULL: "every scene
    // this run covered"), each newest first and limited, merged by time.
    const rows = await sql<LogRow[]>`
      with own as (
        select * from sync_log where entity_type = 'scene' and entity_id = ${id}
        order by created_at desc, id desc limit ${limit}
      ), wide as (
        select * from sync_log where entity_type = 'scene' and entity_id is null and sync_type = 'full'
        order by created_at desc, id desc limit ${limit}
      )
      select l.*, r.sync_type as run_type, r.status as run_status, r.trigger as run_trigger,
             r.started_at as run_started_at, r.completed_at as run_completed_at, r.counts as run_counts
      from (select * from own union all select * from wide) l left join sync_runs r on r.id = l.run_id
      order by l.created_at desc, l.id desc limit ${limit}`;
    return c.json({ sceneId: String(id), logs: rows.map(toLog) }, 200);
  });
}
