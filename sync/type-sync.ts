import { withSyncTransaction } from '../db/client.js';
import { analyzeEntityTables } from '../db/entity-store.js';
import { failedInRun, mergeRunProgress, writeLog } from '../db/runs.js';
import { completeTypeSync, readResumeCursor, writeResumeCursor } from '../db/sync-state.js';
import { addCounts, type EntityCounts, type SyncType, ZERO_COUNTS } from '../db/vocabulary.js';
import { initialCursor, type PageCursor } from '../stash/cursor.js';
import { specFor } from '../stash/entities/index.js';
import type { EntityType } from '../stash/entity-types.js';
import { fetchPage, newestUpdatedAt } from '../stash/paging.js';
import { lexicalLowerBound, lexicalMax, parseStashTime } from '../stash/timestamps.js';
import { applyBatch, mapBatch } from './apply.js';
import type { SyncContext, WorkSignals } from './context.js';

/**
 * The durable state of one entity type's sync, kept in sync_state.resume_cursor (per sync type). A type is
 * walked in phases: `walk` (everything, or everything since a bound) then, for full syncs,
 * `catchup` (rows changed while the walk ran, from just before its start mark), then `done`.
 * `seq` counts committed pages: a page whose seq is already committed is not applied twice.
 */
export interface TypeSyncState {
  runId: string;
  syncType: SyncType;
  entityType: EntityType;
  phase: 'walk' | 'catchup' | 'done';
  cursor: PageCursor;
  seq: number;
  /** Lexical lower bound for the catch-up pass (null: no catch-up, or read everything). */
  catchUpSince: string | null;
  catchUp: boolean;
  /** Lexically newest updated_at seen: becomes the type's high-water mark. */
  newestSeen: string | null;
  pages: number;
  counts: EntityCounts;
  /** Worker clock (ms) when this type's sync began: a conservative "read at" for its newest second. */
  startedAt: number;
}

export interface PrepareInput {
  runId: string;
  syncType: SyncType;
  entityType: EntityType;
  /** Only rows updated at or after this Stash-format bound (incremental); null = all. */
  since: string | null;
  /** Read the rows changed during the walk again afterwards (full sync). */
  catchUp: boolean;
}

/**
 * Starts a type's sync, or resumes the interrupted one of the same sync type where it stopped.
 * Returns the state the workflow keeps (small: a cursor and counts).
 */
export async function prepareTypeSync(
  context: SyncContext,
  input: PrepareInput,
  signals: WorkSignals,
): Promise<TypeSyncState> {
  const existing = await readResumeCursor<TypeSyncState>(context.sql, input.entityType, input.syncType);
  if (existing && existing.syncType === input.syncType && existing.phase !== 'done' && sameScope(existing, input)) {
    // Counts restart with the new run; the cursor and pages carry on.
    const resumed: TypeSyncState = { ...existing, runId: input.runId, counts: ZERO_COUNTS };
    await withSyncTransaction(context.sql, (tx) => writeResumeCursor(tx, input.entityType, input.syncType, resumed));
    return resumed;
  }
  const spec = specFor(input.entityType);
  let catchUpSince: string | null = null;
  if (input.catchUp) {
    const startMark = await newestUpdatedAt(context.stash, spec, { signal: signals.signal });
    catchUpSince = startMark ? lexicalLowerBound(startMark, context.catchUpMarginSeconds) : null;
  }
  const state: TypeSyncState = {
    runId: input.runId,
    syncType: input.syncType,
    entityType: input.entityType,
    phase: 'walk',
    cursor: initialCursor(spec.paging, input.since),
    seq: 0,
    catchUpSince,
    catchUp: input.catchUp,
    newestSeen: null,
    pages: 0,
    counts: ZERO_COUNTS,
    startedAt: Date.now(),
  };
  await withSyncTransaction(context.sql, (tx) => writeResumeCursor(tx, input.entityType, input.syncType, state));
  return state;
}

function sameScope(existing: TypeSyncState, input: PrepareInput): boolean {
  return existing.catchUp === input.catchUp && (existing.phase !== 'walk' || existing.cursor.since === input.since);
}

export interface PageResult {
  state: TypeSyncState;
  page: EntityCounts;
}

