import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Sql } from '../db/client.js';
import type { StashClient } from '../stash/client.js';
import { registerSearchAttributes } from '../temporal/search-attributes.js';
import { readLastSyncs } from './last-sync.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { activityMetricsInterceptors } from './metrics-interceptor.js';
import { type MetricsAddress, type MetricsEndpoint, serveMetrics } from './metrics-server.js';

export { WORKFLOWS_PATH } from './workflows-path.js';

const runNode = (args: string[]) => promisify(execFile)(process.execPath, args, { maxBuffer: 16 * 2 ** 20 });

export interface WorkerOptions {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  sql: Sql;
  stash: StashClient;
  pageSize: number;
  maxDeleteShare: number;
  logRetentionDays: number;
  catchUpMarginSeconds?: number;
  clockSkewSeconds?: number;
  /** Log unchanged fetched entities as `skipped` (default true; SYNC_LOG_SKIPPED). */
  logSkipped?: boolean;
  /** Id ranges of scenes, images and galleries walked at once (default 2; SYNC_WALK_CONCURRENCY). */
  walkConcurrency?: number;
  /** How long an unreachable Stash is retried before a run fails (default 900; STASH_UNAVAILABLE_BUDGET_SECONDS). */
  stashUnavailableBudgetSeconds?: number;
  /** Serve Prometheus metrics here (WORKER_METRICS_HOST/PORT; port 0: any free port); absent: no metrics. */
  metrics?: MetricsAddress;
  /** Tests: hand workflows over quickly when a worker dies. */
  maxCachedWorkflows?: number;
  stickyQueueScheduleToStartTimeout?: string;
}

let bundle: Promise<WorkflowCode> | undefined;

/** The bundled workflow code, as Worker.create and runReplayHistory take it. */
export interface WorkflowCode {
  code: string;
}

/**
 * Bundles the workflow code once per process. The bundling (webpack, a few seconds and several
 * hundred MB) runs in a child process, so that memory never counts against the worker.
 */
export function workflowBundle(): Promise<WorkflowCode> {
  bundle ??= (async () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'stash-mirror-bundle-'));
    const out = path.join(directory, 'workflows.js');
    try {
      const script = fileURLToPath(new URL('./bundle-workflows.ts', import.meta.url));
      await runNode(['--import', 'tsx', script, out]).catch((error: unknown) => {
        const stderr = (error as { stderr?: string }).stderr ?? String(error);
        throw new Error(`bundling the workflows failed: ${stderr.trim().slice(-2000)}`);
      });
      return { code: readFileSync(out, 'utf8') };
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  })();
  return bundle;
}

export interface CreatedWorker {
  worker: Worker;
  connection: NativeConnection;
  /** The metrics endpoint (null without `options.metrics`): the caller closes it after the worker stops. */
  metrics: MetricsEndpoint | null;
}

export async function createWorker(options: WorkerOptions): Promise<CreatedWorker> {
  const metrics = options.metrics
    ? createWorkerMetrics({
        readLastSyncs: () => readLastSyncs(options.sql),
        onError: (error) =>
          Runtime.instance().logger.warn('worker metrics: could not read the last syncs', { error: String(error) }),
      })
    : null;
  // Listening first: a metrics port in use stops the worker before it connects or polls.
  const endpoint = metrics && options.metrics ? await serveMetrics(metrics.registry, options.metrics) : null;
  try {
    return { ...(await startWorker(options, metrics)), metrics: endpoint };
  } catch (error) {
    await endpoint?.close();
    throw error;
  }
}

async function startWorker(
  options: WorkerOptions,
  metrics: WorkerMetrics | null,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  // The Web UI's filters (SyncType, SyncStatus, ...): registered in the namespace before any run.
  const operator = await Connection.connect({ address: options.temporalAddress });
  try {
    await registerSearchAttributes(operator, options.namespace);
  } finally {
    await operator.close();
  }
  const connection = await NativeConnection.connect({ address: options.temporalAddress });
  const activities = createActivities({
    sql: options.sql,
    stash: options.stash,
    pageSize: options.pageSize,
    maxDeleteShare: options.maxDeleteShare,
    catchUpMarginSeconds: options.catchUpMarginSeconds ?? 2 * 3600,
    logRetentionDays: options.logRetentionDays,
    clockSkewSeconds: options.clockSkewSeconds ?? 300,
    logSkipped: options.logSkipped ?? true,
    walkConcurrency: options.walkConcurrency ?? 2,
    // The run lease asks Temporal whether its holder still runs (a run terminated from the Web UI).
    temporal: new Client({ connection, namespace: options.namespace }),
    ...(options.stashUnavailableBudgetSeconds !== undefined
      ? { stashUnavailableBudgetSeconds: options.stashUnavailableBudgetSeconds }
      : {}),
    onCommitted: metrics?.recordWrite,
  });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    maxConcurrentActivityTaskExecutions: 8,
    // A walk activity runs for many seconds and learns of a cancellation only when a heartbeat is
    // sent: throttle heartbeats to seconds, not to 80% of the heartbeat timeout.
    maxHeartbeatThrottleInterval: '2 seconds',
    defaultHeartbeatThrottleInterval: '2 seconds',
    // Latency and failures of every activity, counted around the adapter rather than in each activity.
    ...(metrics ? { interceptors: { activity: [activityMetricsInterceptors(metrics)] } } : {}),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.stickyQueueScheduleToStartTimeout
      ? { stickyQueueScheduleToStartTimeout: options.stickyQueueScheduleToStartTimeout }
      : {}),
  });
  return { worker, connection };
}
