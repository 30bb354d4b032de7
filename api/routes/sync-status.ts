import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { lastFinishedRunRow, runningEntitySyncRows, runningRunRow } from '../../db/runs.js';
import { listSyncState, type SyncStateRow } from '../../db/sync-state.js';
import { entityWorkflowIdPrefix } from '../../temporal/run-identity.js';
import { describeSmartSyncSchedule } from '../../temporal/schedule.js';
import { withDeadline } from '../../temporal/sync-client.js';
import type { ApiContext, AppEnv } from '../context.js';
import { errorResponses } from '../schemas/common.js';
import { StatusSchema } from '../schemas/sync.js';
import { findRunOrPending, liveProgress, type RunView, runningSync, toRunView } from '../services/runs.js';

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

function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}

function toState(row: SyncStateRow) {
  return {
    entityType: row.entity_type,
    lastFullSyncAt: iso(row.last_full_sync_at),
    lastIncrementalSyncAt: iso(row.last_incremental_sync_at),
    highWaterMark: row.high_water_mark_raw,
    interrupted: row.resume_cursor !== null,
    resumeCursor: row.resume_cursor,
  };
}

/** The main sync running now: Temporal's word when it answers, else the newest 'running' row. */
async function currentRun(ctx: ApiContext): Promise<{ reachable: boolean; runId: string | null; run: RunView | null }> {
  const temporal = await runningSync(ctx);
  if (temporal.reachable) {
    return { ...temporal, run: temporal.runId ? await findRunOrPending(ctx, temporal.runId) : null };
  }
  const row = await runningRunRow(ctx.sql, ctx.target.workflowId);
  return { reachable: false, runId: row?.id ?? null, run: row ? toRunView(ctx, row) : null };
}

export function registerSyncStatusRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  app.openapi(statusRoute, async (c) => {
    const [current, entitySyncs, last, states, schedule] = await Promise.all([
      currentRun(ctx),
      runningEntitySyncRows(ctx.sql, entityWorkflowIdPrefix(ctx.target.workflowId), 20),
      lastFinishedRunRow(ctx.sql, ctx.target.workflowId),
      listSyncState(ctx.sql),
      withDeadline(ctx.temporal, 3000, () => describeSmartSyncSchedule(ctx.temporal, ctx.target.workflowId)).catch(
        () => null,
      ),
    ]);
    const running = current.run ? { run: current.run, live: await liveProgress(ctx, current.run) } : null;
    return c.json(
      {
        runningRunId: current.runId,
        running,
        runningEntitySyncs: entitySyncs.map((row) => toRunView(ctx, row)),
        lastRun: last ? toRunView(ctx, last) : null,
        entities: states.map(toState),
        schedule,
        temporalReachable: current.reachable,
      },
      200,
    );
  });
}
