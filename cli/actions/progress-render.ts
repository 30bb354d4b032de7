/**
 * How `sync … --wait` shows a run's progress (pure, unit-tested): the lines of the live bars on a
 * terminal, and the plain lines printed elsewhere (on a phase change, or every ~10 s).
 *
 * A bar is determinate when the type's total is known (a full sync asks Stash for each type's
 * count once at start): rows fetched of the total while the type is walked. Otherwise (smart and
 * incremental syncs, or no STASH_URL) it is indeterminate: a moving block beside the rows fetched
 * and the pages committed. A type whose walk is over (catch-up, done) shows a full bar.
 */
import type { EntityType } from '../../stash/entity-types.js';
import { clock, count } from './format.js';
import type { ProgressView, TypeLine } from './run-view.js';

export type TypeTotals = Partial<Record<EntityType, number>>;

export const BAR_WIDTH = 20;
const FULL = '█';
const EMPTY = '░';
const PULSE = 4;
const TYPE_WIDTH = 10;

/** Whether a type's walk is over: a full sync's catch-up then reads again only what changed meanwhile. */
const walked = (line: TypeLine) => line.phase === 'catchup' || line.phase === 'done';

/** How full a type's bar is: value of total, or null when the total is unknown (indeterminate). */
export function barFill(line: TypeLine, total: number | undefined): { value: number; total: number | null } {
  if (walked(line)) return { value: 1, total: 1 };
  if (total === undefined) return { value: line.fetched, total: null };
  // Rows Stash gained since the count never overfill the bar.
  return { value: Math.min(line.fetched, total), total: Math.max(total, 1) };
}

/** The bar itself: filled share, or (indeterminate) a block moving with `tick`. */
export function bar(fill: { value: number; total: number | null }, tick: number, width = BAR_WIDTH): string {
  if (fill.total === null) {
    const span = width - PULSE;
    const step = tick % (2 * span);
    const at = step <= span ? step : 2 * span - step;
    return EMPTY.repeat(at) + FULL.repeat(PULSE) + EMPTY.repeat(width - PULSE - at);
  }
  const filled = Math.round((fill.value / fill.total) * width);
  return FULL.repeat(filled) + EMPTY.repeat(width - filled);
}

/** created 12 · updated 3 · failed 1 (zeros left out; unchanged is what fetched leaves). */
export function outcomes(line: TypeLine): string {
  return (['created', 'updated', 'deleted', 'failed'] as const)
    .filter((outcome) => line[outcome] > 0)
    .map((outcome) => `${outcome} ${count(line[outcome])}`)
    .join(' · ');
}

/** `1,200/5,000` while a type with a known total walks; else `1,200 fetched` (the catch-up's re-reads included). */
export function fetchedText(line: TypeLine, total: number | undefined): string {
  if (total === undefined || walked(line)) return `${count(line.fetched)} fetched`;
  return `${count(Math.min(line.fetched, total))}/${count(total)}`;
}

function pagesText(pages: number): string {
  return `${count(pages)} ${pages === 1 ? 'page' : 'pages'}`;
}

/** One type's line on the terminal: `scene     [████░░░░] 1,200/5,000  walk  12 pages  created 30`. */
export function barLine(line: TypeLine, total: number | undefined, tick: number): string {
  const parts = [
    `${line.type.padEnd(TYPE_WIDTH)}[${bar(barFill(line, total), tick)}]`,
    fetchedText(line, total).padStart(13),
    line.phase.padEnd(7),
    pagesText(line.pages).padStart(9),
  ];
  const tail = outcomes(line);
  return `${parts.join('  ')}${tail ? `  ${tail}` : ''}`;
}

function phaseText(view: ProgressView): string {
  if (view.phase === 'waiting') return 'waiting for a worker to pick the run up';
  return view.source === 'database' ? `${view.phase} (from the database: no worker answered)` : view.phase;
}

/** The line above the bars: `full sync stash-mirror-sync/… · entities · 0:12`. */
export function headerLine(label: string, view: ProgressView, elapsedMs: number): string {
  return `${label} · ${phaseText(view)} · ${clock(elapsedMs)}`;
}

/** A plain line: `[0:12] entities · studio done 50/50 · scene walk 1,200/5,000 (12 pages) · 4 pending`. */
export function plainLine(view: ProgressView, totals: TypeTotals, elapsedMs: number): string {
  const shown = view.types.filter((line) => line.phase !== 'pending');
  const pending = view.types.length - shown.length;
  const parts = [
    phaseText(view),
    ...shown.map((line) => {
      const pages = line.pages > 0 && line.phase !== 'done' ? ` (${pagesText(line.pages)})` : '';
      return `${line.type} ${line.phase} ${fetchedText(line, totals[line.type])}${pages}`;
    }),
    ...(pending > 0 ? [`${pending} pending`] : []),
  ];
  return `[${clock(elapsedMs)}] ${parts.join(' · ')}`;
}

/** What makes a plain line worth printing at once: the run's phase or a type's phase changed. */
export function phaseKey(view: ProgressView): string {
  return `${view.phase}|${view.types.map((line) => `${line.type}:${line.phase}`).join(',')}`;
}

/**
 * Decides when to print a plain line: on a phase change, else once `everyMs` has passed since the
 * last line. Returns the line to print, or null.
 */
export function createPlainPrinter(totals: () => TypeTotals, everyMs = 10_000) {
  let lastKey: string | null = null;
  let lastAt = Number.NEGATIVE_INFINITY;
  return (view: ProgressView, elapsedMs: number): string | null => {
    const key = phaseKey(view);
    if (key === lastKey && elapsedMs - lastAt < everyMs) return null;
    lastKey = key;
    lastAt = elapsedMs;
    return plainLine(view, totals(), elapsedMs);
  };
}
