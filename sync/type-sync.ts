import { type TransactionSql, withSyncTransaction } from '../db/client.js';
import { analyzeEntityTables } from '../db/entity-store.js';
import { writeLog } from '../db/runs.js';
import { completeTypeSync, readResumeCursor, writeResumeCursor } from '../db/sync-state.js';
import { adoptWalks, createWalks, dropWalks, readWalks } from '../db/sync-walks.js';
import { addCounts, type EntityCounts, type SyncType, ZERO_COUNTS } from '../db/vocabulary.js';
import { idRanges, initialCursor, type PageCursor } from '../stash/cursor.js';
import { type EntitySpec, specFor } from '../stash/entities/index.js';
import type { EntityType } from '../stash/entity-types.js';
import { fetchPage, newestId, newestUpdatedAt } from '../stash/paging.js';
import { lexicalLowerBound, lexicalMax, parseStashTime } from '../stash/timestamps.js';
import { applyBatch, type MappedBatch, mapBatch } from './apply.js';
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
  /**
   * How many walks (sync_walks rows) read the current phase: id ranges of scenes, images and
   * galleries walked at once. Absent in states written before walks existed (one page per
   * activity, `cursor` and `seq` above): syncPage still serves those.
   */
  walks?: number;
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
    // Counts restart with the new run; the cursors and pages carry on.
    return withSyncTransaction(context.sql, async (tx) => {
      await adoptWalks(tx, input, input.runId);
      const resumed: TypeSyncState = {
        ...existing,
        runId: input.runId,
        counts: ZERO_COUNTS,
        walks: await walksOf(tx, existing),
      };
      await writeResumeCursor(tx, input.entityType, input.syncType, resumed);
      return resumed;
    });
  }
  const spec = specFor(input.entityType);
  let catchUpSince: string | null = null;
  if (input.catchUp) {
    const startMark = await newestUpdatedAt(context.stash, spec, { signal: signals.signal });
    catchUpSince = startMark ? lexicalLowerBound(startMark, context.catchUpMarginSeconds) : null;
  }
  const cursor = initialCursor(spec.paging, input.since);
  const cursors =
    spec.paging === 'id' && context.walkConcurrency > 1
      ? idRanges(await newestId(context.stash, spec, { signal: signals.signal }), context.walkConcurrency).map(
          (range) => ({ ...cursor, ...range }),
        )
      : [cursor];
  const state: TypeSyncState = {
    runId: input.runId,
    syncType: input.syncType,
    entityType: input.entityType,
    phase: 'walk',
    cursor,
    seq: 0,
    catchUpSince,
    catchUp: input.catchUp,
    newestSeen: null,
    pages: 0,
    counts: ZERO_COUNTS,
    startedAt: Date.now(),
    walks: cursors.length,
  };
  await withSyncTransaction(context.sql, async (tx) => {
    await createWalks(tx, { ...input, phase: 'walk' }, input.runId, cursors);
    await writeResumeCursor(tx, input.entityType, input.syncType, state);
  });
  return state;
}

/**
 * The walks of a state's current phase; a state from before walks existed gets one walk that
 * continues its single cursor.
 */
async function walksOf(tx: TransactionSql, state: TypeSyncState): Promise<number> {
  if (state.phase === 'done') return 0;
  const key = { entityType: state.entityType, syncType: state.syncType, phase: state.phase };
  const walks = await readWalks(tx, key);
  if (walks.length > 0) return walks.length;
  await createWalks(tx, key, state.runId, [state.cursor]);
  return 1;
}

/**
 * Ends a phase once all its walks are done: the type's counts, pages and newest stamp gather the
 * walks', and the type moves on to its catch-up walk (full sync), or finishes (finishTypeSync's
 * work, in the same transaction).
 */
