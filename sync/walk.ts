import { withSyncTransaction } from '../db/client.js';
import { advanceWalk, readWalk, type WalkKey, type WalkRow } from '../db/sync-walks.js';
import { addCounts, type EntityCounts, ZERO_COUNTS } from '../db/vocabulary.js';
import { specFor } from '../stash/entities/index.js';
import { type FetchedPage, fetchPage } from '../stash/paging.js';
import { mapBatch } from './apply.js';
import type { SyncContext, WorkSignals } from './context.js';
import { applyPage, newestStamp } from './type-sync.js';

/** How much of a walk one call reads before it hands back (the workflow then calls again). */
export interface WalkBudget {
  /** Stop starting pages after this long (ms); the page in hand is finished. */
  ms: number;
}

export interface WalkResult {
  done: boolean;
  /** Pages this call committed, and their counts (progress for the workflow). */
  pages: number;
  counts: EntityCounts;
}

/**
 * Reads one walk of a type's sync page after page until it is done or the budget is spent. Each
 * page commits in its own transaction with the walk's advanced cursor (the database is the
 * checkpoint), so a retried call continues from the last committed page. While a page is written,
 * the next one is already being fetched: Stash and PostgreSQL work at the same time.
 *
 * A page is applied only if the walk's committed sequence is still the one it was fetched after:
 * a duplicate delivery of this activity (a worker that was thought dead) cannot apply a page twice;
 * it stops and leaves the walk to whichever call is ahead.
 */
export async function walkPages(
  context: SyncContext,
  key: WalkKey & { runId: string },
  signals: WorkSignals,
  budget: WalkBudget,
): Promise<WalkResult> {
  const result: WalkResult = { done: false, pages: 0, counts: ZERO_COUNTS };
  let walk = await readWalk(context.sql, key);
  if (!walk) throw new Error(`no walk ${key.walk} of the ${key.phase} of ${key.syncType} ${key.entityType}`);
  if (walk.done) return { ...result, done: true };
  const spec = specFor(key.entityType);
  const deadline = Date.now() + budget.ms;
  const fetch = (from: WalkRow) => {
    const page = fetchPage(context.stash, spec, from.cursor, context.pageSize, { signal: signals.signal });
    // A prefetch may fail (cancelled, Stash down) while this call is still writing the page before
    // it and nobody awaits it yet: marked handled now, its failure still reaches the await below.
    page.catch(() => {});
    return page;
  };
  let pending: Promise<FetchedPage> | null = fetch(walk);
  while (pending) {
    const fetched: FetchedPage = await pending;
    // Cancelled (the signal is aborted when the heartbeat learns of it): stop between pages, with
    // every committed page kept and nothing half-written.
    if (signals.signal?.aborted) throw signals.signal.reason;
    pending = null;
    const expectedSeq = walk.seq;
    const nextWalk: WalkRow = { ...walk, cursor: fetched.next };
    // Fetch the next page while this one is written (its cursor is known already).
    if (!fetched.done && Date.now() < deadline) pending = fetch(nextWalk);
    const batch = mapBatch(spec, fetched.entities);
    const committed = await withSyncTransaction(context.sql, async (tx) => {
      const current = await readWalk(tx, key, true);
      if (!current || current.seq !== expectedSeq || current.done) return null;
      const page = await applyPage(
        tx,
        context,
        { runId: key.runId, syncType: key.syncType, phase: key.phase },
        spec,
        batch,
      );
      const advanced = await advanceWalk(tx, current, {
        cursor: fetched.next,
        done: fetched.done,
        newestSeen: newestStamp(fetched.entities, current.newestSeen),
        page,
      });
      return { advanced, page };
    });
    if (!committed) {
      // Another call of this walk is ahead (or finished it): stop, discarding the prefetch.
      const current = await readWalk(context.sql, key);
      return { ...result, done: current?.done ?? true };
    }
    walk = committed.advanced;
    context.onCommitted?.({ entityType: key.entityType, counts: committed.page, pages: 1 });
    result.pages += 1;
    result.counts = addCounts(result.counts, committed.page);
    signals.heartbeat({ walk: key.walk, seq: walk.seq });
  }
  return { ...result, done: walk.done };
}
