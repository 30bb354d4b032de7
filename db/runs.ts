import type { EntityType } from '../stash/entity-types.js';
import { jsonb, type Sql, type TransactionSql, withSyncTransaction } from './client.js';
import {
  DATA_CHANGES,
  type EntityCounts,
  type FinishedRunStatus,
  type LoggedChange,
  type RunStatus,
  type SyncType,
} from './vocabulary.js';

type Db = Sql | TransactionSql;

/**
 * Run records: sync_runs (one row per logical run, across continue-as-new) and sync_log (what
 * each run did to each entity). Every read and write of those two tables lives here.
 */

export interface RunRecord {
  id: string;
  workflowId: string;
  temporalRunId: string;
  syncType: SyncType;
  trigger: string;
}

/** Idempotent: a retried start (or a continued-as-new run) keeps the first row. */
export async function recordRunStart(tx: TransactionSql, run: RunRecord): Promise<void> {
  await tx`
    insert into sync_runs (id, workflow_id, temporal_run_id, sync_type, trigger, status)
    values (${run.id}, ${run.workflowId}, ${run.temporalRunId}, ${run.syncType}, ${run.trigger}, 'running')
    on conflict (id) do nothing`;
}

export async function recordRunEnd(
  tx: TransactionSql,
  runId: string,
  status: FinishedRunStatus,
  error: string | null,
): Promise<void> {
  await tx`
    update sync_runs
    set status = ${status}, completed_at = coalesce(completed_at, now()), error = ${error},
        progress = progress || jsonb_build_object('phase', ${status}::text)
    where id = ${runId}`;
}

/**
 * Ends, as failed with `error`, a run that cannot record its own end: its workflow was terminated
 * outside stash-mirror (no workflow code runs then), or it fell silent past the run lease's TTL.
 * Only while it is still recorded as running: an end it recorded itself stays.
 */
export async function recordRunAbandoned(tx: TransactionSql, runId: string, error: string): Promise<void> {
  await tx`
    update sync_runs
    set status = 'failed', completed_at = now(), error = ${error},
        progress = progress || jsonb_build_object('phase', 'failed')
    where id = ${runId} and status = 'running'`;
}

/**
 * Adds a page's counts to the run's per-type counts and, with `pages`, its committed pages to the
 * run's durable progress, in ONE update of the run's row (concurrent walks all update it: the
 * caller makes it the last statement of its transaction, so the row is locked only until commit).
 */
export async function addRunCounts(
  tx: TransactionSql,
  runId: string,
  type: EntityType,
  delta: Partial<EntityCounts>,
  pages = 0,
) {
  const key = `pages:${type}`;
  await tx`
    update sync_runs set
      counts = jsonb_set(counts, array[${type}::text], coalesce(counts -> ${type}::text, '{}'::jsonb) || (
        select coalesce(jsonb_object_agg(d.key, coalesce((counts -> ${type}::text ->> d.key)::bigint, 0) + d.value::bigint), '{}'::jsonb)
        from jsonb_each_text(${jsonb(tx, delta)}) d)),
      progress = case when ${pages}::int = 0 then progress else progress || jsonb_build_object(
        'phase', 'syncing', 'entityType', ${type}::text, 'updatedAt', now(),
        ${key}::text, coalesce((progress ->> ${key}::text)::int, 0) + ${pages}::int) end
    where id = ${runId}`;
}

/** Merges a small object into sync_runs.progress (durable progress for when no worker polls). */
export async function mergeRunProgress(tx: TransactionSql, runId: string, patch: Record<string, unknown>) {
  await tx`update sync_runs set progress = progress || ${jsonb(tx, patch)} where id = ${runId}`;
}

export interface LogEntry {
  entityType: EntityType;
  entityId: number | null;
  changeType: LoggedChange;
  changedFields?: string[] | null;
  errorMessage?: string | null;
  details?: Record<string, unknown> | null;
}

/** Writes many sync_log rows in one statement. */
export async function writeLog(tx: TransactionSql, runId: string, syncType: SyncType, entries: LogEntry[]) {
  if (entries.length === 0) return;
  const rows = entries.map((entry) => ({
    run_id: runId,
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    sync_type: syncType,
    change_type: entry.changeType,
    changed_fields: entry.changedFields ?? null,
    error_message: entry.errorMessage ?? null,
    details: entry.details ?? null,
  }));
  await tx`
    insert into sync_log (run_id, entity_type, entity_id, sync_type, change_type, changed_fields, error_message, details)
    select run_id, entity_type, entity_id, sync_type, change_type, changed_fields, error_message, details
    from jsonb_populate_recordset(null::sync_log, ${jsonb(tx, rows)})`;
}

