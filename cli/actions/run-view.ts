/**
 * What the CLI shows of runs (pure): a sync_runs row as JSON (the API's field names), and a run's
 * progress, from the workflow's progress query or from the durable copy in sync_runs.
 */
import type { RunRow } from '../../db/runs.js';
import { type EntityCounts, ZERO_COUNTS } from '../../db/vocabulary.js';
import { ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import { runUiUrl } from '../../temporal/run-identity.js';
import type { SyncProgress } from '../../workflows/progress.js';

type Counts = Record<string, Partial<EntityCounts>>;

export interface RunView {
  id: string;
  workflowId: string;
  temporalRunId: string;
  type: string;
  trigger: string;
  status: string;
  startedAt: string;
  completedAt: string | null;
  durationSeconds: number | null;
  counts: Counts;
  totals: Partial<EntityCounts>;
  progress: Record<string, unknown>;
  error: string | null;
  temporalUiUrl: string | null;
}

export interface UiLink {
  uiUrl: string | null;
  namespace: string;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** sync_runs.counts as numbers per type and outcome (anything else dropped). */
function countsOf(value: unknown): Counts {
  return Object.fromEntries(
    Object.entries(record(value)).map(([type, outcomes]) => [
      type,
      Object.fromEntries(
        Object.entries(record(outcomes))
          .map(([outcome, n]) => [outcome, Number(n)] as const)
          .filter(([, n]) => Number.isFinite(n)),
      ),
    ]),
  );
}

/** Every outcome added up over the types. */
export function sumCounts(counts: Counts): Partial<EntityCounts> {
  const totals: Record<string, number> = {};
  for (const outcomes of Object.values(counts)) {
    for (const [outcome, n] of Object.entries(outcomes)) totals[outcome] = (totals[outcome] ?? 0) + (n ?? 0);
  }
  return totals;
}

export function toRunView(row: RunRow, link: UiLink): RunView {
  const counts = countsOf(row.counts);
  const completed = row.completed_at;
  return {
    id: row.id,
    workflowId: row.workflow_id,
    temporalRunId: row.temporal_run_id,
    type: row.sync_type,
    trigger: row.trigger,
    status: row.status,
    startedAt: row.started_at.toISOString(),
    completedAt: completed ? completed.toISOString() : null,
    durationSeconds: completed ? Math.round((completed.getTime() - row.started_at.getTime()) / 100) / 10 : null,
    counts,
    totals: sumCounts(counts),
    progress: record(row.progress),
    error: row.error ?? null,
    temporalUiUrl: runUiUrl(link.uiUrl, link.namespace, row.workflow_id, row.temporal_run_id),
  };
}

// ------------------------------------------------------------------------------------- progress

export type TypePhase = 'pending' | 'walk' | 'catchup' | 'done';

export interface TypeLine extends EntityCounts {
  type: EntityType;
  phase: TypePhase;
  pages: number;
}

export interface ProgressView {
  /**
   * The run's phase (workflows/progress.ts: starting, entities, reconcile, repair, postprocess,
   * completed), a finished run's status, or `waiting` while no worker has picked the run up.
   */
  phase: string;
  /** `query`: the workflow answered; `database`: the durable copy in sync_runs; `none`: neither yet. */
  source: 'query' | 'database' | 'none';
  activeTypes: EntityType[];
  types: TypeLine[];
}

export const WAITING: ProgressView = { phase: 'waiting', source: 'none', activeTypes: [], types: [] };

export function progressFromQuery(progress: SyncProgress): ProgressView {
  const types = ENTITY_TYPES.flatMap((type): TypeLine[] => {
    const line = progress.types[type];
    return line ? [{ ...ZERO_COUNTS, ...line, type }] : [];
  });
  return { phase: progress.phase, source: 'query', activeTypes: [...progress.activeTypes], types };
}

/**
 * The durable copy: counts per type and committed pages per type (`pages:<type>`). A type's own
 * phase is not kept there: a running run's types show as walking once they have pages.
 */
export function progressFromRow(row: RunRow): ProgressView {
  const progress = record(row.progress);
  const counts = countsOf(row.counts);
  const running = row.status === 'running';
  const types = ENTITY_TYPES.flatMap((type): TypeLine[] => {
    const pages = Number(progress[`pages:${type}`] ?? 0) || 0;
    if (!counts[type] && pages === 0) return [];
    const phase: TypePhase = !running ? 'done' : pages > 0 ? 'walk' : 'pending';
    return [{ ...ZERO_COUNTS, ...counts[type], type, phase, pages }];
  });
  const phase = running
    ? progress.phase === 'syncing'
      ? 'entities'
      : String(progress.phase ?? 'starting')
    : row.status;
  const current = progress.entityType;
  return {
    phase,
    source: 'database',
    activeTypes:
      running && typeof current === 'string' ? (ENTITY_TYPES.filter((type) => type === current) as EntityType[]) : [],
    types,
  };
}

const MERGED = ['pages', 'fetched', 'created', 'updated', 'unchanged', 'failed', 'deleted'] as const;

/**
 * The query's picture (phases, active types) with the durable copy's numbers where those are
 * ahead: a walk call reports to the workflow only when it hands back (every ~20 s), while
 * sync_runs takes each page's counts as it commits.
 */
export function mergeProgress(live: ProgressView | null, durable: ProgressView | null): ProgressView | null {
  if (!live || !durable) return live ?? durable;
  const types = live.types.map((line): TypeLine => {
    const committed = durable.types.find((candidate) => candidate.type === line.type);
    if (!committed) return line;
    const merged = { ...line };
    for (const key of MERGED) merged[key] = Math.max(line[key], committed[key]);
    return merged;
  });
  return { ...live, types };
}
