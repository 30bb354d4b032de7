import type { EntityType } from '../stash/entity-types.js';
import { jsonb, type Sql, type TransactionSql, withSyncTransaction } from './client.js';
import type { SyncType } from './vocabulary.js';

type Db = Sql | TransactionSql;

/** Per entity type: where an interrupted sync resumes, and the smart sync's high-water mark (sync_state). */

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

/** A sync_state row as PostgreSQL returns it. */
export interface SyncStateRow {
  entity_type: EntityType;
  last_full_sync_at: Date | null;
  last_incremental_sync_at: Date | null;
  high_water_mark_raw: string | null;
  high_water_mark_read_at: Date | null;
  resume_cursor: Record<string, unknown> | null;
  updated_at: Date;
}

/** Every type's sync state, by type name. */
export async function listSyncState(db: Db): Promise<SyncStateRow[]> {
  return db<SyncStateRow[]>`select * from sync_state order by entity_type`;
}

/** When each type last finished a walk of any sync type (the newer of its two marks; null: never). */
export async function lastTypeSyncs(db: Db): Promise<Array<{ entityType: EntityType; at: Date | null }>> {
  const rows =
    await db`select entity_type, greatest(last_full_sync_at, last_incremental_sync_at) as at from sync_state`;
  return rows.map((row) => ({ entityType: row.entity_type as EntityType, at: (row.at as Date | null) ?? null }));
}

/** Whether any type has ever finished a full sync (dev starts the first one otherwise). */
export async function hasFullySynced(db: Db): Promise<boolean> {
  const [row] = await db`select exists (select 1 from sync_state where last_full_sync_at is not null) as synced`;
  return Boolean(row?.synced);
}

/**
 * Forgets one type's sync state (operators: `stash-mirror reset <type>`): its high-water mark and
 * when that was read, its last sync times, the resume cursors of every sync type and every walk
 * left in sync_walks, in one writer transaction. The next smart sync then finds no mark and walks
 * the whole type, and the next full sync starts the type afresh instead of resuming. Mirrored rows
 * are kept: the re-read updates them, and deletions are found as always (count signal, reconcile).
 * Returns the state as it was, and how many walk rows went.
 */
export async function resetTypeSyncState(
  sql: Sql,
  type: EntityType,
): Promise<{ before: SyncStateRow | null; walks: number }> {
  return withSyncTransaction(sql, async (tx) => {
    const [before] = await tx<SyncStateRow[]>`select * from sync_state where entity_type = ${type} for update`;
    await tx`
      update sync_state set
        last_full_sync_at = null, last_incremental_sync_at = null,
        high_water_mark_raw = null, high_water_mark_read_at = null,
        resume_cursor = null, updated_at = now()
      where entity_type = ${type}`;
    const walks = await tx`delete from sync_walks where entity_type = ${type}`;
    return { before: before ?? null, walks: walks.count };
  });
}
