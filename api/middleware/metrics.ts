import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Sql } from '../../db/client.js';
import { runMetrics } from '../../db/runs.js';
import { SYNC_TYPES } from '../../db/vocabulary.js';
import type { AppEnv } from '../context.js';

/**
 * The route pattern a request matched (`/api/sync/runs/:runId`), never the raw path, so the
 * latency histogram's label set stays bounded whatever paths clients send.
 */
export function routeLabel(c: Context): string {
  const path = routePath(c);
  return path.includes('*') ? (c.res.status === 404 ? 'unmatched' : path) : path;
}

export interface ApiMetrics {
  registry: Registry;
  middleware: MiddlewareHandler<AppEnv>;
  /** Reads sync_runs into the sync gauges; called right before each scrape. */
  refresh(sql: Sql): Promise<void>;
}

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];

/** One registry per app (not prom-client's global one), so several apps in one process do not collide. */
export function createMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'stash_mirror_api_' });
  const latency = new Histogram({
    name: 'stash_mirror_http_request_duration_seconds',
    help: 'API request latency by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const runs = new Gauge({
    name: 'stash_mirror_sync_runs',
    help: 'Sync runs recorded in sync_runs, by type and status',
    labelNames: ['type', 'status'] as const,
    registers: [registry],
  });
  const entities = new Gauge({
    name: 'stash_mirror_entities_synced',
    help: 'Entities processed by all recorded runs (sum of sync_runs.counts), by entity type and outcome',
    labelNames: ['entity_type', 'outcome'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'stash_mirror_sync_duration_seconds',
    help: 'Duration of the last 5000 finished sync runs, by type and status',
    labelNames: ['type', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const running = new Gauge({
    name: 'stash_mirror_sync_running_seconds',
    help: 'How long each type of sync currently running has been running (0 when none)',
    labelNames: ['type'] as const,
    registers: [registry],
  });

  return {
    registry,
    middleware: async (c, next) => {
      const end = latency.startTimer();
      await next();
      end({ method: c.req.method, route: routeLabel(c), status: String(c.res.status) });
    },
    async refresh(sql) {
      const { byStatus, byEntity, durations, running: current } = await runMetrics(sql);
      runs.reset();
      for (const row of byStatus) runs.set({ type: row.type, status: row.status }, row.n);
      entities.reset();
      for (const row of byEntity) entities.set({ entity_type: row.entityType, outcome: row.outcome }, row.n);
      duration.reset();
      for (const row of durations) duration.observe({ type: row.type, status: row.status }, row.seconds);
      running.reset();
      for (const type of SYNC_TYPES) running.set({ type }, 0);
      for (const row of current) running.set({ type: row.type }, row.seconds);
    },
  };
}
