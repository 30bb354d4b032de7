import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { ping } from '../../db/client.js';
import { withDeadline } from '../../temporal/sync-client.js';
import type { ApiContext, AppEnv } from '../context.js';
import type { ApiMetrics } from '../middleware/metrics.js';

const ReadySchema = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    checks: z.object({ postgres: z.boolean(), temporal: z.boolean() }),
  })
  .openapi('Readiness');

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'The process is up',
  responses: {
    200: {
      description: 'up',
      content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
    },
  },
});

const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'PostgreSQL and Temporal are reachable',
  responses: {
    200: { description: 'ready', content: { 'application/json': { schema: ReadySchema } } },
    503: { description: 'a dependency is unreachable', content: { 'application/json': { schema: ReadySchema } } },
  },
});

const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics: runs by type and status, entities synced, sync duration, API latency',
  responses: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } },
});

const CHECK_TIMEOUT_MS = 2000;

async function check(work: () => Promise<unknown>): Promise<boolean> {
  try {
    await work();
    return true;
  } catch {
    return false;
  }
}

export function registerOperationRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext, metrics: ApiMetrics): void {
  app.openapi(healthRoute, (c) => c.json({ status: 'ok' as const }, 200));

  app.openapi(readyRoute, async (c) => {
    const [postgres, temporal] = await Promise.all([
      check(() =>
        Promise.race([
          ping(ctx.sql),
          new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS).unref()),
        ]),
      ),
      check(() =>
        withDeadline(ctx.temporal, CHECK_TIMEOUT_MS, () => ctx.temporal.connection.workflowService.getSystemInfo({})),
      ),
    ]);
    const ready = postgres && temporal;
    return c.json(
      { status: ready ? ('ready' as const) : ('unavailable' as const), checks: { postgres, temporal } },
      ready ? 200 : 503,
    );
  });

  app.openapi(metricsRoute, async (c) => {
    try {
      await metrics.refresh(ctx.sql);
    } catch (error) {
      // The sync gauges keep their last values; the API's own metrics are still worth serving.
      ctx.logger.warn({ err: error }, 'could not read sync_runs for metrics');
    }
    return c.text(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType });
  });
}
