import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { ApiContext, AppEnv } from '../context.js';
import { ApiError } from '../middleware/errors.js';
import { errorResponses } from '../schemas/common.js';
import { RunIdParams } from '../schemas/sync.js';
import { findRunOrPending, isChainRunning, liveProgress, type RunView } from '../services/runs.js';

/** Every this many ticks, Temporal is asked whether a run sync_runs still calls running really is. */
const TEMPORAL_CHECK_EVERY = 5;

const eventsRoute = createRoute({
  method: 'get',
  path: '/api/sync/runs/{runId}/events',
  tags: ['runs'],
  summary: 'Server-Sent Events: the current state at once, progress every second while running, a final `end` event',
  description:
    'Events: `progress` (data: { run, live }) while the run is running, then one `end` (data: { run }) when it has ended; then the stream closes. A client that reconnects gets the current state at once.',
  security: [{ bearerAuth: [] }],
  request: { params: RunIdParams },
  responses: {
    200: {
      description: 'an event stream',
      content: { 'text/event-stream': { schema: { type: 'string' } } },
    },
    ...errorResponses(400, 401, 404),
  },
});

export function registerSyncEventRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  app.openapi(eventsRoute, async (c) => {
    const { runId } = c.req.valid('param');
    const first = await findRunOrPending(ctx, runId);
    if (!first) throw new ApiError(404, `no sync run ${runId}`);
    const requestId = c.get('requestId');

    return streamSSE(
      c,
      async (stream) => {
        let closed = false;
        stream.onAbort(() => {
          closed = true;
        });
        let sequence = 0;
        const send = (event: string, data: unknown) =>
          stream.writeSSE({ event, id: String(sequence++), data: JSON.stringify(data) });

        let run: RunView = first;
        for (let tick = 1; !closed; tick++) {
          if (run.status !== 'running') {
            await send('end', { run });
            return;
          }
          await send('progress', { run, live: await liveProgress(ctx, run) });
          await stream.sleep(ctx.sseIntervalMs);
          if (closed) return;
          const next = await findRunOrPending(ctx, run.id);
          if (!next) return;
          run = next;
          // A row left 'running' by a workflow that was terminated would keep the stream open forever.
          if (run.status === 'running' && tick % TEMPORAL_CHECK_EVERY === 0) {
            if ((await isChainRunning(ctx, run.workflowId, run.temporalRunId)) === false) {
              await send('end', { run, note: 'the workflow is no longer running in Temporal' });
              return;
            }
          }
        }
      },
      async (error) => {
        ctx.logger.error({ requestId, err: error }, 'event stream failed');
      },
    );
  });
}