/**
 * One bounded batch of retention: deletes up to `batchSize` sync_log rows older than the window
 * (never a running run's), or, when none are left, up to `batchSize` finished sync_runs older
 * than the window. Small batches in their own transactions keep a first prune of a large table
 * from holding locks or stalling a sync; the caller repeats while a batch comes back full.
 */
export async function pruneBatch(
  tx: TransactionSql,
  retentionDays: number,
  batchSize: number,
): Promise<{ logRows: number; runs: number }> {
  // A multiplied interval, not make_interval(days => …): that takes whole days only, and a
  // fractional window (SYNC_LOG_RETENTION_DAYS=0.0005, a soak's) must prune by the second.
  const cutoff = tx`now() - ${retentionDays}::float8 * interval '1 day'`;
  const logRows = await tx`
    delete from sync_log where id in (
      select l.id from sync_log l
      where l.created_at < ${cutoff}
        and not exists (select 1 from sync_runs r where r.id = l.run_id and r.status = 'running')
      order by l.created_at limit ${batchSize})`;
  if (logRows.count > 0) return { logRows: logRows.count, runs: 0 };
  const runs = await tx`
    delete from sync_runs where id in (
      select id from sync_runs
      where status <> 'running' and coalesce(completed_at, started_at) < ${cutoff}
      order by coalesce(completed_at, started_at) limit ${batchSize})`;
  return { logRows: 0, runs: runs.count };
}

/** Types that had entities created, updated, deleted or revived in a run (post-processing input). */
export async function changedTypesInRun(db: Db, runId: string): Promise<EntityType[]> {
  const rows = await db`
    select distinct entity_type from sync_log
    where run_id = ${runId} and entity_id is not null and change_type = any(${[...DATA_CHANGES]}::text[])`;
  return rows.map((row) => row.entity_type as EntityType);
}

/** Ids this run soft-deleted, by type (read back for link repair: the database is the checkpoint). */
export async function deletedInRun(db: Db, runId: string): Promise<Array<{ type: EntityType; ids: number[] }>> {
  const rows = await db`
    select entity_type, array_agg(entity_id order by entity_id) as ids from sync_log
    where run_id = ${runId} and change_type = 'deleted' and entity_id is not null
    group by entity_type`;
  return rows.map((row) => ({ type: row.entity_type as EntityType, ids: (row.ids as number[]).map(Number) }));
}

/** Which of `ids` this run already logged as failed. */
export async function failedInRun(db: Db, runId: string, type: EntityType, ids: number[]): Promise<number[]> {
  const rows = await db`
    select distinct entity_id from sync_log
    where run_id = ${runId} and entity_type = ${type} and change_type = 'failed' and entity_id = any(${ids}::bigint[])`;
  return rows.map((row) => Number(row.entity_id));
}

/** When a run started (the database's clock, like synced_at), or null when it is unknown. */
export async function runStartedAt(db: Db, runId: string): Promise<Date | null> {
  const [row] = await db`select started_at from sync_runs where id = ${runId}`;
  return (row?.started_at as Date | undefined) ?? null;
}

// ------------------------------------------------------------------ reads for the API and the CLI

/** A sync_runs row as PostgreSQL returns it. */
export interface RunRow {
  id: string;
  workflow_id: string;
  temporal_run_id: string;
  sync_type: SyncType;
  trigger: string;
  status: RunStatus;
  started_at: Date;
  completed_at: Date | null;
  progress: unknown;
  counts: unknown;
  error: string | null;
}

/** One run by its sync_runs id, or by its Temporal (first execution) run id alone. */
export async function findRunRow(db: Db, runId: string): Promise<RunRow | null> {
  const [row] = await db<RunRow[]>`
    select * from sync_runs where id = ${runId} or temporal_run_id = ${runId}
    order by (id = ${runId}) desc, started_at desc limit 1`;
  return row ?? null;
}

export interface RunFilter {
  page: number;
  perPage: number;
  status?: RunStatus | undefined;
  type?: SyncType | undefined;
}

/** Runs newest first, one page, with the count of all that match. */
export async function listRunRows(db: Db, filter: RunFilter): Promise<{ count: number; rows: RunRow[] }> {
  const where = db`
    (${filter.status ?? null}::text is null or status = ${filter.status ?? null}::text)
    and (${filter.type ?? null}::text is null or sync_type = ${filter.type ?? null}::text)`;
  const [total] = await db`select count(*)::int as n from sync_runs where ${where}`;
  const rows = await db<RunRow[]>`
    select * from sync_runs where ${where}
    order by started_at desc, id desc limit ${filter.perPage} offset ${(filter.page - 1) * filter.perPage}`;
  return { count: total?.n ?? 0, rows };
}