/**
 * One page: fetch from Stash, map, and in ONE transaction upsert rows, replace links, write the
 * log, add the run's counts and advance the cursor. A page already committed (a retry after a
 * lost response, or a second worker) is recognised by its seq and not applied again.
 */
export async function syncPage(context: SyncContext, state: TypeSyncState, signals: WorkSignals): Promise<PageResult> {
  const committed = await readResumeCursor<TypeSyncState>(context.sql, state.entityType, state.syncType);
  if (committed && committed.runId === state.runId && committed.seq > state.seq) {
    return { state: committed, page: ZERO_COUNTS };
  }
  const spec = specFor(state.entityType);
  const fetched = await fetchPage(context.stash, spec, state.cursor, context.pageSize, { signal: signals.signal });
  signals.heartbeat({ seq: state.seq });

  let newest = state.newestSeen;
  for (const raw of fetched.entities) {
    const rawUpdated = (raw as { updated_at?: unknown } | null)?.updated_at;
    // Only real timestamps may become the high-water mark (a corrupt one would sort anywhere).
    if (typeof rawUpdated === 'string' && parseStashTime(rawUpdated)) newest = lexicalMax(newest, rawUpdated);
  }
  const batch = mapBatch(spec, fetched.entities);

  const next = advance(state, fetched.next, fetched.done);
  return withSyncTransaction(context.sql, async (tx) => {
    const current = await readResumeCursor<TypeSyncState>(tx, state.entityType, state.syncType, true);
    if (current && current.runId === state.runId && current.seq > state.seq)
      return { state: current, page: ZERO_COUNTS };

    // A catch-up pass may read a bad entity the walk already logged: one failure per run.
    const failedIds = batch.failures.flatMap((failure) => (failure.entityId === null ? [] : [failure.entityId]));
    if (state.phase === 'catchup' && failedIds.length > 0) {
      const already = new Set(await failedInRun(tx, state.runId, spec.type, failedIds));
      batch.failures = batch.failures.filter((failure) => failure.entityId === null || !already.has(failure.entityId));
    }
    const page = await applyBatch(tx, state.runId, state.syncType, spec, batch, context.logSkipped);
    const nextState: TypeSyncState = {
      ...next,
      seq: state.seq + 1,
      pages: state.pages + 1,
      newestSeen: newest,
      counts: addCounts(state.counts, page),
    };
    await writeResumeCursor(tx, spec.type, state.syncType, nextState);
    await mergeRunProgress(tx, state.runId, {
      phase: 'syncing',
      entityType: spec.type,
      [`pages:${spec.type}`]: nextState.pages,
      updatedAt: new Date().toISOString(),
    });
    return { state: nextState, page };
  });
}

function advance(state: TypeSyncState, cursor: PageCursor, walkDone: boolean): TypeSyncState {
  if (!walkDone) return { ...state, cursor };
  if (state.phase === 'walk' && state.catchUp) {
    return { ...state, phase: 'catchup', cursor: initialCursor(cursor.kind, state.catchUpSince) };
  }
  return { ...state, phase: 'done', cursor };
}

/** Ends a type's sync: clears its resume cursor and advances its high-water mark. */
export async function finishTypeSync(context: SyncContext, state: TypeSyncState): Promise<void> {
  // Fresh planner statistics after a bulk load: until autovacuum gets there, a table just filled
  // looks empty, and joins through it (the API's reads, post-processing) pick nested loops.
  const written = state.counts.created + state.counts.updated;
  if (written >= ANALYZE_AFTER_WRITES) await analyzeEntityTables(context.sql, specFor(state.entityType));
  await withSyncTransaction(context.sql, async (tx) => {
    await completeTypeSync(tx, state.entityType, state.syncType, state.newestSeen, new Date(state.startedAt));
    if (state.syncType === 'full') {
      // One run-wide row per type: a scene's history shows the full syncs that covered it
      // without a row per unchanged entity.
      await writeLog(tx, state.runId, state.syncType, [
        { entityType: state.entityType, entityId: null, changeType: 'unchanged', details: { ...state.counts } },
      ]);
    }
  });
}

/** Rows a type's sync must write before it refreshes that type's planner statistics itself. */
const ANALYZE_AFTER_WRITES = 1000;
