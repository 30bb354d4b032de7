import type { EntityType } from '../stash/entity-types.js';
import { jsonb, type Sql, type TransactionSql } from './client.js';

type Db = Sql | TransactionSql;

export type SyncType = 'full' | 'incremental' | 'smart' | 'specific';
export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'skipped';
export type LoggedChange = 'created' | 'updated' | 'unchanged' | 'failed' | 'deleted' | 'revived';

export interface EntityCounts {
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  deleted: number;
}

export const ZERO_COUNTS: EntityCounts = { fetched: 0, created: 0, updated: 0, unchanged: 0, failed: 0, deleted: 0 };

export function addCounts(a: EntityCounts, b: Partial<EntityCounts>): EntityCounts {
  return {
    fetched: a.fetched + (b.fetched ?? 0),
    created: a.created + (b.created ?? 0),
    updated: a.updated + (b.updated ?? 0),
    unchanged: a.unchanged + (b.unchanged ?? 0),
    failed: a.failed + (b.failed ?? 0),
    deleted: a.deleted + (b.deleted ?? 0),
  };
}

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
  status: Exclude<RunStatus, 'running'>,
  error: string | null,
): Promise<void> {
  await tx`
    update sync_runs
    set status = ${status}, completed_at = coalesce(completed_at, now()), error = ${error},
        progress = progress || jsonb_build_object('phase', ${status}::text)
    where id = ${runId}`;
}

export async function addRunCounts(tx: TransactionSql, runId: string, type: EntityType, delta: Partial<EntityCounts>) {
  await tx`select sync_runs_add_counts(${runId}, ${type}, ${jsonb(tx, delta)})`;
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

/** Deletes sync_log rows older than the retention window; returns how many went. */
export async function pruneLog(tx: TransactionSql, retentionDays: number): Promise<number> {
  const rows =
    await tx`delete from sync_log where created_at < now() - make_interval(days => ${retentionDays}) returning 1`;
  return rows.length;
}

/**
 * The interrupted cursor of one sync type for an entity type. Cursors are kept per sync type, so
 * a scheduled smart sync running after a cancelled full sync does not erase the full sync's place.
 */
export async function readResumeCursor<T>(
  db: Db,
  type: EntityType,
  syncType: SyncType,
  forUpdate = false,
): Promise<T | null> {
  const rows = forUpdate
    ? await db`select resume_cursor -> ${syncType}::text as cursor from sync_state where entity_type = ${type} for update`
    : await db`select resume_cursor -> ${syncType}::text as cursor from sync_state where entity_type = ${type}`;
  return (rows[0]?.cursor as T | null | undefined) ?? null;
}

export async function writeResumeCursor(
  tx: TransactionSql,
  type: EntityType,
  syncType: SyncType,
  cursor: unknown,
): Promise<void> {
  await tx`
    update sync_state set
      resume_cursor = nullif(
        case when ${cursor === null}::boolean then coalesce(resume_cursor, '{}'::jsonb) - ${syncType}::text
             else coalesce(resume_cursor, '{}'::jsonb) || jsonb_build_object(${syncType}::text, ${jsonb(tx, cursor)}::jsonb) end,
        '{}'::jsonb),
      updated_at = now()
    where entity_type = ${type}`;
}

/**
 * Marks a type's sync finished: clears the resume cursor and advances the high-water mark (the
 * lexically newest updated_at string Stash has shown us) and when its second was last read.
 */
export async function completeTypeSync(
  tx: TransactionSql,
  type: EntityType,
  syncType: SyncType,
  highWaterMarkRaw: string | null,
  readAt: Date,
): Promise<void> {
  const full = syncType === 'full';
  await tx`
    update sync_state set
      resume_cursor = nullif(coalesce(resume_cursor, '{}'::jsonb) - ${syncType}::text, '{}'::jsonb),
      last_full_sync_at = case when ${full} then now() else last_full_sync_at end,
      last_incremental_sync_at = case when ${full} then last_incremental_sync_at else now() end,
      high_water_mark_raw = case
        when ${highWaterMarkRaw}::text is null then high_water_mark_raw
        when high_water_mark_raw is null or ${highWaterMarkRaw}::text > high_water_mark_raw then ${highWaterMarkRaw}::text
        else high_water_mark_raw end,
      high_water_mark_read_at = ${readAt},
      updated_at = now()
    where entity_type = ${type}`;
}

export interface TypeWatermark {
  highWaterMarkRaw: string | null;
  readAt: Date | null;
}

export async function readWatermark(db: Db, type: EntityType): Promise<TypeWatermark> {
  const [row] =
    await db`select high_water_mark_raw, high_water_mark_read_at from sync_state where entity_type = ${type}`;
  return {
    highWaterMarkRaw: (row?.high_water_mark_raw as string | null | undefined) ?? null,
    readAt: (row?.high_water_mark_read_at as Date | null | undefined) ?? null,
  };
}

/** Types that had entities created, updated, deleted or revived in a run (post-processing input). */
export async function changedTypesInRun(db: Db, runId: string): Promise<EntityType[]> {
  const rows = await db`
    select distinct entity_type from sync_log
    where run_id = ${runId} and entity_id is not null and change_type in ('created', 'updated', 'deleted', 'revived')`;
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

/**
 * Keeps sync_failures current: entities that failed to map are recorded, entities that mapped
 * (or vanished) are cleared. Deletion signals count them as known to the mirror.
 */
export async function recordFailures(
  tx: TransactionSql,
  runId: string,
  type: EntityType,
  failures: LogEntry[],
  clearedIds: number[],
): Promise<void> {
  if (clearedIds.length > 0) {
    await tx`delete from sync_failures where entity_type = ${type} and entity_id = any(${clearedIds}::bigint[])`;
  }
  const failed = failures.filter((failure) => failure.entityId !== null);
  if (failed.length === 0) return;
  await tx`
    insert into sync_failures (entity_type, entity_id, run_id, error_message)
    select ${type}, x.entity_id, ${runId}, x.error_message
    from jsonb_to_recordset(${jsonb(
      tx,
      failed.map((failure) => ({ entity_id: failure.entityId, error_message: failure.errorMessage ?? null })),
    )}) as x(entity_id bigint, error_message text)
    on conflict (entity_type, entity_id) do update
      set run_id = excluded.run_id, error_message = excluded.error_message, failed_at = now()`;
}

/**
 * Ids of one type that this run created, updated or revived, optionally only those whose Stash
 * updated_at is at or after an instant (read back from sync_log: the database is the checkpoint).
 */
export async function changedIdsInRun(db: Db, runId: string, type: EntityType, table: string, since: Date | null) {
  const rows = await db`
    select distinct l.entity_id from sync_log l
    join ${db(table)} e on e.id = l.entity_id and e.deleted_at is null
    where l.run_id = ${runId} and l.entity_type = ${type} and l.entity_id is not null
      and l.change_type in ('created', 'updated', 'revived')
      and (${since}::timestamptz is null or e.stash_updated_at >= ${since}::timestamptz)
    order by l.entity_id`;
  return rows.map((row) => Number(row.entity_id));
}

/** When a run started (worker clock), or null when it is unknown. */
export async function runStartedAt(db: Db, runId: string): Promise<Date | null> {
  const [row] = await db`select started_at from sync_runs where id = ${runId}`;
  return (row?.started_at as Date | undefined) ?? null;
}
