import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/client';
import type { FullSyncInput, SyncRunSummary } from '../workflows/full-sync.js';
import { SYNC_WORKFLOW_ID } from './constants.js';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

/** Where syncs start: the task queue the worker polls and the fixed id of the one running sync. */
export interface SyncTarget {
  taskQueue: string;
  workflowId?: string;
}

export async function connectClient(settings: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect({ address: settings.address });
  return new Client({ connection, namespace: settings.namespace });
}

/** Raised when a sync is already running: the caller reports it (exit 2, HTTP 409). */
export class SyncAlreadyRunningError extends Error {
  override readonly name = 'SyncAlreadyRunningError';
  constructor(readonly runningRunId: string | undefined) {
    super('another sync is already running');
  }
}

export interface StartedSync {
  workflowId: string;
  runId: string;
  /** sync_runs.id of the run. */
  syncRunId: string;
  result(): Promise<SyncRunSummary>;
}

/**
 * Starts a full sync under the fixed workflow id. Conflict policy FAIL makes Temporal refuse a
 * second start atomically, however many callers race.
 */
export async function startFullSync(
  client: Client,
  target: SyncTarget,
  input: FullSyncInput = {},
): Promise<StartedSync> {
  const workflowId = target.workflowId ?? SYNC_WORKFLOW_ID;
  try {
    const handle = await client.workflow.start('fullSyncWorkflow', {
      taskQueue: target.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: `Full sync (${input.trigger ?? 'manual'})`,
    });
    const runId = handle.firstExecutionRunId;
    return {
      workflowId: handle.workflowId,
      runId,
      syncRunId: `${handle.workflowId}/${runId}`,
      result: () => handle.result() as Promise<SyncRunSummary>,
    };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      const running = await client.workflow
        .getHandle(workflowId)
        .describe()
        .catch(() => undefined);
      throw new SyncAlreadyRunningError(running ? `${workflowId}/${running.runId}` : undefined);
    }
    throw error;
  }
}
