import type { PageCursor } from '../stash/cursor.js';
import type { EntityType } from '../stash/entity-types.js';
import { jsonb, type Sql, type TransactionSql } from './client.js';
import { addCounts, type EntityCounts, type SyncType, ZERO_COUNTS } from './vocabulary.js';

type Db = Sql | TransactionSql;

/** Which walk of which type's sync (the key of a sync_walks row). */
export interface WalkKey {
  entityType: EntityType;
  syncType: SyncType;
  phase: 'walk' | 'catchup';
  walk: number;
}

/** One walk's committed state. */
export interface WalkRow extends WalkKey {
  runId: string;
  cursor: PageCursor;
  seq: number;
  done: boolean;
  newestSeen: string | null;
  counts: EntityCounts;
  pages: number;
}

function toWalk(row: Record<string, unknown>): WalkRow {
  return {
    entityType: row.entity_type as EntityType,
    syncType: row.sync_type as SyncType,
    phase: row.phase as WalkKey['phase'],
    walk: Number(row.walk),
    runId: String(row.run_id),
    cursor: row.cursor as PageCursor,
    seq: Number(row.seq),
    done: Boolean(row.done),
    newestSeen: (row.newest_seen as string | null) ?? null,
    counts: { ...ZERO_COUNTS, ...(row.counts as Partial<EntityCounts>) },
    pages: Number(row.pages),
  };
}

/** Replaces a phase's walks of a type's sync with fresh ones starting at `cursors`. */
export async function createWalks(
  tx: TransactionSql,
  key: Omit<WalkKey, 'walk'>,
  runId: string,
  cursors: PageCursor[],
): Promise<void> {
  await tx`delete from sync_walks where entity_type = ${key.entityType} and sync_type = ${key.syncType} and phase = ${key.phase}`;
  const rows = cursors.map((cursor, walk) => ({
    entity_type: key.entityType,
    sync_type: key.syncType,
    phase: key.phase,
    walk,
    run_id: runId,
    cursor,
  }));
  await tx`
    insert into sync_walks (entity_type, sync_type, phase, walk, run_id, cursor)
    select entity_type, sync_type, phase, walk, run_id, cursor
    from jsonb_to_recordset(${jsonb(tx, rows)}) as x(entity_type text, sync_type text, phase text, walk int, run_id text, cursor jsonb)`;
}

/** A resumed sync's walks belong to the new run; their counts restart with it. */
export async function adoptWalks(tx: TransactionSql, key: Omit<WalkKey, 'walk' | 'phase'>, runId: string) {
  await tx`
    update sync_walks set run_id = ${runId}, counts = '{}', updated_at = now()
    where entity_type = ${key.entityType} and sync_type = ${key.syncType}`;
}

/** One walk, locked for the caller's transaction when `forUpdate`. */
export async function readWalk(db: Db, key: WalkKey, forUpdate = false): Promise<WalkRow | null> {
  const [row] = forUpdate
    ? await db`select * from sync_walks where entity_type = ${key.entityType} and sync_type = ${key.syncType}
                and phase = ${key.phase} and walk = ${key.walk} for update`
    : await db`select * from sync_walks where entity_type = ${key.entityType} and sync_type = ${key.syncType}
                and phase = ${key.phase} and walk = ${key.walk}`;
  return row ? toWalk(row) : null;
}

/** All walks of a phase, in walk order. */
export async function readWalks(db: Db, key: Omit<WalkKey, 'walk'>): Promise<WalkRow[]> {
  const rows = await db`
    select * from sync_walks where entity_type = ${key.entityType} and sync_type = ${key.syncType}
    and phase = ${key.phase} order by walk`;
  return rows.map(toWalk);
}

/** Commits one page of a walk: its next cursor, sequence, counts and newest stamp. */
export async function advanceWalk(
  tx: TransactionSql,
  walk: WalkRow,
  next: { cursor: PageCursor; done: boolean; newestSeen: string | null; page: EntityCounts },
): Promise<WalkRow> {
  const advanced: WalkRow = {
    ...walk,
    cursor: next.cursor,
    seq: walk.seq + 1,
    done: next.done,
    newestSeen: next.newestSeen,
    counts: addCounts(walk.counts, next.page),
    pages: walk.pages + 1,
  };
  await tx`
    update sync_walks set cursor = ${jsonb(tx, advanced.cursor)}, seq = ${advanced.seq}, done = ${advanced.done},
      newest_seen = ${advanced.newestSeen}, counts = ${jsonb(tx, advanced.counts)}, pages = ${advanced.pages},
      updated_at = now()
    where entity_type = ${walk.entityType} and sync_type = ${walk.syncType} and phase = ${walk.phase}
      and walk = ${walk.walk}`;
  return advanced;
}

/** Forgets a type's walks (its sync of this type finished). */
export async function dropWalks(tx: TransactionSql, key: Omit<WalkKey, 'walk' | 'phase'>): Promise<void> {
  await tx`delete from sync_walks where entity_type = ${key.entityType} and sync_type = ${key.syncType}`;
}
