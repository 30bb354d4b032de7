import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createActivities } from '../activities/index.js';
import type { Sql } from '../db/client.js';
import type { StashClient } from '../stash/client.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

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
  /** Tests: hand workflows over quickly when a worker dies. */
  maxCachedWorkflows?: number;
  stickyQueueScheduleToStartTimeout?: string;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the workflow code once per process (webpack takes a few seconds). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: Record<string, unknown>) {
    console.error(message, meta ?? '');
  },
  log() {},
};

export async function createWorker(options: WorkerOptions): Promise<{ worker: Worker; connection: NativeConnection }> {
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
  });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    maxConcurrentActivityTaskExecutions: 8,
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    ...(options.stickyQueueScheduleToStartTimeout
      ? { stickyQueueScheduleToStartTimeout: options.stickyQueueScheduleToStartTimeout }
      : {}),
  });
  return { worker, connection };
}
