import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { ZERO_COUNTS } from '../db/vocabulary.js';
import { ENTITY_TYPES, type EntityType } from '../stash/entity-types.js';
import type { CommittedWrite } from '../sync/context.js';

/** When each type last synced successfully (null: never); read at every scrape. */
export type LastSyncs = Record<EntityType, Date | null>;

/** How one activity attempt ended: a cancellation is asked for, so it is no failure. */
export type ActivityOutcome = 'completed' | 'failed' | 'cancelled';

export interface WorkerMetrics {
  registry: Registry;
  /** A committed page or write by id: what it added to its run's counts (sync/context.ts). */
  recordWrite(write: CommittedWrite): void;
  /** One activity attempt; `retryable` only for failures. */
  recordActivity(activity: string, seconds: number, outcome: ActivityOutcome, retryable?: boolean): void;
}

export interface WorkerMetricsOptions {
  readLastSyncs(): Promise<LastSyncs>;
  /** The database could not be read at a scrape (the ages are served from the last read). */
  onError?(error: unknown): void;
}

export const WORKER_METRICS_PREFIX = 'stash_mirror_worker_';

// Activities range from a few ms (run records) over 20 s (a walk's budget) to minutes (reconcile, post-processing).
const ACTIVITY_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800];

/**
 * The worker's Prometheus metrics, in a registry of their own (not prom-client's global one):
 * `dev` runs the API, which has its own, in the same process. Counters live as long as this
 * object (the worker process) and are never reset; the age gauge is derived from the database
 * at each scrape.
 */
export function createWorkerMetrics(options: WorkerMetricsOptions): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: WORKER_METRICS_PREFIX });
  const pages = new Counter({
    name: `${WORKER_METRICS_PREFIX}pages_written_total`,
    help: 'Pages of a walk this worker committed, by entity type',
    labelNames: ['entity_type'] as const,
    registers: [registry],
  });
  const entities = new Counter({
    name: `${WORKER_METRICS_PREFIX}entities_total`,
    help: 'Entities this worker committed to runs (what it added to sync_runs.counts), by entity type and outcome',
    labelNames: ['entity_type', 'outcome'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: `${WORKER_METRICS_PREFIX}activity_failures_total`,
    help: 'Activity attempts that failed (cancellations excluded), by activity and whether Temporal may retry them',
    labelNames: ['activity', 'retryable'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${WORKER_METRICS_PREFIX}activity_duration_seconds`,
    help: 'Activity attempt latency, by activity and outcome (completed, failed, cancelled)',
    labelNames: ['activity', 'outcome'] as const,
    buckets: ACTIVITY_BUCKETS,
    registers: [registry],
  });
  // Zero series from the start, so rate() and increase() see the first page of each type.
  for (const entityType of ENTITY_TYPES) {
    pages.inc({ entity_type: entityType }, 0);
    for (const outcome of Object.keys(ZERO_COUNTS)) entities.inc({ entity_type: entityType, outcome }, 0);
  }
  registerSyncAges(registry, options);

  return {
    registry,
    recordWrite(write) {
      if (write.pages > 0) pages.inc({ entity_type: write.entityType }, write.pages);
      for (const [outcome, n] of Object.entries(write.counts)) {
        if (n) entities.inc({ entity_type: write.entityType, outcome }, n);
      }
    },
    recordActivity(activity, seconds, outcome, retryable = true) {
      duration.observe({ activity, outcome }, seconds);
      if (outcome === 'failed') failures.inc({ activity, retryable: String(retryable) });
    },
  };
}

/**
 * Seconds since each type's last successful sync, from the database at each scrape (so it counts
 * syncs by any worker). When the read fails, the last times read are kept: the ages keep growing
 * rather than freezing. A type never synced reports +Inf, so a "too old" alert covers it too.
 */
function registerSyncAges(registry: Registry, options: WorkerMetricsOptions): void {
  let known: LastSyncs | null = null;
  new Gauge({
    name: `${WORKER_METRICS_PREFIX}last_successful_sync_age_seconds`,
    help: 'Seconds since the entity type last synced successfully (sync_state marks, completed smart syncs); +Inf: never',
    labelNames: ['entity_type'] as const,
    registers: [registry],
    async collect() {
      try {
        known = await options.readLastSyncs();
      } catch (error) {
        options.onError?.(error);
      }
      if (!known) return;
      const now = Date.now();
      for (const entityType of ENTITY_TYPES) {
        const at = known[entityType];
        // Clamped: the database's clock may run a little ahead of the worker's.
        this.set({ entity_type: entityType }, at ? Math.max(0, (now - at.getTime()) / 1000) : Number.POSITIVE_INFINITY);
      }
    },
  });
}
