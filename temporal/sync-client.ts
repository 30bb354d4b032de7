import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/client';
import type { MainSyncType, SyncType } from '../db/vocabulary.js';
import { type EntitySyncInput, type EntitySyncSummary, syncEntityWorkflow } from '../workflows/entity-sync.js';
import { progressQuery, type SyncProgress } from '../workflows/progress.js';
import { EntityTypesAttribute, runSummary, startAttributes } from '../workflows/search-attributes.js';
import {
  fullSyncWorkflow,
  incrementalSyncWorkflow,
  type SyncInput,
  type SyncRunSummary,
  smartSyncWorkflow,
} from '../workflows/sync-run.js';
import { SYNC_WORKFLOW_ID } from './constants.js';
import { entityWorkflowId, runningSyncRunId, syncRunId } from './run-identity.js';
import { isMissingSearchAttribute, registerSearchAttributes } from './search-attributes.js';

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

/** Each sync type's workflow, by function reference: starts and queries are checked by the compiler. */
const WORKFLOWS = {
  full: fullSyncWorkflow,
  incremental: incrementalSyncWorkflow,
  smart: smartSyncWorkflow,
  specific: syncEntityWorkflow,
} as const satisfies Record<SyncType, (...args: never[]) => Promise<unknown>>;

/** The sync type a workflow type (function name, as Temporal reports it) runs, if it is one of ours. */
export function syncTypeOfWorkflow(workflowType: string): SyncType | undefined {
  return (Object.keys(WORKFLOWS) as SyncType[]).find((type) => WORKFLOWS[type].name === workflowType);
}

const lockOptions = {
  workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
  workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
} as const;

/**
 * Starts a sync under the fixed workflow id. Conflict policy FAIL makes Temporal refuse a second
 * start atomically, however many callers race (continue-as-new keeps the id, so the lock holds
 * for the whole run).
 */
export async function startSync(
  client: Client,
  target: SyncTarget,
  type: MainSyncType,
  input: SyncInput = {},
): Promise<StartedSync> {
  const workflowId = target.workflowId ?? SYNC_WORKFLOW_ID;
  const trigger = input.trigger ?? 'manual';
  const options = {
    taskQueue: target.taskQueue,
    workflowId,
    ...lockOptions,
    staticSummary: runSummary(type, trigger),
    ...(input.since ? { staticDetails: `since ${input.since}` } : {}),
    typedSearchAttributes: startAttributes(type, trigger),
  };
  return start(client, workflowId, async () => {
    if (type === 'incremental') {
      if (!input.since) throw new Error('an incremental sync needs `since`');
      return client.workflow.start(incrementalSyncWorkflow, { ...options, args: [{ ...input, since: input.since }] });
    }
    return client.workflow.start(WORKFLOWS[type], { ...options, args: [input] });
  });
}

export function startFullSync(client: Client, target: SyncTarget, input: SyncInput = {}): Promise<StartedSync> {
  return startSync(client, target, 'full', input);
}

export async function startEntitySync(
  client: Client,
  target: SyncTarget,
  input: EntitySyncInput,
): Promise<StartedSync<EntitySyncSummary>> {
  const workflowId = entityWorkflowId(target.workflowId ?? SYNC_WORKFLOW_ID, input.entityType, input.id);
  const trigger = input.trigger ?? 'manual';
  return start(client, workflowId, () =>
    client.workflow.start(syncEntityWorkflow, {
      taskQueue: target.taskQueue,
      workflowId,
      args: [input],
      ...lockOptions,
      staticSummary: runSummary('specific', trigger, `${input.entityType} ${input.id}`),
      typedSearchAttributes: [
        ...startAttributes('specific', trigger),
        { key: EntityTypesAttribute, value: [input.entityType] },
      ],
    }),
  );
}

async function start<R>(
  client: Client,
  workflowId: string,
  begin: () => Promise<{ workflowId: string; firstExecutionRunId: string; result(): Promise<R> }>,
): Promise<StartedSync<R>> {
  try {
    const handle = await begin().catch(async (error: unknown) => {
      // A namespace no worker has prepared yet: register our search attributes, then start again.
      if (!isMissingSearchAttribute(error) || !(client.connection instanceof Connection)) throw error;
      await registerSearchAttributes(client.connection, client.options.namespace);
      return begin();
    });
    const runId = handle.firstExecutionRunId;
    return {
      workflowId: handle.workflowId,
      runId,
      syncRunId: syncRunId(handle.workflowId, runId),
      result: () => handle.result(),
    };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      const holder = await runningSyncRunId(client, workflowId).catch(() => null);
      throw new SyncAlreadyRunningError(holder ?? undefined);
    }
    throw error;
  }
}

/** Bounds a Temporal call, so a caller never hangs on an unreachable server or a query no worker answers. */
export function withDeadline<R>(client: Client, milliseconds: number, work: () => Promise<R>): Promise<R> {
  return client.withDeadline(Date.now() + milliseconds, work);
}

/**
 * The live progress of the chain that started with `firstRunId` (a query goes to its latest
 * execution). Answers only while a worker polls: null on any failure or after `milliseconds`,
 * and callers fall back to sync_runs.progress.
 */
export async function queryProgress(
  client: Client,
  workflowId: string,
  firstRunId: string,
  milliseconds = 1500,
): Promise<SyncProgress | null> {
  try {
    const handle = client.workflow.getHandle(workflowId, undefined, { firstExecutionRunId: firstRunId });
    const progress = await withDeadline(client, milliseconds, () => handle.query(progressQuery));
    // The id's latest execution may belong to a newer chain: only this run's progress counts.
    return progress?.runId === syncRunId(workflowId, firstRunId) ? progress : null;
  } catch {
    return null;
  }
}
