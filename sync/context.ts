import type { Sql } from '../db/client.js';
import type { EntityCounts } from '../db/vocabulary.js';
import type { StashClient } from '../stash/client.js';
import type { EntityType } from '../stash/entity-types.js';

/** What the sync engine needs; built once per worker from the config. */
export interface SyncContext {
  sql: Sql;
  stash: StashClient;
  pageSize: number;
  /** Share of a type's live rows one run may delete before the guard refuses (0..1). */
  maxDeleteShare: number;
  /**
   * How far before a walk's start mark its catch-up pass reads again. Covers a change of the
   * server's UTC offset (daylight saving moves local time by up to an hour) with room to spare.
   */
  catchUpMarginSeconds: number;
  /** Log entities fetched and found unchanged as `skipped` (incremental, smart, single entity). */
  logSkipped: boolean;
  /** Id ranges of scenes, images and galleries walked at once (1: one walk per type). */
  walkConcurrency: number;
  /**
   * Told after each commit that added to a run's counts, with exactly what it added (the worker's
   * metrics count here). After the commit, so a rolled-back or duplicate page is never counted.
   */
  onCommitted?: ((write: CommittedWrite) => void) | undefined;
}

/** What one committed transaction added to a run's counts for one type (sync_runs.counts, progress pages). */
export interface CommittedWrite {
  entityType: EntityType;
  counts: Partial<EntityCounts>;
  /** Pages of a walk it committed (0 for entities read by id). */
  pages: number;
}

/** Lets long work report liveness (Temporal heartbeats) and learn of cancellation. */
export interface WorkSignals {
  heartbeat(details?: unknown): void;
  signal?: AbortSignal | undefined;
}

export const NO_SIGNALS: WorkSignals = { heartbeat: () => {} };