/** A run's status by id (undefined when there is no such row). */
export async function runStatus(db: Db, runId: string): Promise<RunStatus | undefined> {
  const [row] = await db`select status from sync_runs where id = ${runId}`;
  return row?.status as RunStatus | undefined;
}

/** The newest run recorded as running under a workflow id (when Temporal cannot be asked). */
export async function runningRunRow(db: Db, workflowId: string): Promise<RunRow | null> {
  const [row] = await db<RunRow[]>`
    select * from sync_runs where workflow_id = ${workflowId} and status = 'running'
    order by started_at desc limit 1`;
  return row ?? null;
}

/** Single-entity syncs running beside the main sync: their workflow ids start with `workflowIdPrefix`. */
export async function runningEntitySyncRows(db: Db, workflowIdPrefix: string, limit: number): Promise<RunRow[]> {
  return db<RunRow[]>`
    select * from sync_runs where status = 'running' and sync_type = 'specific'
    and workflow_id like ${`${workflowIdPrefix.replace(/[\\%_]/g, '\\$&')}%`}
    order by started_at desc limit ${limit}`;
}

/** The last main sync that finished (completed, failed or cancelled). */
export async function lastFinishedRunRow(db: Db, workflowId: string): Promise<RunRow | null> {
  const [row] = await db<RunRow[]>`
    select * from sync_runs where workflow_id = ${workflowId}
    and status in ('completed', 'failed', 'cancelled') order by coalesce(completed_at, started_at) desc limit 1`;
  return row ?? null;
}

/** A run's failed sync_log rows (limited, oldest first) and how many there are in all. */
export async function runFailureRows(db: Db, runId: string, limit: number) {
  const [total] = await db`
    select count(*)::int as n from sync_log where run_id = ${runId} and change_type = 'failed'`;
  const rows = await db`
    select entity_type, entity_id, error_message, created_at from sync_log
    where run_id = ${runId} and change_type = 'failed' order by id limit ${limit}`;
  return {
    count: (total?.n as number | undefined) ?? 0,
    rows: rows.map((row) => ({
      entityType: row.entity_type as EntityType,
      entityId: row.entity_id === null ? null : Number(row.entity_id),
      errorMessage: (row.error_message as string | null) ?? null,
      createdAt: row.created_at as Date,
    })),
  };
}

/** One sync_log row of an entity's history, with its run (null when the run row is gone). */
export interface HistoryEntry {
  id: number;
  runId: string;
  /** A full sync's run-wide row for the whole type (entity_id NULL). */
  runWide: boolean;
  syncType: SyncType;
  changeType: LoggedChange;
  hadChanges: boolean;
  changedFields: string[] | null;
  errorMessage: string | null;
  details: Record<string, unknown> | null;
  createdAt: Date;
  run: {
    type: SyncType;
    status: RunStatus;
    trigger: string;
    startedAt: Date;
    completedAt: Date | null;
    counts: Record<string, unknown>;
  } | null;
}

/** Whether the mirror knows an entity at all: a row, live or not, or any log row of it. */
export async function isEntityKnown(db: Db, type: EntityType, table: string, id: number): Promise<boolean> {
  const [row] = await db`
    select exists (select 1 from ${db(table)} where id = ${id})
        or exists (select 1 from sync_log where entity_type = ${type} and entity_id = ${id}) as known`;
  return Boolean(row?.known);
}

/**
 * An entity's sync history, newest first: its own rows and the full syncs' run-wide rows of its
 * type (entity_id NULL: "every entity of this type the run covered"), each with its run.
 */
export async function entityHistory(db: Db, type: EntityType, id: number, limit: number): Promise<HistoryEntry[]> {
  const rows = await db`
    with own as (
      select * from sync_log where entity_type = ${type} and entity_id = ${id}
      order by created_at desc, id desc limit ${limit}
    ), wide as (
      select * from sync_log where entity_type = ${type} and entity_id is null and sync_type = 'full'
      order by created_at desc, id desc limit ${limit}
    )
    select l.*, r.id is not null as has_run, r.sync_type as run_type, r.status as run_status,
           r.trigger as run_trigger, r.started_at as run_started_at, r.completed_at as run_completed_at,
           r.counts as run_counts
    from (select * from own union all select * from wide) l left join sync_runs r on r.id = l.run_id
    order by l.created_at desc, l.id desc limit ${limit}`;
  return rows.map((row) => ({
    id: Number(row.id),
    runId: String(row.run_id),
    runWide: row.entity_id === null,
    syncType: row.sync_type as SyncType,
    changeType: row.change_type as LoggedChange,
    hadChanges: Boolean(row.had_changes),
    changedFields: (row.changed_fields as string[] | null) ?? null,
    errorMessage: (row.error_message as string | null) ?? null,
    details: (row.details as Record<string, unknown> | null) ?? null,
    createdAt: row.created_at as Date,
    run: row.has_run
      ? {
          type: row.run_type as SyncType,
          status: row.run_status as RunStatus,
          trigger: String(row.run_trigger),
          startedAt: row.run_started_at as Date,
          completedAt: (row.run_completed_at as Date | null) ?? null,
          counts: (row.run_counts as Record<string, unknown> | null) ?? {},
        }
      : null,
  }));
}

