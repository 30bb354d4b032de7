import { type RunJson, runJsonOf } from '../../db/run-view.js';
import { findRunRow, listRunRows, type RunFilter, type RunRow, runFailureRows } from '../../db/runs.js';
import type { RunStatus } from '../../db/vocabulary.js';
import { describeChain, isTemporalUnavailable, parseSyncRunId, runningSyncRunId } from '../../temporal/run-identity.js';
import { queryProgress, syncTypeOfWorkflow, withDeadline } from '../../temporal/sync-client.js';
import type { ApiContext } from '../context.js';

/** A sync_runs row as the API shows it: the run's JSON (db/run-view.ts) and where to read it. */
export interface RunView extends RunJson {
  links: { self: string; events: string; cancel: string };
}

/** Where a run can be read: its id contains a '/', so it is percent-encoded in paths. */
export function runPath(runId: string): string {
  return `/api/sync/runs/${encodeURIComponent(runId)}`;
}

function iso(value: unknown): string | null {
  return value instanceof Date ? value.toISOString() : value == null ? null : String(value);
}

export function toRunView(ctx: ApiContext, row: RunRow): RunView {
  const path = runPath(row.id);
  return {
    ...runJsonOf(row, { uiUrl: ctx.temporalUiUrl, namespace: ctx.namespace }),
    links: { self: path, events: `${path}/events`, cancel: `${path}/cancel` },
  };
}

/** One run by its sync_runs id, or by its Temporal (first execution) run id alone. */
export async function findRun(ctx: ApiContext, runId: string): Promise<RunView | null> {
  const row = await findRunRow(ctx.sql, runId);
  return row ? toRunView(ctx, row) : null;
}

export async function listRuns(ctx: ApiContext, filter: RunFilter): Promise<{ count: number; runs: RunView[] }> {
  const { count, rows } = await listRunRows(ctx.sql, filter);
  return { count, runs: rows.map((row) => toRunView(ctx, row)) };
}

export interface LiveProgress {
  /** `query`: the workflow answered just now; `database`: the durable copy in sync_runs. */
  source: 'query' | 'database';
  progress: Record<string, unknown>;
}

/** A running run's progress from its workflow, falling back to the durable copy. */
export async function liveProgress(ctx: ApiContext, run: RunView): Promise<LiveProgress> {
  if (run.status === 'running') {
    const live = await queryProgress(ctx.temporal, run.workflowId, run.temporalRunId);
    if (live) return { source: 'query', progress: { ...live } };
  }
  return { source: 'database', progress: run.progress };
}

/** The run's failed sync_log rows (limited) and how many there are in all. */
export async function runFailures(ctx: ApiContext, runId: string, limit: number) {
  const { count, rows } = await runFailureRows(ctx.sql, runId, limit);
  return {
    failedCount: count,
    failedEntities: rows.map((row) => ({
      entityType: row.entityType,
      entityId: row.entityId === null ? null : String(row.entityId),
      error: row.errorMessage,
      at: iso(row.createdAt),
    })),
  };
}

const TEMPORAL_STATUSES: Record<string, RunStatus> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  CONTINUED_AS_NEW: 'running',
  CANCELLED: 'cancelled',
};

/**
 * A run Temporal knows but sync_runs does not have yet: the worker records a run in its first
 * activity, so for a moment after a 202 (or while no worker polls) the row is missing. The
 * statusUrl handed out must work at once, so the run is described from Temporal meanwhile.
 */
async function pendingRun(ctx: ApiContext, runId: string): Promise<RunView | null> {
  const parts = parseSyncRunId(runId);
  if (!parts) return null;
  const chain = await withDeadline(ctx.temporal, 3000, () =>
    describeChain(ctx.temporal, parts.workflowId, parts.firstRunId),
  ).catch(() => null);
  const type = chain ? syncTypeOfWorkflow(chain.workflowType) : undefined;
  if (!chain || !type) return null;
  return toRunView(ctx, {
    id: runId,
    workflow_id: chain.workflowId,
    temporal_run_id: chain.firstRunId,
    sync_type: type,
    trigger: 'pending',
    status: TEMPORAL_STATUSES[chain.status] ?? 'failed',
    started_at: chain.startTime,
    completed_at: chain.closeTime,
    counts: {},
    progress: { phase: 'pending', note: 'not recorded in sync_runs yet (no worker has picked the run up)' },
    error: null,
  });
}

/** findRun, falling back to Temporal for a run the worker has not recorded yet. */
export async function findRunOrPending(ctx: ApiContext, runId: string): Promise<RunView | null> {
  return (await findRun(ctx, runId)) ?? (await pendingRun(ctx, runId));
}

/** Whether the chain that started with `firstRunId` still runs in Temporal (null: Temporal did not answer). */
export async function isChainRunning(ctx: ApiContext, workflowId: string, firstRunId: string): Promise<boolean | null> {
  try {
    const chain = await withDeadline(ctx.temporal, 3000, () => describeChain(ctx.temporal, workflowId, firstRunId));
    return chain?.status === 'RUNNING';
  } catch (error) {
    if (isTemporalUnavailable(error)) return null;
    throw error;
  }
}

/**
 * The main sync running now, as Temporal sees it; `reachable: false` when Temporal did not answer
 * (the caller then falls back to sync_runs).
 */
export async function runningSync(ctx: ApiContext): Promise<{ reachable: boolean; runId: string | null }> {
  try {
    const runId = await withDeadline(ctx.temporal, 3000, () => runningSyncRunId(ctx.temporal, ctx.target.workflowId));
    return { reachable: true, runId };
  } catch (error) {
    if (isTemporalUnavailable(error)) return { reachable: false, runId: null };
    throw error;
  }
}
