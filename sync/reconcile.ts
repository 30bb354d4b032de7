import { deletedInRun, failedInRun, type SyncType } from '../db/bookkeeping.js';
import { withSyncTransaction } from '../db/client.js';
import { liveIds, ownersLinkingTo } from '../db/entity-store.js';
import { ENTITY_SPECS, specFor } from '../stash/entities/index.js';
import type { EntitySpec } from '../stash/entities/spec.js';
import { ENTITY_TYPES, type EntityType } from '../stash/entity-types.js';
import { fetchByIds, scanIds } from '../stash/paging.js';
import { applyBatch, deleteBatch, mapBatch } from './apply.js';
import type { SyncContext, WorkSignals } from './context.js';

/** Refusing a deletion that looks like a broken scan rather than a real one. Not retryable. */
export class MassDeletionRefusedError extends Error {
  override readonly name = 'MassDeletionRefusedError';
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
  const inStash = new Set(scan.ids);
  const live = await liveIds(context.sql, spec);
  const liveSet = new Set(live);
  const vanished = live.filter((id) => !inStash.has(id));
  const missingFromMirror = scan.ids.filter((id) => !liveSet.has(id));
  // Entities this run could not map are missing on purpose: fetching them again fails again.
  const failed = new Set(await failedInRun(context.sql, runId, entityType, missingFromMirror));
  const lacking = missingFromMirror.filter((id) => !failed.has(id));

  const limit = Math.floor(live.length * context.maxDeleteShare);
  if (vanished.length > 0 && vanished.length > limit && live.length >= 10) {
    throw new MassDeletionRefusedError(
      `refusing to delete ${vanished.length} of ${live.length} ${spec.table} (more than ${Math.round(
        context.maxDeleteShare * 100,
      )}% allowed by SYNC_MAX_DELETE_SHARE); nothing was deleted`,
    );
  }
  if (vanished.length > 0) {
    await withSyncTransaction(context.sql, (tx) => deleteBatch(tx, runId, syncType, spec, vanished));
  }
  const fetched = await fetchAndApply(context, runId, syncType, spec, lacking, signals);
  return { entityType, stashCount: scan.ids.length, mirrorLive: live.length, deleted: vanished.length, fetched };
}

/** Fetches entities by id in pages and applies them; ids Stash no longer has are soft-deleted. */
export async function fetchAndApply(
  context: SyncContext,
  runId: string,
  syncType: SyncType,
  spec: EntitySpec,
  ids: number[],
  signals: WorkSignals,
): Promise<number> {
  let applied = 0;
  for (let start = 0; start < ids.length; start += context.pageSize) {
    const chunk = ids.slice(start, start + context.pageSize);
    const { entities, missing } = await fetchByIds(context.stash, spec, chunk, { signal: signals.signal });
    signals.heartbeat();
    await withSyncTransaction(context.sql, async (tx) => {
      await applyBatch(tx, runId, syncType, spec, mapBatch(spec, entities));
      await deleteBatch(tx, runId, syncType, spec, missing);
    });
    applied += entities.length;
  }
  return applied;
}

/**
 * After deletions and merges, re-reads every live entity whose own links pointed at an entity
 * this run soft-deleted: Stash rewrote those links (a merged tag now points at its destination)
 * without bumping them. Repeats while re-reading reveals further deletions (bounded).
 */
export async function repairLinks(
  context: SyncContext,
  runId: string,
  syncType: SyncType,
  signals: WorkSignals,
): Promise<{ refetched: number; rounds: number }> {
  const specs = ENTITY_TYPES.map((type) => ENTITY_SPECS[type]);
  const handled = new Set<string>();
  let refetched = 0;
  for (let round = 1; round <= 5; round += 1) {
    const deleted = (await deletedInRun(context.sql, runId))
      .map(({ type, ids }) => ({ type, ids: ids.filter((id) => !handled.has(`${type}:${id}`)) }))
      .filter(({ ids }) => ids.length > 0);
    if (deleted.length === 0) return { refetched, rounds: round - 1 };
    for (const { type, ids } of deleted) {
      for (const id of ids) handled.add(`${type}:${id}`);
      for (const owners of await ownersLinkingTo(context.sql, specs, type, ids)) {
        refetched += await fetchAndApply(context, runId, syncType, specFor(owners.type), owners.ids, signals);
      }
    }
  }
  return { refetched, rounds: 5 };
}
