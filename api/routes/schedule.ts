import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import {
  describeSmartSyncSchedule,
  ensureSmartSyncSchedule,
  setSmartSyncSchedulePaused,
  triggerSmartSyncSchedule,
} from '../../temporal/schedule.js';
import { withDeadline } from '../../temporal/sync-client.js';
import type { ApiContext, AppEnv } from '../context.js';
import { ApiError, badRequest } from '../middleware/errors.js';
import { ConflictSchema, errorResponses } from '../schemas/common.js';
import { ScheduleBody, TriggeredSchema } from '../schemas/schedule.js';
import { ScheduleStateSchema } from '../schemas/sync.js';
import { runningSync } from '../services/runs.js';

const security = [{ bearerAuth: [] }];
const state = {
  200: { description: 'the schedule', content: { 'application/json': { schema: ScheduleStateSchema } } },
};

const getRoute = createRoute({
  method: 'get',
  path: '/api/sync/schedule',
  tags: ['schedule'],
  summary: 'The smart-sync schedule',
  security,
  responses: { ...state, ...errorResponses(401, 404) },
});

const putRoute = createRoute({
  method: 'put',
  path: '/api/sync/schedule',
  tags: ['schedule'],
  summary: 'Create or change the smart-sync schedule: an interval or a cron expression, and paused',
  security,
  request: { body: { required: true, content: { 'application/json': { schema: ScheduleBody } } } },
  responses: { ...state, ...errorResponses(400, 401) },
});

const triggerRoute = createRoute({
  method: 'post',
  path: '/api/sync/schedule/trigger',
  tags: ['schedule'],
  summary: 'Run a smart sync now through the schedule (409 when a sync is running)',
  security,
  responses: {
    202: { description: 'triggered', content: { 'application/json': { schema: TriggeredSchema } } },
    409: { description: 'a sync is already running', content: { 'application/json': { schema: ConflictSchema } } },
    ...errorResponses(401, 404),
  },
});

export function registerScheduleRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  const { workflowId, taskQueue } = ctx.target;
  const describe = () => withDeadline(ctx.temporal, 5000, () => describeSmartSyncSchedule(ctx.temporal, workflowId));
  const missing = () => new ApiError(404, 'no smart-sync schedule yet: PUT /api/sync/schedule creates it');

  app.openapi(getRoute, async (c) => {
    const schedule = await describe();
    if (!schedule) throw missing();
    return c.json(schedule, 200);
  });

  app.openapi(putRoute, async (c) => {
    const body = c.req.valid('json');
    let spec: { intervalSeconds?: number; cron?: string };
    if (body.cron !== undefined) spec = { cron: body.cron.trim() };
    else if (body.intervalSeconds !== undefined) spec = { intervalSeconds: body.intervalSeconds };
    else {
      // Only `paused` given: keep the current spec.
      const current = await describe();
      if (!current)
        throw badRequest('intervalSeconds', 'intervalSeconds: give intervalSeconds or cron to create the schedule');
      spec = current.cron ? { cron: current.cron } : { intervalSeconds: current.intervalSeconds ?? 300 };
    }
    const updated = await withDeadline(ctx.temporal, 10_000, () =>
      ensureSmartSyncSchedule(ctx.temporal, { taskQueue, syncWorkflowId: workflowId, ...spec, paused: body.paused }),
    );
    if (body.paused !== undefined && updated.paused !== body.paused) {
      await withDeadline(ctx.temporal, 5000, () =>
        setSmartSyncSchedulePaused(ctx.temporal, body.paused as boolean, workflowId),
      );
    }
    const schedule = await describe();
    if (!schedule) throw missing();
    return c.json(schedule, 200);
  });

  app.openapi(triggerRoute, async (c) => {
    const schedule = await describe();
    if (!schedule) throw missing();
    const running = await runningSync(ctx);
    if (!running.reachable) throw new ApiError(503, 'temporal unavailable');
    if (running.runId) return c.json({ error: 'another sync is already running', runningRunId: running.runId }, 409);
    // Overlap SKIP: should a sync start meanwhile, the tick records itself as skipped.
    await withDeadline(ctx.temporal, 5000, () => triggerSmartSyncSchedule(ctx.temporal, workflowId));
    return c.json({ triggered: true as const, scheduleId: schedule.scheduleId, statusUrl: '/api/sync/status' }, 202);
  });
}
