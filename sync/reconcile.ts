import { withSyncTransaction } from '../db/client.js';
import {
  failingIds,
  type IdRange,
  knownCount,
  liveCount,
  liveIdsIn,
  maxId,
  ownersLinkingTo,
  recordFailures,
} from '../db/entity-store.js';
import { deletedInRun } from '../db/runs.js';
import type { SyncType } from '../db/vocabulary.js';
import { ENTITY_SPECS, specFor } from '../stash/entities/index.js';
import type { EntitySpec } from '../stash/entities/spec.js';
import { ENTITY_TYPES, type EntityType } from '../stash/entity-types.js';
import { countBetween, countEntities, type IdScan, newestId, scanIdRange, scanIds } from '../stash/paging.js';
import { deleteBatch } from './apply.js';
import type { SyncContext, WorkSignals } from './context.js';
import { fetchAndApply } from './fetch-by-id.js';
import { repairGalleryMembership, sweepTagHierarchy } from './silent-changes.js';

/** Refusing a deletion that looks like a broken scan rather than a real one. Not retryable. */
export class MassDeletionRefusedError extends Error {
  override readonly name = 'MassDeletionRefusedError';
  readonly retryable = false;
}

export interface ReconcileResult {
  entityType: EntityType;
  stashCount: number;
  mirrorLive: number;
  deleted: number;
  fetched: number;
}

/**
 * Compares the ids Stash has with the live ids of the mirror: soft-deletes what vanished (after
 * a COMPLETE scan only, and never more than the allowed share of the type) and fetches what the
 * mirror lacks. Deletions and merges never bump updated_at, so ids are the only evidence.
 * The full sync scans every id.
 */
export async function reconcileType(
  context: SyncContext,
  runId: string,
  syncType: SyncType,
  entityType: EntityType,
  signals: WorkSignals,
): Promise<ReconcileResult> {
  const spec = specFor(entityType);
  const scan = await scanIds(context.stash, spec, { signal: signals.signal, onBatch: () => signals.heartbeat() });
  return reconcileAgainst(context, runId, syncType, spec, scan, null, signals);
}

/**
 * The everyday path: only when a cheap exact signal says the id sets differ (Stash's count
 * against the mirror's live + failing count, once the changed rows are applied) are ids
 * compared, and on scenes, images and galleries only in the id ranges whose counts differ.
 */
export async function reconcileIfChanged(
  context: SyncContext,
  runId: string,
  syncType: SyncType,
  entityType: EntityType,
  signals: WorkSignals,
): Promise<ReconcileResult & { scanned: boolean; ranges: number }> {
  const spec = specFor(entityType);
  const stashCount = await countEntities(context.stash, spec, {}, { signal: signals.signal });
  const mirrorKnown = await knownCount(context.sql, spec);
  if (stashCount === mirrorKnown) {
    return { entityType, stashCount, mirrorLive: mirrorKnown, deleted: 0, fetched: 0, scanned: false, ranges: 0 };
  }
  if (spec.paging !== 'id') {
    const scan = await scanIds(context.stash, spec, { signal: signals.signal });
    const result = await reconcileAgainst(context, runId, syncType, spec, scan, null, signals);
    return { ...result, scanned: true, ranges: 1 };
  }
  const ranges = await differingRanges(context, spec, signals);
  // Counts may cancel out inside every range (a deletion and a revival): fall back to all ids.
  const scopes: IdRange[] | null = ranges.length > 0 ? ranges : null;
  const scan: IdScan = { ids: [], unreadable: 0 };
  const scans =
    scopes === null
      ? [await scanIds(context.stash, spec, { signal: signals.signal })]
      : await sequentially(scopes, ([low, high]) =>
          scanIdRange(context.stash, spec, low, high, { signal: signals.signal }),
        );
  for (const part of scans) {
    scan.ids.push(...part.ids);
    scan.unreadable += part.unreadable;
  }
  const result = await reconcileAgainst(context, runId, syncType, spec, scan, scopes, signals);
  return { ...result, scanned: true, ranges: scopes?.length ?? 1 };
}

/** Id ranges small enough to scan whose Stash count differs from the mirror's known count. */
async function differingRanges(context: SyncContext, spec: EntitySpec, signals: WorkSignals): Promise<IdRange[]> {
  const leafSize = 2_000;
  const top = Math.max(await maxId(context.sql, spec), await newestId(context.stash, spec, { signal: signals.signal }));
  const result: IdRange[] = [];
  const visit = async (low: number, high: number): Promise<void> => {
    const [inStash, inMirror] = await Promise.all([
      countBetween(context.stash, spec, 'id', low, high, { signal: signals.signal }),
      knownCount(context.sql, spec, [low, high]),
    ]);
    signals.heartbeat();
    if (inStash === inMirror) return;
    if (high - low < leafSize || inStash + inMirror <= leafSize) {
      result.push([low, high]);
      return;
    }
    const middle = Math.floor((low + high) / 2);
    await visit(low, middle);
    await visit(middle + 1, high);
  };
  await visit(1, Math.max(top, 1));
  return result;
}

