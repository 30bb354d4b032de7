/**
 * `sync … --wait`: follows the run's progress while it runs. About once a second it asks the
 * workflow (the progress query), falling back to sync_runs.progress when no worker answers; on a
 * terminal it draws one bar per entity type (cli-progress), elsewhere it prints a plain line on
 * every phase change and every ~10 s. With --json, stdout stays as it was: the bars go to stderr
 * when that is a terminal, and nothing is shown otherwise.
 */
import type { Client } from '@temporalio/client';
import cliProgress from 'cli-progress';
import type { AppConfig } from '../../config/env.js';
import { connect } from '../../db/client.js';
import { findRunRow } from '../../db/runs.js';
import type { MainSyncType } from '../../db/vocabulary.js';
import { ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import { queryProgress } from '../../temporal/sync-client.js';
import type { SyncRunSummary } from '../../workflows/sync-run.js';
import { barLine, createPlainPrinter, headerLine, plainLine, type TypeTotals } from './progress-render.js';
import {
  mergeProgress,
  type ProgressView,
  progressFromQuery,
  progressFromRow,
  type TypeLine,
  WAITING,
} from './run-view.js';
import { runningDatabaseUrl } from './session.js';

export interface FollowedRun {
  label: string;
  kind: MainSyncType;
  workflowId: string;
  /** The chain's first execution run id (queries go to its latest execution). */
  runId: string;
  syncRunId: string;
}

/** How the run ended, for the last drawing. */
export type RunEnd = { summary: SyncRunSummary } | { status: 'failed' | 'cancelled' };

export interface Follower {
  /** Stops polling, draws the last state and gives the terminal back (never throws). */
  finish(end: RunEnd): Promise<void>;
}

/** What shows a run's progress: bars on a terminal, plain lines elsewhere. */
export interface ProgressDisplay {
  update(view: ProgressView): void;
  /** Draws `last` (when given) as the final state and gives the stream back. */
  close(last: ProgressView | null): void;
}

const POLL_MS = 1000;

/** Starts following `run` (a follower that shows nothing with --json when stderr is not a terminal). */
export async function followRun(config: AppConfig, client: Client, run: FollowedRun, json: boolean): Promise<Follower> {
  const stream = json ? process.stderr : process.stdout;
  if (json && !stream.isTTY) return { finish: async () => {} };
  const startedAt = Date.now();
  let totals: TypeTotals = {};
  if (run.kind === 'full') {
    stashTotals(config).then(
      (found) => {
        totals = found;
      },
      () => {},
    );
  }
  const display = createProgressDisplay(stream, `${run.label} ${run.syncRunId}`, () => totals, startedAt);

  // The durable copy is read only from a database that is there already (never started for this).
  const databaseUrl = await runningDatabaseUrl(config).catch(() => null);
  const sql = databaseUrl ? connect(databaseUrl, { max: 1, applicationName: 'stash-mirror cli' }) : null;
  let last: ProgressView | null = null;
  const read = async (): Promise<ProgressView | null> => {
    const [live, row] = await Promise.all([
      queryProgress(client, run.workflowId, run.runId),
      sql ? findRunRow(sql, run.syncRunId).catch(() => null) : null,
    ]);
    const view = mergeProgress(live && progressFromQuery(live), row && progressFromRow(row));
    return view ?? (last ? null : WAITING); // a passing hiccup keeps the last picture
  };
  const stopPolling = poll(read, (view) => {
    last = view;
    display.update(view);
  });

  const onInterrupt = () => {
    stopPolling();
    display.close(null);
    process.stderr.write(
      `stash-mirror: stopped waiting; ${run.label} ${run.syncRunId} keeps running (\`stash-mirror cancel\` stops it)\n`,
    );
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);

  return {
    async finish(end) {
      process.removeListener('SIGINT', onInterrupt);
      stopPolling();
      // The last poll may be a second behind: the run's row has every committed page by now.
      const row = sql ? await findRunRow(sql, run.syncRunId).catch(() => null) : null;
      if (row) last = mergeProgress(last, progressFromRow(row));
      try {
        display.close(finalView(last, end));
      } catch {
        // a broken terminal must not turn a finished run into a failure
      }
      await sql?.end({ timeout: 2 }).catch(() => {});
    },
  };
}

/** Calls `read` about every `intervalMs` and hands each answer to `onView`; returns stop. */
function poll(read: () => Promise<ProgressView | null>, onView: (view: ProgressView) => void, intervalMs = POLL_MS) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const next = async () => {
    const view = await read().catch(() => null);
    if (stopped) return;
    if (view) onView(view);
    timer = setTimeout(next, intervalMs);
  };
  void next();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** The last picture: every type done with the run's own counts, or the run's end status. */
export function finalView(last: ProgressView | null, end: RunEnd): ProgressView | null {
  if (!('summary' in end)) return last && { ...last, phase: end.status, activeTypes: [] };
  const { counts } = end.summary;
  const types = ENTITY_TYPES.flatMap((type): TypeLine[] => {
    const seen = last?.types.find((line) => line.type === type);
    const final = counts[type];
    if (!seen && !final) return [];
    const base = seen ?? { type, phase: 'done' as const, pages: 0, ...final! };
    return [{ ...base, ...final, phase: 'done' }];
  });
  return { phase: 'completed', source: last?.source ?? 'query', activeTypes: [], types };
}

/** Each type's row count in Stash, for a full sync's totals: one count query per type (per_page 0). */
async function stashTotals(config: AppConfig): Promise<TypeTotals> {
  if (!config.STASH_URL) return {};
  const [{ createStashClient }, { countEntities }, { specFor }] = await Promise.all([
    import('../../stash/client.js'),
    import('../../stash/paging.js'),
    import('../../stash/entities/index.js'),
  ]);
  const stash = createStashClient({ url: config.STASH_URL, apiKey: config.STASH_API_KEY, timeoutMs: 5000 });
  const counts = await Promise.all(
    ENTITY_TYPES.map(async (type) => [type, await countEntities(stash, specFor(type))] as const),
  );
  return Object.fromEntries(counts);
}

/**
 * Bars (cli-progress) when `stream` is a terminal, else a plain line on each phase change and
 * every ~10 s. `label` heads the bars (`full sync <run id>`); `totals` is read at each drawing.
 */
export function createProgressDisplay(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  label: string,
  totals: () => TypeTotals,
  startedAt = Date.now(),
): ProgressDisplay {
  if (stream.isTTY) return terminalDisplay(stream, label, totals, startedAt);
  return plainDisplay((line) => stream.write(`${line}\n`), totals, startedAt);
}

function plainDisplay(write: (line: string) => void, totals: () => TypeTotals, startedAt: number): ProgressDisplay {
  const printer = createPlainPrinter(totals);
  return {
    update(view) {
      const line = printer(view, Date.now() - startedAt);
      if (line) write(line);
    },
    close(last) {
      if (last) write(plainLine(last, totals(), Date.now() - startedAt));
    },
  };
}

/** A header line and one bar per entity type, redrawn by cli-progress from the latest view. */
function terminalDisplay(
  stream: NodeJS.WritableStream,
  label: string,
  totals: () => TypeTotals,
  startedAt: number,
): ProgressDisplay {
  let view: ProgressView = WAITING;
  let stoppedAt: number | null = null;
  const multibar = new cliProgress.MultiBar({
    stream,
    format: (_options, _params, payload: { render(): string }) => payload.render(),
    fps: 8,
    hideCursor: true,
    linewrap: false,
    clearOnComplete: false,
    gracefulExit: false,
  });
  const tick = () => Math.floor(Date.now() / 125);
  multibar.create(1, 0, { render: () => headerLine(label, view, (stoppedAt ?? Date.now()) - startedAt) });
  const bars = new Set<EntityType>();
  const addBars = (next: ProgressView) => {
    for (const { type } of next.types) {
      if (bars.has(type)) continue;
      bars.add(type);
      multibar.create(1, 0, {
        render: () => {
          const line = view.types.find((candidate) => candidate.type === type);
          return line ? barLine(line, totals()[type], tick()) : type;
        },
      });
    }
  };
  return {
    update(next) {
      view = next;
      addBars(next);
    },
    close(last) {
      stoppedAt = Date.now();
      if (last) {
        view = last;
        addBars(last);
      }
      multibar.stop();
    },
  };
}
