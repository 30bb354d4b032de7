import { runUiUrl } from '../temporal/run-identity.js';
import type { RunRow } from './runs.js';
import type { RunStatus, SyncType } from './vocabulary.js';

/** sync_runs.counts as numbers: per entity type, per outcome (fetched, created, ...). */
export type RunCounts = Record<string, Record<string, number>>;

/** A sync_runs row as the API and the CLI show it (the API adds its links). */
export interface RunJson {
  id: string;
  workflowId: string;
  temporalRunId: string;
  type: SyncType;
  trigger: string;
  status: RunStatus;
  startedAt: string;
  completedAt: string | null;
  durationSeconds: number | null;
  counts: RunCounts;
  totals: Record<string, number>;
  progress: Record<string, unknown>;
  error: string | null;
  temporalUiUrl: string | null;
}

/** Where the Temporal Web UI is (null: none), for a run's link into it. */
export interface TemporalUiLink {
  uiUrl: string | null;
  namespace: string;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** sync_runs.counts as numbers per type and outcome; anything else (not an object, not a number) dropped. */
export function runCountsOf(value: unknown): RunCounts {
  if (!isRecord(value)) return {};
  const counts: RunCounts = {};
  for (const [type, entry] of Object.entries(value)) {
    if (!entry || typeof entry !== 'object') continue;
    const numbers: Record<string, number> = {};
    for (const [key, count] of Object.entries(entry as Record<string, unknown>)) {
      const parsed = Number(count);
      if (Number.isFinite(parsed)) numbers[key] = parsed;
    }
    counts[type] = numbers;
  }
  return counts;
}

/** Every outcome added up over the types. */
export function sumRunCounts(counts: Record<string, Partial<Record<string, number>>>): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const entry of Object.values(counts)) {
    for (const [key, count] of Object.entries(entry)) totals[key] = (totals[key] ?? 0) + (count ?? 0);
  }
  return totals;
}

export function runJsonOf(row: RunRow, ui: TemporalUiLink): RunJson {
  const startedAt = row.started_at;
  const completedAt = row.completed_at ?? null;
  const counts = runCountsOf(row.counts);
  return {
    id: row.id,
    workflowId: row.workflow_id,
    temporalRunId: row.temporal_run_id,
    type: row.sync_type,
    trigger: row.trigger,
    status: row.status,
    startedAt: startedAt.toISOString(),
    completedAt: completedAt ? completedAt.toISOString() : null,
    durationSeconds: completedAt ? Math.round((completedAt.getTime() - startedAt.getTime()) / 100) / 10 : null,
    counts,
    totals: sumRunCounts(counts),
    progress: isRecord(row.progress) ? row.progress : {},
    error: row.error ?? null,
    temporalUiUrl: runUiUrl(ui.uiUrl, ui.namespace, row.workflow_id, row.temporal_run_id),
  };
}