async function reconcileAgainst(
  context: SyncContext,
  runId: string,
  syncType: SyncType,
  spec: EntitySpec,
  scan: IdScan,
  ranges: IdRange[] | null,
  signals: WorkSignals,
): Promise<ReconcileResult> {
  const stashIds = scan.ids;
  const inStash = new Set(stashIds);
  const live = await liveIdsIn(context.sql, spec, ranges);
  const liveSet = new Set(live);
  // Stash served an id that is not one (its entity is logged failed): that row may be any live
  // entity of the mirror, so none is proven vanished by this scan. A scan is evidence only whole.
  const vanished = scan.unreadable > 0 ? [] : live.filter((id) => !inStash.has(id));
  const missingFromMirror = stashIds.filter((id) => !liveSet.has(id));
  // Entities that fail to map are missing on purpose: fetching them again fails again.
  const failing = new Set(await failingIds(context.sql, spec));
  const lacking = missingFromMirror.filter((id) => !failing.has(id));

  const totalLive = ranges === null ? live.length : await liveCount(context.sql, spec);
  const limit = Math.floor(totalLive * context.maxDeleteShare);
  if (vanished.length > 0 && vanished.length > limit && totalLive >= 10) {
    throw new MassDeletionRefusedError(
      `refusing to delete ${vanished.length} of ${totalLive} ${spec.table} (more than ${Math.round(
        context.maxDeleteShare * 100,
      )}% allowed by SYNC_MAX_DELETE_SHARE); nothing was deleted`,
    );
  }
  // A failing entity Stash no longer has is no longer known to the mirror either.
  const inScope = (id: number) => ranges === null || ranges.some(([low, high]) => id >= low && id <= high);
  const goneFailures = scan.unreadable > 0 ? [] : [...failing].filter((id) => inScope(id) && !inStash.has(id));
  if (vanished.length > 0 || goneFailures.length > 0) {
    const deleted = await withSyncTransaction(context.sql, async (tx) => {
      const count = await deleteBatch(tx, runId, syncType, spec, vanished);
      await recordFailures(tx, runId, spec.type, [], goneFailures);
      return count;
    });
    context.onCommitted?.({ entityType: spec.type, counts: { deleted }, pages: 0 });
  }
  const fetched = await fetchAndApply(context, runId, syncType, spec, lacking, signals);
  return {
    entityType: spec.type,
    stashCount: stashIds.length,
    mirrorLive: live.length,
    deleted: vanished.length,
    fetched,
  };
}

/**
 * After deletions and merges, re-reads every live entity whose own links pointed at an entity
 * this run soft-deleted: Stash rewrote those links (a merged tag now points at its destination)
 * without bumping them. Repeats while re-reading reveals further deletions (bounded). Then the
 * changes Stash makes without bumping anyone (silent-changes.ts): gallery membership changed from
 * the gallery's side, and a tag merge's destination.
 */
export async function repairLinks(
  context: SyncContext,
  runId: string,
  syncType: SyncType,
  signals: WorkSignals,
): Promise<{ refetched: number; rounds: number }> {
  let refetched = await repairGalleryMembership(context, runId, syncType, signals);
  const rounds = await repairDeletedTargets(context, runId, syncType, signals, (count) => {
    refetched += count;
  });
  refetched += await sweepTagHierarchy(context, runId, syncType, signals);
  return { refetched, rounds };
}

async function repairDeletedTargets(
  context: SyncContext,
  runId: string,
  syncType: SyncType,
  signals: WorkSignals,
  onRefetched: (count: number) => void,
): Promise<number> {
  const specs = ENTITY_TYPES.map((type) => ENTITY_SPECS[type]);
  const handled = new Set<string>();
  for (let round = 1; round <= 5; round += 1) {
    const deleted = (await deletedInRun(context.sql, runId))
      .map(({ type, ids }) => ({ type, ids: ids.filter((id) => !handled.has(`${type}:${id}`)) }))
      .filter(({ ids }) => ids.length > 0);
    if (deleted.length === 0) return round - 1;
    for (const { type, ids } of deleted) {
      for (const id of ids) handled.add(`${type}:${id}`);
      for (const owners of await ownersLinkingTo(context.sql, specs, type, ids)) {
        onRefetched(await fetchAndApply(context, runId, syncType, specFor(owners.type), owners.ids, signals));
      }
    }
  }
  return 5;
}

/**
 * The everyday deletion check and its repair in one call (incremental, smart): every type's
 * count signal at once, then link repair. A no-op costs one count query per type.
 */
export async function reconcileAndRepair(
  context: SyncContext,
  runId: string,
  syncType: SyncType,
  entityTypes: EntityType[],
  signals: WorkSignals,
): Promise<{ deleted: Partial<Record<EntityType, number>>; refetched: number }> {
  const results = await Promise.all(
    entityTypes.map((type) => reconcileIfChanged(context, runId, syncType, type, signals)),
  );
  const repaired = await repairLinks(context, runId, syncType, signals);
  return {
    deleted: Object.fromEntries(results.map((result) => [result.entityType, result.deleted])),
    refetched: repaired.refetched + results.reduce((sum, result) => sum + result.fetched, 0),
  };
}

/** One call after another (each scan is a Stash request; no burst of them). */
async function sequentially<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await work(item));
  return results;
}
