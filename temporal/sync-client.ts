import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/client';
import type { EntityType } from '../stash/entity-types.js';
import type { EntitySyncInput, EntitySyncSummary } from '../workflows/entity-sync.js';
import type { SyncInput, SyncKind, SyncRunSummary } from '../workflows/sync-run.js';
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

export interface StartedSync<R = SyncRunSummary> {
  workflowId: string;
  runId: string;
  /** sync_runs.id of the run. */
  syncRunId: string;
  result(): Promise<R>;
}

const WORKFLOW_TYPES: Record<SyncKind, string> = {
  full: 'fullSyncWorkflow',
  incremental: 'incrementalSyncWorkflow',
  smart: 'smartSyncWorkflow',
};

/**
 * Starts a sync under the fixed workflow id. Conflict policy FAIL makes Temporal refuse a second
 * start atomically, however many callers race (continue-as-new keeps the id, so the lock holds
 * for the whole run).
 */
export async function startSync(
  client: Client,
  target: SyncTarget,
  kind: SyncKind,
  input: SyncInput = {},
): Promise<StartedSync> {
  const workflowId = target.workflowId ?? SYNC_WORKFLOW_ID;
  return start(client, workflowId, async () => {
    const handle = await client.workflow.start(WORKFLOW_TYPES[kind], {
      taskQueue: target.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: `${kind[0]?.toUpperCase()}${kind.slice(1)} sync (${input.trigger ?? 'manual'})`,
      ...(input.since ? { staticDetails: `since ${input.since}` } : {}),
    });
    return { handle, result: () => handle.result() as Promise<SyncRunSummary> };
  });
}

export function startFullSync(client: Client, target: SyncTarget, input: SyncInput = {}): Promise<StartedSync> {
  return startSync(client, target, 'full', input);
}

/** The workflow id of a single-entity sync: beside the main sync, one per entity at a time. */
export function entityWorkflowId(target: SyncTarget, type: EntityType, id: number): string {
  return `${target.workflowId ?? SYNC_WORKFLOW_ID}:${type}:${id}`;
}

export async function startEntitySync(
  client: Client,
  target: SyncTarget,
  input: EntitySyncInput,
): Promise<StartedSync<EntitySyncSummary>> {
  const workflowId = entityWorkflowId(target, input.entityType, input.id);
  return start(client, workflowId, async () => {
    const handle = await client.workflow.start('syncEntityWorkflow', {
      taskQueue: target.taskQueue,
      workflowId,
      args: [input],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: `Sync ${input.entityType} ${input.id} (${input.trigger ?? 'manual'})`,
    });
    return { handle, result: () => handle.result() as Promise<EntitySyncSummary> };
  });
}

async function start<R>(
  client: Client,
  workflowId: string,
  begin: () => Promise<{ handle: { workflowId: string; firstExecutionRunId: string }; result: () => Promise<R> }>,
): Promise<StartedSync<R>> {
  try {
    const { handle, result } = await begin();
    const runId = handle.firstExecutionRunId;
    return { workflowId: handle.workflowId, runId, syncRunId: `${handle.workflowId}/${runId}`, result };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new SyncAlreadyRunningError(await runningSyncRunId(client, workflowId));
    }
    throw error;
  }
}

/** sync_runs.id of the sync running under `workflowId`, if any. */
export async function runningSyncRunId(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const description = await client.workflow.getHandle(workflowId).describe();
    if (description.status.name !== 'RUNNING') return undefined;
    // After continue-as-new the current run id differs; the logical run is the first one's.
    const first = description.raw.workflowExecutionInfo?.firstRunId ?? description.runId;
    return `${workflowId}/${first}`;
  } catch {
    return undefined;
  }
}