/** What the metrics endpoint reports about runs, read just before each scrape. */
export async function runMetrics(db: Db) {
  const [byStatus, byEntity, durations, current] = await Promise.all([
    db`select sync_type, status, count(*)::int as n from sync_runs group by 1, 2`,
    db`
      select c.key as entity_type, k.key as outcome, sum((k.value)::numeric)::float8 as n
      from sync_runs r, jsonb_each(r.counts) c, jsonb_each_text(c.value) k
      where jsonb_typeof(r.counts) = 'object' and jsonb_typeof(c.value) = 'object' and k.value ~ '^-?[0-9]+$'
      group by 1, 2`,
    db`
      select sync_type, status, extract(epoch from completed_at - started_at)::float8 as seconds
      from sync_runs where completed_at is not null order by completed_at desc limit 5000`,
    db`
      select sync_type, max(extract(epoch from now() - started_at))::float8 as seconds
      from sync_runs where status = 'running' group by 1`,
  ]);
  return {
    byStatus: byStatus.map((row) => ({
      type: row.sync_type as SyncType,
      status: row.status as RunStatus,
      n: Number(row.n),
    })),
    byEntity: byEntity.map((row) => ({
      entityType: String(row.entity_type),
      outcome: String(row.outcome),
      n: Number(row.n),
    })),
    durations: durations.map((row) => ({
      type: row.sync_type as SyncType,
      status: row.status as RunStatus,
      seconds: Number(row.seconds),
    })),
    running: current.map((row) => ({ type: row.sync_type as SyncType, seconds: Number(row.seconds) })),
  };
}

/**
 * When the newest completed run of a sync type started, or null. A completed smart sync checked
 * every type as of its start, also the types where it found nothing new (which keep their
 * sync_state marks): the worker's last-successful-sync gauge counts it for every type.
 */
export async function lastCompletedRunStart(db: Db, syncType: SyncType): Promise<Date | null> {
  const [row] = await db`
    select started_at from sync_runs where sync_type = ${syncType} and status = 'completed'
    order by started_at desc limit 1`;
  return (row?.started_at as Date | undefined) ?? null;
}

/** How many sync_log rows there are, in all or of one run (benchmarks: what a run wrote). */
export async function logRowCount(db: Db, runId?: string): Promise<number> {
  const [row] = runId
    ? await db`select count(*)::int as n from sync_log where run_id = ${runId}`
    : await db`select count(*)::int as n from sync_log`;
  return Number(row?.n ?? 0);
}

export interface PruneResult {
  logRows: number;
  runs: number;
  /** false when the per-call bound was reached with old rows left: the next run continues. */
  complete: boolean;
}

/**
 * Retention after a run: sync_log rows and finished sync_runs older than `retentionDays` (a
 * fraction is part of a day), in batches of `batchSize`, each its own short transaction, at most
 * `maxBatches` per call (so a first prune of a large table never stalls the run that triggers it).
 * A running run and its rows are never pruned.
 */
export async function pruneHistory(
  sql: Sql,
  retentionDays: number,
  options: { batchSize?: number; maxBatches?: number; onBatch?: () => void } = {},
): Promise<PruneResult> {
  const batchSize = options.batchSize ?? 5_000;
  const maxBatches = options.maxBatches ?? 40;
  const total: PruneResult = { logRows: 0, runs: 0, complete: false };
  for (let batch = 0; batch < maxBatches; batch += 1) {
    const pruned = await withSyncTransaction(sql, (tx) => pruneBatch(tx, retentionDays, batchSize));
    total.logRows += pruned.logRows;
    total.runs += pruned.runs;
    options.onBatch?.();
    if (pruned.logRows + pruned.runs < batchSize && pruned.logRows === 0) return { ...total, complete: true };
  }
  return total;
}
