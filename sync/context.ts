import type { Sql } from '../db/client.js';
import type { StashClient } from '../stash/client.js';

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
}

/** Lets long work report liveness (Temporal heartbeats) and learn of cancellation. */
export interface WorkSignals {
  heartbeat(details?: unknown): void;
  signal?: AbortSignal | undefined;
}

export const NO_SIGNALS: WorkSignals = { heartbeat: () => {} };
