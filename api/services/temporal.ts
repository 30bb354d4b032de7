import { isGrpcServiceError } from '@temporalio/client';
import type { SyncProgress } from '../../workflows/progress.js';
import type { ApiContext } from '../context.js';

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

/** The Temporal Web UI page of a run (null when no UI URL is configured). */
export function runUiUrl(ctx: ApiContext, workflowId: string, runId: string): string | null {
  if (!ctx.temporalUiUrl) return null;
  const namespace = encodeURIComponent(ctx.namespace);
  return `${ctx.temporalUiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}`;
}

/** Bounds a Temporal call so a request never hangs on an unreachable server or a query no worker answers. */
export function withDeadline<R>(ctx: ApiContext, milliseconds: number, work: () => Promise<R>): Promise<R> {
  return ctx.temporal.withDeadline(Date.now() + milliseconds, work);
}

/** Temporal could not be reached (or did not answer in time): the API answers 503, not 500. */
export function isTemporalUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (isGrpcServiceError(current) && (current.code === UNAVAILABLE || current.code === DEADLINE_EXCEEDED))
      return true;
    current = current.cause;
  }
  return false;
}

/**
 * The live `progress` query of the chain that started with `firstRunId` (the latest execution
 * after continue-as-new). Answers only while a worker polls: null on any failure or timeout,
 * and the caller falls back to sync_runs.progress.
 */
export async function queryProgress(
  ctx: ApiContext,
  workflowId: string,
  firstRunId: string,
  milliseconds = 1500,
): Promise<SyncProgress | null> {
  try {
    const handle = ctx.temporal.workflow.getHandle(workflowId, undefined, { firstExecutionRunId: firstRunId });
    const progress = await withDeadline(ctx, milliseconds, () => handle.query<SyncProgress>('progress'));
    // A query goes to the latest execution of the id: make sure it is still this run's chain.
    return progress?.runId === `${workflowId}/${firstRunId}` ? progress : null;
  } catch {
    return null;
  }
}

/** Whether the chain that started with `firstRunId` is still running in Temporal (null: unknown). */
export async function isChainRunning(ctx: ApiContext, workflowId: string, firstRunId: string): Promise<boolean | null> {
  try {
    const handle = ctx.temporal.workflow.getHandle(workflowId, undefined, { firstExecutionRunId: firstRunId });
    const description = await withDeadline(ctx, 3000, () => handle.describe());
    const first = description.raw.workflowExecutionInfo?.firstRunId ?? description.runId;
    return description.status.name === 'RUNNING' && first === firstRunId;
  } catch (error) {
    if (isTemporalUnavailable(error)) return null;
    // Not found: the workflow is gone from Temporal's retention, so it is not running.
    return false;
  }
}

/**
 * The sync running under the fixed workflow id, as Temporal sees it. `reachable: false` when
 * Temporal did not answer (the caller falls back to sync_runs).
 */
export async function runningSync(ctx: ApiContext): Promise<{ reachable: boolean; runId: string | null }> {
  const { workflowId } = ctx.target;
  try {
    const description = await withDeadline(ctx, 3000, () => ctx.temporal.workflow.getHandle(workflowId).describe());
    if (description.status.name !== 'RUNNING') return { reachable: true, runId: null };
    // After continue-as-new the current run id differs; the logical run is the first one's.
    const first = description.raw.workflowExecutionInfo?.firstRunId ?? description.runId;
    return { reachable: true, runId: `${workflowId}/${first}` };
  } catch (error) {
    if (isTemporalUnavailable(error)) return { reachable: false, runId: null };
    return { reachable: true, runId: null };
  }
}
