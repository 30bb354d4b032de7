import { withSyncTransaction } from '../db/client.js';
import type { SyncType } from '../db/vocabulary.js';
import type { EntitySpec } from '../stash/entities/spec.js';
import { fetchByIds } from '../stash/paging.js';
import { applyBatch, deleteBatch, mapBatch } from './apply.js';
import type { SyncContext, WorkSignals } from './context.js';

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
    const counts = await withSyncTransaction(context.sql, async (tx) => {
      const written = await applyBatch(tx, runId, syncType, spec, mapBatch(spec, entities), {
        logSkipped: context.logSkipped,
      });
      return { ...written, deleted: written.deleted + (await deleteBatch(tx, runId, syncType, spec, missing)) };
    });
    context.onCommitted?.({ entityType: spec.type, counts, pages: 0 });
    applied += entities.length;
  }
  return applied;
}
