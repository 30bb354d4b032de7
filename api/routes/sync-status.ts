import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Row } from 'postgres';
import { describeSmartSyncSchedule } from '../../temporal/schedule.js';
import type { ApiContext, AppEnv } from '../context.js';
import { errorResponses } from '../schemas/common.js';
import { StatusSchema } from '../schemas/sync.js';
import { findRunOrPending, liveProgress, type RunRow, type RunView, toRunView } from '../services/runs.js';
import { runningSync, withDeadline } from '../services/temporal.js';

const statusRoute = createRoute({
  method: 'get',
  path: '/api/sync/status',
  tags: ['sync'],
  summary: 'The running sync with live progress, the last finished run, per-type sync state, the schedule',
  security: [{ bearerAuth: [] }],
  responses: {
    200: { description: 'status', content: { 'application/json': { schema: StatusSchema } } },
    ...errorResponses(401),
  },
});

function iso(value: unknown): string | null {
  return value instanceof Date ? value.toISOString() : null;
}

function toState(row: Row) {
  return {
    entityType: row.entity_type as string,
    lastFullSyncAt: iso(row.last_full_sync_at),
    lastIncrementalSyncAt: iso(row.last_incremental_sync_at),
    highWaterMark: (row.high_water_mark_raw as string | null) ?? null,
    interrupted: row.resume_cursor !== null,
    resumeCursor: (row.resume_cursor as Record<string, unknown> | null) ?? null,
  };
}

/** The main sync running now: Temporal's word when it answers, else the newest 'running' row. */
async function currentRun(ctx: ApiContext): Promise<{ reachable: boolean; runId: string | null; run: RunView | null }> {
  const temporal = await runningSync(ctx);
  if (temporal.reachable) {
    return { ...temporal, run: temporal.runId ? await findRunOrPending(ctx, temporal.runId) : null };
  }
  const [row] = await ctx.sql<RunRow[]>`
    select * from sync_runs where workflow_id = ${ctx.target.workflowId} and status = 'running'
    order by started_at desc limit 1`;
  return { reachable: false, runId: row?.id ?? null, run: row ? toRunView(ctx, row) : null };
}

export function registerSyncStatusRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  app.openapi(statusRoute, async (c) => {
    const { sql } = ctx;
    const [current, entitySyncs, last, states, schedule] = await Promise.all([
      currentRun(ctx),
      sql<RunRow[]>`
        select * from sync_runs where status = 'running' and sync_type = 'specific'
        and workflow_id like ${`${ctx.target.workflowId.replace(/[\\%_]/g, '\\$&')}:%`}
        order by started_at desc limit 20`,
      sql<RunRow[]>`
        select * from sync_runs where workflow_id = ${ctx.target.workflowId}
        and status in ('completed', 'failed', 'cancelled') order by coalesce(completed_at, started_at) desc limit 1`,
      sql`select * from sync_state order by entity_type`,
      withDeadline(ctx, 3000, () => describeSmartSyncSchedule(ctx.temporal, ctx.target.workflowId)).catch(() => null),
    ]);
    const running = current.run ? { run: current.run, live: await liveProgress(ctx, current.run) } : null;
    return c.json(
      {
        runningRunId: current.runId,
        running,
        runningEntitySyncs: entitySyncs.map((row) => toRunView(ctx, row)),
        lastRun: last[0] ? toRunView(ctx, last[0]) : null,
        entities: states.map(toState),
        schedule,
        temporalReachable: current.reachable,
      },
      200,
    );
  });
}
