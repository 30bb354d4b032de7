/**
 * The words of run records, one list each (the CHECK constraints in migrations/ spell the same
 * lists). Pure: workflow code imports it too.
 */

/** What kind of sync a run is: three that walk whole types, and the single-entity re-read. */
export const SYNC_TYPES = ['full', 'incremental', 'smart', 'specific'] as const;
export type SyncType = (typeof SYNC_TYPES)[number];

/** The syncs that walk whole types under the fixed workflow id (all but the single-entity sync). */
export type MainSyncType = Exclude<SyncType, 'specific'>;
export const MAIN_SYNC_TYPES = ['full', 'incremental', 'smart'] as const satisfies readonly MainSyncType[];

export function isMainSyncType(type: SyncType): type is MainSyncType {
  return (MAIN_SYNC_TYPES as readonly SyncType[]).includes(type);
}

export const RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type FinishedRunStatus = Exclude<RunStatus, 'running'>;

/**
 * What a sync_log row says happened to one entity: `created`, `updated` (changed_fields name what),
 * `revived`, `deleted`, `skipped` (fetched, nothing changed: incremental, smart and single-entity
 * syncs log these), `failed` (error_message says why); and `unchanged`, a full sync's run-wide row
 * for a whole type (entity_id NULL).
 */
export const LOGGED_CHANGES = ['created', 'updated', 'unchanged', 'skipped', 'failed', 'deleted', 'revived'] as const;
export type LoggedChange = (typeof LOGGED_CHANGES)[number];

/** The logged changes that changed an entity's mirrored data (row, own links or liveness): sync_log.had_changes. */
export const DATA_CHANGES = ['created', 'updated', 'deleted', 'revived'] as const satisfies readonly LoggedChange[];

/** Per entity type, what a run did: sync_runs.counts and the workflow's progress. */
export interface EntityCounts {
  fetched: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  deleted: number;
}

export const ZERO_COUNTS: EntityCounts = { fetched: 0, created: 0, updated: 0, unchanged: 0, failed: 0, deleted: 0 };

export function addCounts(a: EntityCounts, b: Partial<EntityCounts>): EntityCounts {
  return {
    fetched: a.fetched + (b.fetched ?? 0),
    created: a.created + (b.created ?? 0),
    updated: a.updated + (b.updated ?? 0),
    unchanged: a.unchanged + (b.unchanged ?? 0),
    failed: a.failed + (b.failed ?? 0),
    deleted: a.deleted + (b.deleted ?? 0),
  };
}