export async function completeWalkPhase(
  context: SyncContext,
  input: { runId: string; syncType: SyncType; entityType: EntityType },
): Promise<TypeSyncState> {
  const next = await withSyncTransaction(context.sql, async (tx) => {
    const state = await readResumeCursor<TypeSyncState>(tx, input.entityType, input.syncType, true);
    if (!state || state.runId !== input.runId) {
      throw new Error(`no ${input.syncType} sync of ${input.entityType} in run ${input.runId}`);
    }
    if (state.phase === 'done') return state;
    const walks = await readWalks(tx, { ...input, phase: state.phase });
    if (walks.some((walk) => !walk.done)) return state;
    const gathered: TypeSyncState = {
      ...state,
      counts: walks.reduce((counts, walk) => addCounts(counts, walk.counts), state.counts),
      pages: walks.reduce((pages, walk) => pages + walk.pages, state.pages),
      newestSeen: walks.reduce((newest, walk) => lexicalMax(newest, walk.newestSeen), state.newestSeen),
    };
    if (state.phase === 'walk' && state.catchUp) {
      const cursor = initialCursor(specFor(state.entityType).paging, state.catchUpSince);
      await createWalks(tx, { ...input, phase: 'catchup' }, state.runId, [cursor]);
      const catchingUp: TypeSyncState = { ...gathered, phase: 'catchup', cursor, walks: 1 };
      await writeResumeCursor(tx, input.entityType, input.syncType, catchingUp);
      return catchingUp;
    }
    const done: TypeSyncState = { ...gathered, phase: 'done', walks: 0 };
    await finishInTransaction(tx, done);
    return done;
  });
  if (next.phase === 'done') await analyzeAfterBulkWrites(context, next);
  return next;
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

  const newest = newestStamp(fetched.entities, state.newestSeen);
  const batch = mapBatch(spec, fetched.entities);

  const next = advance(state, fetched.next, fetched.done);
  const result = await withSyncTransaction(context.sql, async (tx): Promise<PageResult & { applied: boolean }> => {
    const current = await readResumeCursor<TypeSyncState>(tx, state.entityType, state.syncType, true);
    if (current && current.runId === state.runId && current.seq > state.seq)
      return { state: current, page: ZERO_COUNTS, applied: false };

    const page = await applyPage(tx, context, state, spec, batch);
    const nextState: TypeSyncState = {
      ...next,
      seq: state.seq + 1,
      pages: state.pages + 1,
      newestSeen: newest,
      counts: addCounts(state.counts, page),
    };
    await writeResumeCursor(tx, spec.type, state.syncType, nextState);
    return { state: nextState, page, applied: true };
  });
  // `applied` stays here: the activity's result (a workflow payload) keeps its shape.
  const { applied, ...pageResult } = result;
  if (applied) context.onCommitted?.({ entityType: spec.type, counts: pageResult.page, pages: 1 });
  return pageResult;
}

/** The lexically newest real timestamp among raw entities (a corrupt one would sort anywhere). */
export function newestStamp(entities: unknown[], previous: string | null): string | null {
  let newest = previous;
  for (const raw of entities) {
    const rawUpdated = (raw as { updated_at?: unknown } | null)?.updated_at;
    if (typeof rawUpdated === 'string' && parseStashTime(rawUpdated)) newest = lexicalMax(newest, rawUpdated);
  }
  return newest;
}

/** Writes one mapped page in the caller's transaction (applyBatch), counted as one page of the run. */
export async function applyPage(
  tx: TransactionSql,
  context: SyncContext,
  run: { runId: string; syncType: SyncType; phase: 'walk' | 'catchup' | 'done' },
  spec: EntitySpec,
  batch: MappedBatch,
): Promise<EntityCounts> {
  return applyBatch(tx, run.runId, run.syncType, spec, batch, { logSkipped: context.logSkipped, pages: 1 });
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
  await analyzeAfterBulkWrites(context, state);
  await withSyncTransaction(context.sql, (tx) => finishInTransaction(tx, state));
}

async function finishInTransaction(tx: TransactionSql, state: TypeSyncState): Promise<void> {
  await completeTypeSync(tx, state.entityType, state.syncType, state.newestSeen, new Date(state.startedAt));
  await dropWalks(tx, state);
  if (state.syncType === 'full') {
    // One run-wide row per type: a scene's history shows the full syncs that covered it
    // without a row per unchanged entity.
    await writeLog(tx, state.runId, state.syncType, [
      { entityType: state.entityType, entityId: null, changeType: 'unchanged', details: { ...state.counts } },
    ]);
  }
}

/**
 * Fresh planner statistics after a bulk load: until autovacuum gets there, a table just filled
 * looks empty, and joins through it (the API's reads, post-processing) pick nested loops.
 */
async function analyzeAfterBulkWrites(context: SyncContext, state: TypeSyncState): Promise<void> {
  const written = state.counts.created + state.counts.updated;
  if (written >= ANALYZE_AFTER_WRITES) await analyzeEntityTables(context.sql, specFor(state.entityType));
}

/** Rows a type's sync must write before it refreshes that type's planner statistics itself. */
const ANALYZE_AFTER_WRITES = 1000;
