import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { runStatus } from '../../db/runs.js';
import type { MainSyncType } from '../../db/vocabulary.js';
import { runUiUrl } from '../../temporal/run-identity.js';
import {
  type StartedSync,
  SyncAlreadyRunningError,
  startEntitySync,
  startSync,
  withDeadline,
} from '../../temporal/sync-client.js';
import type { SyncInput } from '../../workflows/sync-run.js';
import type { ApiContext, AppEnv } from '../context.js';
import { ConflictSchema, errorResponses } from '../schemas/common.js';
import { EmptyBody, EntityParams, IncrementalBody, StartedSchema } from '../schemas/sync.js';
import { runPath } from '../services/runs.js';

const started = { 202: { description: 'started', content: { 'application/json': { schema: StartedSchema } } } };
const conflict = {
  409: { description: 'a sync is already running', content: { 'application/json': { schema: ConflictSchema } } },
};
const security = [{ bearerAuth: [] }];

function startRoute(kind: 'full' | 'smart', summary: string) {
  return createRoute({
    method: 'post',
    path: `/api/sync/${kind}`,
    tags: ['sync'],
    summary,
    security,
    request: { body: { required: false, content: { 'application/json': { schema: EmptyBody } } } },
    responses: { ...started, ...conflict, ...errorResponses(400, 401) },
  });
}

const fullRoute = startRoute('full', 'Start a full sync');
const smartRoute = startRoute('smart', 'Start a smart sync (each type from its own high-water mark)');

const incrementalRoute = createRoute({
  method: 'post',
  path: '/api/sync/incremental',
  tags: ['sync'],
  summary: 'Start an incremental sync of the rows updated since an instant',
  security,
  request: { body: { required: true, content: { 'application/json': { schema: IncrementalBody } } } },
  responses: { ...started, ...conflict, ...errorResponses(400, 401) },
});

const entityRoute = createRoute({
  method: 'post',
  path: '/api/sync/{entityType}/{id}',
  tags: ['sync'],
  summary: 'Re-read one entity from Stash (runs beside a running sync)',
  security,
  request: { params: EntityParams },
  responses: { ...started, ...conflict, ...errorResponses(400, 401) },
});

function startedBody(ctx: ApiContext, run: StartedSync<unknown>) {
  return {
    runId: run.syncRunId,
    workflowId: run.workflowId,
    statusUrl: runPath(run.syncRunId),
    temporalUiUrl: runUiUrl(ctx.temporalUiUrl, ctx.namespace, run.workflowId, run.runId),
  };
}

const START_ATTEMPTS = 10;
/** A start (and the look-up of a conflicting run) must not hang on an unreachable Temporal. */
const START_DEADLINE_MS = 10_000;
const RETRY_DELAY_MS = 250;

/**
 * Whether the run holding the lock is only closing: a run records its end in sync_runs just
 * before its workflow returns, so for a moment a client that saw "completed" would get a 409.
 */
async function isClosing(ctx: ApiContext, runId: string): Promise<boolean> {
  const status = await runStatus(ctx.sql, runId);
  return status !== undefined && status !== 'running';
}

/**
 * Starts a sync; Temporal's conflict policy makes exactly one of racing starts win, the rest get
 * 409 with the winner's run id. A refusal by a holder that has already recorded its end (or
 * that closed before it could be named) is retried briefly: the lock is about to be free.
 */
async function begin(ctx: ApiContext, c: Context<AppEnv>, start: () => Promise<StartedSync<unknown>>, busy: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return c.json(startedBody(ctx, await withDeadline(ctx.temporal, START_DEADLINE_MS, start)), 202);
    } catch (error) {
      if (!(error instanceof SyncAlreadyRunningError)) throw error;
      const holder = error.runningRunId;
      const retry = attempt < START_ATTEMPTS && (!holder || (await isClosing(ctx, holder)));
      if (!retry) return c.json({ error: busy, runningRunId: holder ?? null }, 409);
      if (holder) await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    }
  }
}

export function registerSyncStartRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  const kindStart = (type: MainSyncType, input: SyncInput) => () =>
    startSync(ctx.temporal, ctx.target, type, { ...input, trigger: 'api' });
  const busy = 'another sync is already running';

  app.openapi(fullRoute, (c) => begin(ctx, c, kindStart('full', {}), busy));
  app.openapi(smartRoute, (c) => begin(ctx, c, kindStart('smart', {}), busy));
  app.openapi(incrementalRoute, (c) => {
    const body = c.req.valid('json');
    const input: SyncInput = {
      since: body.since,
      ...(body.entityTypes ? { entityTypes: [...new Set(body.entityTypes)] } : {}),
    };
    return begin(ctx, c, kindStart('incremental', input), busy);
  });
  app.openapi(entityRoute, (c) => {
    const { entityType, id } = c.req.valid('param');
    return begin(
      ctx,
      c,
      () => startEntitySync(ctx.temporal, ctx.target, { entityType, id, trigger: 'api' }),
      `a sync of ${entityType} ${id} is already running`,
    );
  });
}
