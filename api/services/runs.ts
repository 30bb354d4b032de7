import type { ApiContext } from '../context.js';
import { queryProgress, runUiUrl, withDeadline } from './temporal.js';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped';
export type RunType = 'full' | 'incremental' | 'smart' | 'specific';
type Counts = Record<string, Record<string, number>>;

/** A sync_runs row as PostgreSQL returns it. */
export interface RunRow {
  id: string;
  workflow_id: string;
  temporal_run_id: string;
  sync_type: RunType;
  trigger: string;
  status: RunStatus;
  started_at: Date;
  completed_at: Date | null;
  progress: unknown;
  counts: unknown;
  error: string | null;
}

/** A sync_runs row as the API shows it. */
export interface RunView {
  id: string;
  workflowId: string;
  temporalRunId: string;
  type: RunType;
  trigger: string;
  status: RunStatus;
  startedAt: string;
  completedAt: string | null;
  durationSeconds: number | null;
  counts: Counts;
  totals: Record<string, number>;
  progress: Record<string, unknown>;
  error: string | null;
  temporalUiUrl: string | null;
  links: { self: string; events: string; cancel: string };
}

/** Where a run can be read: its id contains a '/', so it is percent-encoded in paths. */
export function runPath(runId: string): string {
  return `/api/sync/runs/${encodeURIComponent(runId)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function iso(value: unknown): string | null {
  return value instanceof Date ? value.toISOString() : value == null ? null : String(value);
}

function asCounts(value: unknown): Counts {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const counts: Counts = {};
  for (const [type, entry] of Object.entries(value as Record<string, unknown>)) {
    if (!entry || typeof entry !== 'object') continue;
    const numbers: Record<string, number> = {};
    for (const [key, count] of Object.entries(entry as Record<string, unknown>)) {
      const parsed = Number(count);
      if (Number.isFinite(parsed)) numbers[key] = parsed;
    }
    counts[type] = numbers;
  }
  return counts;
}

function totalsOf(counts: Counts): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const entry of Object.values(counts)) {
    for (const [key, count] of Object.entries(entry)) totals[key] = (totals[key] ?? 0) + count;
  }
  return totals;
}

export function toRunView(ctx: ApiContext, row: RunRow): RunView {
  const startedAt = row.started_at;
  const completedAt = row.completed_at ?? null;
  const counts = asCounts(row.counts);
  const id = row.id;
  const path = runPath(id);
  return {
    id,
    workflowId: row.workflow_id,
    temporalRunId: row.temporal_run_id,
    type: row.sync_type,
    trigger: row.trigger,
    status: row.status,
    startedAt: iso(startedAt) ?? '',
    completedAt: iso(completedAt),
    durationSeconds: completedAt ? Math.round((completedAt.getTime() - startedAt.getTime()) / 100) / 10 : null,
    counts,
    totals: totalsOf(counts),
    progress: isObject(row.progress) ? row.progress : {},
    error: row.error ?? null,
    temporalUiUrl: runUiUrl(ctx, row.workflow_id, row.temporal_run_id),
    links: { self: path, events: `${path}/events`, cancel: `${path}/cancel` },
  };
}

/** One run by its sync_runs id, or by its Temporal (first execution) run id alone. */
export async function findRun(ctx: ApiContext, runId: string): Promise<RunView | null> {
  const [row] = await ctx.sql<RunRow[]>`
    select * from sync_runs where id = ${runId} or temporal_run_id = ${runId}
    order by (id = ${runId}) desc, started_at desc limit 1`;
  return row ? toRunView(ctx, row) : null;
}

export interface RunListQuery {
  page: number;
  perPage: number;
  status?: RunStatus | undefined;
  type?: RunType | undefined;
}

export async function listRuns(ctx: ApiContext, query: RunListQuery): Promise<{ count: number; runs: RunView[] }> {
  const { sql } = ctx;
  const where = sql`
    (${query.status ?? null}::text is null or status = ${query.status ?? null}::text)
    and (${query.type ?? null}::text is null or sync_type = ${query.type ?? null}::text)`;
  const [total] = await sql`select count(*)::int as n from sync_runs where ${where}`;
  const rows = await sql<RunRow[]>`
    select * from sync_runs where ${where}
    order by started_at desc, id desc limit ${query.perPage} offset ${(query.page - 1) * query.perPage}`;
  return { count: total?.n ?? 0, runs: rows.map((row) => toRunView(ctx, row)) };
}

export interface LiveProgress {
  /** `query`: the workflow answered just now; `database`: the durable copy in sync_runs. */
  source: 'query' | 'database';
  progress: Record<string, unknown>;
}

/** A running run's progress from its workflow, falling back to the durable copy. */
export async function liveProgress(ctx: ApiContext, run: RunView): Promise<LiveProgress> {
  if (run.status === 'running') {
    const live = await queryProgress(ctx, run.workflowId, run.temporalRunId);
    if (live) return { source: 'query', progress: { ...live } };
  }
  return { source: 'database', progress: run.progress };
}

/** The run's failed sync_log rows (limited) and how many there are in all. */
export async function runFailures(ctx: ApiContext, runId: string, limit: number) {
  const { sql } = ctx;
  const [total] = await sql`
    select count(*)::int as n from sync_log where run_id = ${runId} and change_type = 'failed'`;
  const rows = await sql`
    select entity_type, entity_id, error_message, created_at from sync_log
    where run_id = ${runId} and change_type = 'failed' order by id limit ${limit}`;
  return {
    failedCount: total?.n ?? 0,
    failedEntities: rows.map((row) => ({
      entityType: row.entity_type as string,
      entityId: row.entity_id === null ? null : String(row.entity_id),
      error: (row.error_message as string | null) ?? null,
      at: iso(row.created_at),
    })),
  };
}

const WORKFLOW_KINDS: Record<string, RunType> = {
  fullSyncWorkflow: 'full',
  incrementalSyncWorkflow: 'incremental',
  smartSyncWorkflow: 'smart',
  syncEntityWorkflow: 'specific',
};

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
  const slash = runId.lastIndexOf('/');
  if (slash <= 0) return null;
  const workflowId = runId.slice(0, slash);
  const firstRunId = runId.slice(slash + 1);
  try {
    const handle = ctx.temporal.workflow.getHandle(workflowId, undefined, { firstExecutionRunId: firstRunId });
    const description = await withDeadline(ctx, 3000, () => handle.describe());
    const first = description.raw.workflowExecutionInfo?.firstRunId ?? description.runId;
    const type = WORKFLOW_KINDS[description.type];
    if (first !== firstRunId || !type) return null;
    const completedAt = description.closeTime ?? null;
    return toRunView(ctx, {
      id: runId,
      workflow_id: workflowId,
      temporal_run_id: firstRunId,
      sync_type: type,
      trigger: 'pending',
      status: TEMPORAL_STATUSES[description.status.name] ?? 'failed',
      started_at: description.startTime,
      completed_at: completedAt,
      counts: {},
      progress: { phase: 'pending', note: 'not recorded in sync_runs yet (no worker has picked the run up)' },
      error: null,
    });
  } catch {
    return null;
  }
}

/** findRun, falling back to Temporal for a run the worker has not recorded yet. */
export async function findRunOrPending(ctx: ApiContext, runId: string): Promise<RunView | null> {
  return (await findRun(ctx, runId)) ?? (await pendingRun(ctx, runId));
}
