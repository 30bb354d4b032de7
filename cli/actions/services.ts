/** What the long-running commands (dev, worker, api, migrate) open: the database, Stash, the schedule. */
import type { AppConfig } from '../../config/env.js';
import { connect, type Sql } from '../../db/client.js';
import { createStashClient, probeStash, type StashClient } from '../../stash/client.js';
import { redactUrl, stashEndpoint } from '../../stash/endpoint.js';
import { StashError } from '../../stash/errors.js';
import type { WorkerOptions } from '../../worker/create-worker.js';
import { EXIT, fail } from '../shared.js';

export interface Database {
  url: string;
  sql: Sql;
  /** An embedded PostgreSQL this process started (its superuser is ours): the API gets a restricted login there. */
  embedded: boolean;
  /** Closes the pool and, when we started an embedded server, stops it. */
  close(): Promise<void>;
}

/** DATABASE_URL when set; otherwise an embedded PostgreSQL kept in the project's data folder. */
export async function openDatabase(config: AppConfig, applicationName: string): Promise<Database> {
  let url = config.DATABASE_URL;
  let stopServer: (() => Promise<void>) | undefined;
  if (!url) {
    const { startEmbeddedPostgres } = await import('../../runtime/embedded-postgres.js');
    const server = await startEmbeddedPostgres(
      config.STASH_MIRROR_DATA_DIR ? { dataDir: `${config.STASH_MIRROR_DATA_DIR}/postgres` } : {},
    );
    process.stderr.write(`stash-mirror: embedded PostgreSQL on port ${server.port} (data in ${server.dataDir})\n`);
    url = server.databaseUrl;
    stopServer = () => server.stop();
  }
  const sql = connect(url, { applicationName });
  return {
    url,
    sql,
    embedded: stopServer !== undefined,
    async close() {
      await sql.end({ timeout: 5 });
      await stopServer?.();
    },
  };
}

/**
 * The Stash client for STASH_URL, checked once: a URL that is not a Stash GraphQL endpoint, or a
 * refused API key, stops the process in seconds with one line (exit 78). A Stash that is merely
 * down or slow only warns: the worker starts anyway and syncs retry until it answers.
 */
export async function stashClientFor(config: AppConfig): Promise<StashClient> {
  const url = config.STASH_URL;
  if (!url) fail('STASH_URL is not set (or run `stash-mirror dev`, which starts a simulated Stash)', EXIT.config);
  const client = createStashClient({ url, apiKey: config.STASH_API_KEY });
  const endpoint = redactUrl(stashEndpoint(url));
  try {
    const version = await probeStash(client, { signal: AbortSignal.timeout(10_000) });
    process.stderr.write(`stash-mirror: Stash ${version} at ${endpoint}\n`);
  } catch (error) {
    if (error instanceof StashError && !error.retryable) fail(error.message, EXIT.config);
    const reason = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `stash-mirror: could not check Stash at ${endpoint} (${reason}); starting anyway, syncs retry until it answers\n`,
    );
  }
  return client;
}

/** The worker's settings from the configuration (dev and worker run the same worker). */
export function workerOptionsFrom(
  config: AppConfig,
  parts: { temporalAddress: string; sql: Sql; stash: StashClient },
): WorkerOptions {
  return {
    ...parts,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    pageSize: config.SYNC_PAGE_SIZE,
    maxDeleteShare: config.SYNC_MAX_DELETE_SHARE,
    logRetentionDays: config.SYNC_LOG_RETENTION_DAYS,
    clockSkewSeconds: config.SYNC_CLOCK_SKEW_SECONDS,
    logSkipped: config.SYNC_LOG_SKIPPED === 'on',
    walkConcurrency: config.SYNC_WALK_CONCURRENCY,
    stashUnavailableBudgetSeconds: config.STASH_UNAVAILABLE_BUDGET_SECONDS,
    ...(config.WORKER_METRICS_PORT > 0
      ? { metrics: { host: config.WORKER_METRICS_HOST, port: config.WORKER_METRICS_PORT } }
      : {}),
  };
}

/**
 * Creates or updates the smart-sync Temporal Schedule from the configuration (idempotent; a
 * user's pause survives). Returns a one-line description, or null when SMART_SYNC_SCHEDULE=off.
 */
export async function ensureScheduleFromConfig(config: AppConfig, temporalAddress: string): Promise<string | null> {
  if (config.SMART_SYNC_SCHEDULE === 'off') return null;
  const { connectClient } = await import('../../temporal/sync-client.js');
  const { ensureSmartSyncSchedule } = await import('../../temporal/schedule.js');
  const client = await connectClient({
    address: temporalAddress,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
  });
  try {
    const state = await ensureSmartSyncSchedule(client, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      syncWorkflowId: config.SYNC_WORKFLOW_ID,
      intervalSeconds: config.SMART_SYNC_INTERVAL_SECONDS,
      ...(config.SMART_SYNC_CRON ? { cron: config.SMART_SYNC_CRON } : {}),
    });
    const every = state.cron ? `cron "${state.cron}"` : `every ${state.intervalSeconds}s`;
    return `${state.scheduleId} ${every}${state.paused ? ' (paused)' : ''}`;
  } finally {
    await client.connection.close();
  }
}
