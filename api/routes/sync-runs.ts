import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { withDeadline } from '../../temporal/sync-client.js';
import type { ApiContext, AppEnv } from '../context.js';
import { ApiError } from '../middleware/errors.js';
import { errorResponses } from '../schemas/common.js';
import { CancelSchema, RunDetailSchema, RunIdParams, RunListSchema, RunsQuery } from '../schemas/sync.js';
import { findRunOrPending, isChainRunning, listRuns, liveProgress, runFailures, runPath } from '../services/runs.js';

const security = [{ bearerAuth: [] }];
const FAILED_ENTITIES_SHOWN = 100;

const listRoute = createRoute({
  method: 'get',
  path: '/api/sync/runs',
  tags: ['runs'],
  summary: 'Sync history, newest first',
  security,
  request: { query: RunsQuery },
  responses: {
    200: { description: 'one page of runs', content: { 'application/json': { schema: RunListSchema } } },
    ...errorResponses(400, 401),
  },
});

const detailRoute = createRoute({
  method: 'get',
  path: '/api/sync/runs/{runId}',
  tags: ['runs'],
  summary: 'One run: summary, counts, live progress while running, errors and failed entities',
  security,
  request: { params: RunIdParams },
  responses: {
    200: { description: 'the run', content: { 'application/json': { schema: RunDetailSchema } } },
    ...errorResponses(400, 401, 404),
  },
});

const cancelRoute = createRoute({
  method: 'post',
  path: '/api/sync/runs/{runId}/cancel',
  tags: ['runs'],
  summary: 'Cancel a running run: it ends as cancelled, its committed pages kept; the next sync resumes there',
  security,
  request: { params: RunIdParams },
  responses: {
    202: { description: 'cancellation requested', content: { 'application/json': { schema: CancelSchema } } },
    ...errorResponses(400, 401, 404, 409, 503),
  },
});

function notFound(runId: string): ApiError {
  return new ApiError(404, `no sync run ${runId}`);
}

export function registerSyncRunRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  app.openapi(listRoute, async (c) => {
    const query = c.req.valid('query');
    const { count, runs } = await listRuns(ctx, {
      page: query.page,
      perPage: query.per_page,
      status: query.status,
      type: query.type,
    });
    return c.json({ count, page: query.page, per_page: query.per_page, runs }, 200);
  });

  app.openapi(detailRoute, async (c) => {
    const { runId } = c.req.valid('param');
    const run = await findRunOrPending(ctx, runId);
    if (!run) throw notFound(runId);
    const [live, failures] = await Promise.all([
      run.status === 'running' ? liveProgress(ctx, run) : Promise.resolve(null),
      runFailures(ctx, run.id, FAILED_ENTITIES_SHOWN),
    ]);
    return c.json({ run, live, errors: { message: run.error, ...failures } }, 200);
  });

  app.openapi(cancelRoute, async (c) => {
    const { runId } = c.req.valid('param');
    const run = await findRunOrPending(ctx, runId);
    if (!run) throw notFound(runId);
    if (run.status !== 'running') {
      throw new ApiError(409, `run ${run.id} is ${run.status}, not running`, { status: run.status });
    }
    // The workflow id is fixed and a run may have continued as new: cancel the chain that this
    // run started, and only while Temporal says it still runs.
    const running = await isChainRunning(ctx, run.workflowId, run.temporalRunId);
    if (running === null) throw new ApiError(503, 'temporal unavailable');
    if (!running) throw new ApiError(409, `run ${run.id} is no longer running in Temporal`, { status: run.status });
    const handle = ctx.temporal.workflow.getHandle(run.workflowId, undefined, {
      firstExecutionRunId: run.temporalRunId,
    });
    await withDeadline(ctx.temporal, 5000, () => handle.cancel());
    return c.json({ runId: run.id, status: 'cancelling' as const, statusUrl: runPath(run.id) }, 202);
  });
}
