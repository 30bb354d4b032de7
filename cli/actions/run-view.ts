/**
 * What the CLI shows of runs (pure): a sync_runs row as JSON (the API's, db/run-view.ts), and a
 * run's progress, from the workflow's progress query or from the durable copy in sync_runs.
 */
import {
  isRecord,
  type RunJson,
  runCountsOf,
  runJsonOf,
  sumRunCounts,
  type TemporalUiLink,
} from '../../db/run-view.js';
import type { RunRow } from '../../db/runs.js';
import { type EntityCounts, ZERO_COUNTS } from '../../db/vocabulary.js';
import { ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import type { SyncProgress } from '../../workflows/progress.js';

/** A run as the CLI prints it: the API's JSON of a run (db/run-view.ts), without the API's links. */
export type RunView = RunJson;
export type UiLink = TemporalUiLink;

export const toRunView = (row: RunRow, link: UiLink): RunView => runJsonOf(row, link);

/** Every outcome added up over the types. */
export const sumCounts = sumRunCounts;

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
  const progress = isRecord(row.progress) ? row.progress : {};
  const counts = runCountsOf(row.counts);
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
