import type { Client, WorkflowHandle } from '@temporalio/client';
import type { EntityType } from '../stash/entity-types.js';

/**
 * Run identity, in one place: how a logical run is named (sync_runs.id), parsed, found in
 * Temporal and linked to. Workflow code imports it too, so it has TYPE imports only (the workflow
 * bundle must not pull in the client).
 *
 * A logical run is a chain of executions under one workflow id (continue-as-new keeps the id and
 * starts a new execution); it is named after the chain's FIRST execution:
 * `<workflowId>/<firstExecutionRunId>`.
 */

/** sync_runs.id of the run whose chain started with `firstRunId` under `workflowId`. */
export function syncRunId(workflowId: string, firstRunId: string): string {
  return `${workflowId}/${firstRunId}`;
}

/** The parts of a sync_runs.id (workflow ids may contain '/', run ids never do), or null. */
export function parseSyncRunId(id: string): { workflowId: string; firstRunId: string } | null {
  const slash = id.lastIndexOf('/');
  if (slash <= 0 || slash === id.length - 1) return null;
  return { workflowId: id.slice(0, slash), firstRunId: id.slice(slash + 1) };
}

/** The workflow id of a single-entity sync: beside the main sync, one per entity at a time. */
export function entityWorkflowId(mainWorkflowId: string, type: EntityType, id: number): string {
  return `${entityWorkflowIdPrefix(mainWorkflowId)}${type}:${id}`;
}

/** What every single-entity sync's workflow id beside `mainWorkflowId` starts with. */
export function entityWorkflowIdPrefix(mainWorkflowId: string): string {
  return `${mainWorkflowId}:`;
}

/** A chain as Temporal describes it now (its latest execution). */
export interface ChainDescription {
  syncRunId: string;
  workflowId: string;
  firstRunId: string;
  /** The workflow function's name, e.g. fullSyncWorkflow. */
  workflowType: string;
  /** Temporal's status name of the latest execution: RUNNING, COMPLETED, CONTINUED_AS_NEW, ... */
  status: string;
  startTime: Date;
  closeTime: Date | null;
}

/**
 * Describes the chain running (or last run) under `workflowId`, or, given `firstRunId`, the chain
 * that started with it. Null when Temporal has no such chain (never started, or past retention).
 * Throws when Temporal cannot be reached (see isTemporalUnavailable).
 */
export async function describeChain(
  client: Client,
  workflowId: string,
  firstRunId?: string,
): Promise<ChainDescription | null> {
  try {
    const handle = client.workflow.getHandle(
      workflowId,
      undefined,
      firstRunId ? { firstExecutionRunId: firstRunId } : undefined,
    );
    const description = await handle.describe();
    // After continue-as-new the latest execution's run id differs; the logical run is the first's.
    const first = description.raw.workflowExecutionInfo?.firstRunId || description.runId;
    if (firstRunId && first !== firstRunId) return null;
    return {
      syncRunId: syncRunId(workflowId, first),
      workflowId,
      firstRunId: first,
      workflowType: description.type,
      status: description.status.name,
      startTime: description.startTime,
      closeTime: description.closeTime ?? null,
    };
  } catch (error) {
    if (isTemporalUnavailable(error)) throw error;
    return null;
  }
}

/**
 * Whether the chain that started with `firstRunId` under `workflowId` still runs, with Temporal's
 * status name of its latest execution. Null when Temporal does not know that first execution
 * (another cluster or namespace, or past retention): not knowing is not "not running". Throws
 * when Temporal is unreachable.
 */
export async function chainLiveness(
  client: Client,
  workflowId: string,
  firstRunId: string,
): Promise<{ running: boolean; status: string } | null> {
  let status: string;
  try {
    status = (await client.workflow.getHandle(workflowId, firstRunId).describe()).status.name;
  } catch (error) {
    if (isTemporalUnavailable(error)) throw error;
    return null;
  }
  if (status !== 'CONTINUED_AS_NEW') return { running: status === 'RUNNING', status };
  let latest: Awaited<ReturnType<WorkflowHandle['describe']>>;
  try {
    latest = await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (isTemporalUnavailable(error)) throw error;
    return null;
  }
  // The id's latest execution belongs to a newer chain: Temporal runs one execution per workflow
  // id at a time, so this chain has closed (how, its last execution would tell).
  const latestFirst = latest.raw.workflowExecutionInfo?.firstRunId || latest.runId;
  if (latestFirst !== firstRunId) return { running: false, status: 'CLOSED' };
  // CONTINUED_AS_NEW again: caught between two executions, which is running.
  const latestStatus = latest.status.name;
  return { running: latestStatus === 'RUNNING' || latestStatus === 'CONTINUED_AS_NEW', status: latestStatus };
}

/** sync_runs.id of the chain running under `workflowId` right now, or null. Throws when Temporal is unreachable. */
export async function runningSyncRunId(client: Client, workflowId: string): Promise<string | null> {
  const chain = await describeChain(client, workflowId);
  return chain?.status === 'RUNNING' ? chain.syncRunId : null;
}

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/** Temporal could not be reached, or did not answer in time (the API answers 503, not 500). */
export function isTemporalUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    // A gRPC ServiceError carries a numeric code (checked by shape: no client import here).
    const code = (current as { code?: unknown }).code;
    if (code === GRPC_UNAVAILABLE || code === GRPC_DEADLINE_EXCEEDED) return true;
    current = current.cause;
  }
  return false;
}

/** The Temporal Web UI page of one execution (null when no UI URL is configured). */
export function runUiUrl(
  uiBaseUrl: string | null,
  namespace: string,
  workflowId: string,
  runId: string,
): string | null {
  if (!uiBaseUrl) return null;
  const base = uiBaseUrl.replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}`;
}
