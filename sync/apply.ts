import type { TransactionSql } from '../db/client.js';
import { applyEntities, recordFailures, softDelete } from '../db/entity-store.js';
import { addRunCounts, failedInRun, type LogEntry, writeLog } from '../db/runs.js';
import type { EntityCounts, SyncType } from '../db/vocabulary.js';
import { shown, stashIdOf } from '../stash/entities/fields.js';
import type { EntitySpec, MappedEntity } from '../stash/entities/spec.js';
import { mapForStorage } from '../stash/entities/storable.js';

export interface MappedBatch {
  mapped: MappedEntity[];
  failures: LogEntry[];
  fetched: number;
}

/**
 * Maps raw GraphQL objects one by one, each checked to be storable exactly as served
 * (stash/entities/storable.ts): a bad entity becomes a `failed` log entry, the rest go on.
 */
export function mapBatch(spec: EntitySpec, raws: unknown[]): MappedBatch {
  const mapped: MappedEntity[] = [];
  const failures: LogEntry[] = [];
  for (const raw of raws) {
    try {
      mapped.push(mapForStorage(spec, raw));
    } catch (error) {
      const servedId = (raw as { id?: unknown } | null)?.id;
      // Only a real id names the entity: Number("1e9") would blame entity 1000000000.
      const entityId = stashIdOf(servedId);
      const message = error instanceof Error ? error.message : String(error);
      failures.push({
        entityType: spec.type,
        entityId,
        changeType: 'failed',
        errorMessage: loggable(entityId === null ? `${message} (served id ${shown(servedId)})` : message),
      });
    }
  }
  return { mapped, failures, fetched: raws.length };
}

/**
 * A failure message as sync_log can keep it: zod's messages may quote served values, which may
 * hold what PostgreSQL refuses (a NUL, a lone surrogate) or be huge; the row must still land.
 */
function loggable(message: string): string {
  const clean = message
    .replaceAll('\u0000', '\\u0000')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return clean.length > 1000 ? `${clean.slice(0, 999)}…` : clean;
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
  const failures = await firstFailuresInRun(tx, runId, spec, batch.failures);
  const outcomes = await applyEntities(tx, spec, batch.mapped);
  const counts: EntityCounts = {
    fetched: batch.fetched,
    created: 0,
    updated: 0,
    unchanged: 0,
    failed: failures.length,
    deleted: 0,
  };
  const log: LogEntry[] = [...failures];
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
    failures,
    batch.mapped.map((entity) => entity.id),
  );
  // Last: every concurrent walk updates the run's row.
  await addRunCounts(tx, runId, spec.type, counts, options.pages ?? 0);
  return counts;
}

/**
 * A bad entity is logged failed once per run, however often the run reads it: a catch-up pass
 * reads what the walk read, an updated_at walk reads a row with a malformed stamp again on its
 * next page (stash/paging.ts), link repair re-reads by id. Failures without a readable id cannot
 * be matched and are kept. One query, only for a batch that has failures.
 */
async function firstFailuresInRun(
  tx: TransactionSql,
  runId: string,
  spec: EntitySpec,
  failures: LogEntry[],
): Promise<LogEntry[]> {
  const ids = failures.flatMap((failure) => (failure.entityId === null ? [] : [failure.entityId]));
  if (ids.length === 0) return failures;
  const already = new Set(await failedInRun(tx, runId, spec.type, ids));
  return failures.filter((failure) => failure.entityId === null || !already.has(failure.entityId));
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
