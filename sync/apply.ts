import type { TransactionSql } from '../db/client.js';
import { applyEntities, recordFailures, softDelete } from '../db/entity-store.js';
import { addRunCounts, type LogEntry, writeLog } from '../db/runs.js';
import type { EntityCounts, SyncType } from '../db/vocabulary.js';
import type { EntitySpec, MappedEntity } from '../stash/entities/spec.js';

export interface MappedBatch {
  mapped: MappedEntity[];
  failures: LogEntry[];
  fetched: number;
}

/** Maps raw GraphQL objects one by one: a bad entity becomes a `failed` log entry, the rest go on. */
export function mapBatch(spec: EntitySpec, raws: unknown[]): MappedBatch {
  const mapped: MappedEntity[] = [];
  const failures: LogEntry[] = [];
  for (const raw of raws) {
    try {
      mapped.push(spec.map(raw));
    } catch (error) {
      const id = Number((raw as { id?: unknown } | null)?.id);
      failures.push({
        entityType: spec.type,
        entityId: Number.isFinite(id) ? id : null,
        changeType: 'failed',
        errorMessage: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { mapped, failures, fetched: raws.length };
}

/**
 * Writes a mapped batch inside the caller's sync transaction: rows, links, the run's counts and
 * its sync_log rows, in bulk: everything that changed or failed, and, outside full syncs, every
 * entity fetched and found unchanged (`skipped`): an entity's history shows each incremental,
 * smart or single-entity sync that looked at it. A full sync covers every entity of a type; it
 * logs changes per entity and one run-wide row per type (type-sync.ts finishTypeSync).
 */
export async function applyBatch(
  tx: TransactionSql,
  runId: string,
  syncType: SyncType,
  spec: EntitySpec,
  batch: MappedBatch,
  options: { logSkipped?: boolean; pages?: number } = {},
): Promise<EntityCounts> {
  const logSkipped = options.logSkipped ?? true;
  const outcomes = await applyEntities(tx, spec, batch.mapped);
  const counts: EntityCounts = {
    fetched: batch.fetched,
    created: 0,
    updated: 0,
    unchanged: 0,
    failed: batch.failures.length,
    deleted: 0,
  };
  const log: LogEntry[] = [...batch.failures];
  for (const outcome of outcomes) {
    if (outcome.change === 'unchanged' || outcome.change === 'touched') {
      counts.unchanged += 1;
      if (logSkipped && syncType !== 'full') {
        log.push({ entityType: spec.type, entityId: outcome.id, changeType: 'skipped' });
      }
      continue;
    }
    if (outcome.change === 'created') counts.created += 1;
    else counts.updated += 1;
    log.push({
      entityType: spec.type,
      entityId: outcome.id,
      changeType: outcome.change,
      changedFields: outcome.change === 'created' ? null : outcome.changedFields,
    });
  }
  await writeLog(tx, runId, syncType, log);
  await recordFailures(
    tx,
    runId,
    spec.type,
    batch.failures,
    batch.mapped.map((entity) => entity.id),
  );
  // Last: every concurrent walk updates the run's row.
  await addRunCounts(tx, runId, spec.type, counts, options.pages ?? 0);
  return counts;
}

/**
 * Soft-deletes vanished entities (their own link rows go with them), logging each with the links
 * it had (details.links, and changed_fields naming those links, so post-processing recounts what
 * they contributed to) and counting them in the run.
 */
export async function deleteBatch(
  tx: TransactionSql,
  runId: string,
  syncType: SyncType,
  spec: EntitySpec,
  ids: number[],
): Promise<number> {
  const deleted = await softDelete(tx, spec, ids);
  await writeLog(
    tx,
    runId,
    syncType,
    deleted.map(({ id, links }) => ({
      entityType: spec.type,
      entityId: id,
      changeType: 'deleted' as const,
      changedFields: Object.keys(links),
      details: Object.keys(links).length > 0 ? { links } : null,
    })),
  );
  if (deleted.length > 0) await addRunCounts(tx, runId, spec.type, { deleted: deleted.length });
  await recordFailures(tx, runId, spec.type, [], ids);
  return deleted.length;
}
