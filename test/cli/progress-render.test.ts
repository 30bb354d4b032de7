import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgressDisplay, finalView } from '../../cli/actions/progress.js';
import {
  BAR_WIDTH,
  bar,
  barFill,
  barLine,
  createPlainPrinter,
  headerLine,
  plainLine,
} from '../../cli/actions/progress-render.js';
import type { ProgressView, TypeLine } from '../../cli/actions/run-view.js';
import { ZERO_COUNTS } from '../../db/vocabulary.js';
import type { EntityType } from '../../stash/entity-types.js';
import type { SyncRunSummary } from '../../workflows/sync-run.js';

const line = (type: EntityType, phase: TypeLine['phase'], fetched: number, more: Partial<TypeLine> = {}): TypeLine => ({
  ...ZERO_COUNTS,
  type,
  phase,
  fetched,
  pages: 0,
  ...more,
});

const view = (phase: string, types: TypeLine[]): ProgressView => ({
  phase,
  source: 'query',
  activeTypes: types.filter((type) => type.phase === 'walk').map((type) => type.type),
  types,
});

const FULL = '█';
const EMPTY = '░';
const filled = (text: string) => [...text].filter((char) => char === FULL).length;

/** A stream that says it is a terminal and keeps what is written to it. */
function fakeTerminal(isTTY: boolean) {
  const chunks: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    }),
    { isTTY, columns: 160 },
  );
  return {
    stream,
    raw: () => chunks.join(''),
    /** What a terminal would show, roughly: escape sequences dropped, one string per drawn line. */
    text: () =>
      chunks
        .join('')
        // biome-ignore lint/suspicious/noControlCharactersInRegex: removing the terminal's escape sequences.
        .replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '\n')
        .split(/[\r\n]+/)
        .map((text) => text.trimEnd())
        .filter((text) => text !== ''),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('progress bars (pure)', () => {
  it('fills a determinate bar by rows fetched of the total, never beyond it', () => {
    expect(filled(bar(barFill(line('scene', 'walk', 250), 1000), 0))).toBe(BAR_WIDTH / 4);
    expect(filled(bar(barFill(line('scene', 'walk', 0), 1000), 0))).toBe(0);
    // Stash gained rows since the count: the bar is full, not longer.
    const over = bar(barFill(line('scene', 'walk', 1500), 1000), 0);
    expect(over).toBe(FULL.repeat(BAR_WIDTH));
    // A type whose walk is over shows a full bar whatever its count.
    expect(bar(barFill(line('tag', 'catchup', 3), 1000), 0)).toBe(FULL.repeat(BAR_WIDTH));
    expect(bar(barFill(line('tag', 'done', 0), undefined), 0)).toBe(FULL.repeat(BAR_WIDTH));
  });

  it('moves a block along an indeterminate bar (no total known)', () => {
    const frames = [0, 1, 2, 3].map((tick) => bar(barFill(line('image', 'walk', 10), undefined), tick));
    for (const frame of frames) {
      expect(frame).toHaveLength(BAR_WIDTH);
      expect(frame).toMatch(new RegExp(`^${EMPTY}*${FULL}{4}${EMPTY}*$`));
    }
    expect(new Set(frames).size).toBe(frames.length);
    expect(frames[1]?.indexOf(FULL)).toBe(1);
  });

  it('writes one line per type: name, bar, fetched of total, phase, pages, outcomes', () => {
    const text = barLine(line('scene', 'walk', 1200, { pages: 12, created: 30, failed: 1 }), 5000, 0);
    expect(text).toMatch(/^scene {5}\[█{5}░{15}\] +1,200\/5,000 {2}walk +12 pages {2}created 30 · failed 1$/);
    expect(barLine(line('studio', 'done', 50, { pages: 1 }), 50, 0)).toMatch(
      /^studio {4}\[█{20}\] +50 fetched {2}done +1 page$/,
    );
  });

  it('prints plain lines on a phase change, else once per interval', () => {
    const print = createPlainPrinter(() => ({ scene: 1000 }), 10_000);
    const walking = view('entities', [
      line('tag', 'done', 150),
      line('scene', 'walk', 100),
      line('image', 'pending', 0),
    ]);
    const first = print(walking, 1_000);
    expect(first).toBe('[0:01] entities · tag done 150 fetched · scene walk 100/1,000 · 1 pending');
    // Same phases within the interval: nothing new to say.
    expect(
      print(
        view('entities', [line('tag', 'done', 150), line('scene', 'walk', 400), line('image', 'pending', 0)]),
        5_000,
      ),
    ).toBeNull();
    expect(print(walking, 11_500)).toMatch(/^\[0:11\] entities/);
    // A type changing phase prints at once.
    const next = view('entities', [line('tag', 'done', 150), line('scene', 'catchup', 1000, { pages: 10 })]);
    expect(print(next, 12_000)).toBe('[0:12] entities · tag done 150 fetched · scene catchup 1,000 fetched (10 pages)');
    expect(print(view('postprocess', next.types), 12_500)).toMatch(/^\[0:12\] postprocess · /);
  });

  it('says when no worker has picked the run up, or the numbers come from the database', () => {
    const waiting: ProgressView = { phase: 'waiting', source: 'none', activeTypes: [], types: [] };
    expect(plainLine(waiting, {}, 0)).toBe('[0:00] waiting for a worker to pick the run up');
    expect(headerLine('full sync x/1', { ...view('entities', []), source: 'database' }, 65_000)).toBe(
      'full sync x/1 · entities (from the database: no worker answered) · 1:05',
    );
  });

  it("ends on the run's own counts, every type done", () => {
    const last = view('entities', [line('tag', 'catchup', 150, { pages: 2 }), line('scene', 'walk', 10, { pages: 1 })]);
    const summary = {
      runId: 'x/1',
      status: 'completed',
      syncType: 'full',
      pages: 14,
      counts: {
        tag: { ...ZERO_COUNTS, fetched: 160, created: 150, unchanged: 10 },
        scene: { ...ZERO_COUNTS, fetched: 1000, created: 1000 },
        image: { ...ZERO_COUNTS, fetched: 5, created: 5 },
      },
      skippedTypes: [],
      deleted: 0,
      postProcessed: [],
      continuedAsNew: 0,
    } satisfies SyncRunSummary;
    const final = finalView(last, { summary });
    expect(final?.phase).toBe('completed');
    expect(final?.types.map((type) => [type.type, type.phase, type.fetched])).toEqual([
      ['tag', 'done', 160],
      ['scene', 'done', 1000],
      ['image', 'done', 5],
    ]);
    expect(finalView(last, { status: 'cancelled' })).toMatchObject({ phase: 'cancelled', activeTypes: [] });
  });
});

describe('the progress display', () => {
  it('draws a header and one bar per type on a terminal, redrawn while the run goes on', async () => {
    const terminal = fakeTerminal(true);
    const started = Date.now();
    const display = createProgressDisplay(
      terminal.stream,
      'full sync wf/run-1',
      () => ({ tag: 150, scene: 1000 }),
      started,
    );
    display.update(
      view('entities', [line('tag', 'catchup', 150, { pages: 2 }), line('scene', 'walk', 500, { pages: 5 })]),
    );
    await sleep(400); // cli-progress redraws at 8 fps
    const live = terminal.text();
    expect(terminal.raw()).toContain('\x1b[?25l'); // cursor hidden while the bars run
    expect(live).toContainEqual(expect.stringMatching(/^full sync wf\/run-1 · entities · 0:0\d$/));
    expect(live).toContainEqual(expect.stringMatching(/^tag {7}\[█{20}\] +150 fetched {2}catchup +2 pages$/));
    expect(live).toContainEqual(expect.stringMatching(/^scene {5}\[█{10}░{10}\] +500\/1,000 {2}walk +5 pages$/));

    // A type seen for the first time gets its own bar; the last drawing shows the final state.
    display.close(
      view('completed', [
        line('tag', 'done', 160, { pages: 2, created: 150 }),
        line('scene', 'done', 1000, { pages: 10, created: 1000 }),
        line('image', 'done', 5, { pages: 1, created: 5 }),
      ]),
    );
    const after = terminal.text().slice(live.length);
    expect(after).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^full sync wf\/run-1 · completed · 0:0\d$/),
        expect.stringMatching(/^tag {7}\[█{20}\] +160 fetched {2}done +2 pages {2}created 150$/),
        expect.stringMatching(/^scene {5}\[█{20}\] +1,000 fetched {2}done +10 pages {2}created 1,000$/),
        expect.stringMatching(/^image {5}\[█{20}\] +5 fetched {2}done +1 page {2}created 5$/),
      ]),
    );
    expect(terminal.raw().endsWith('\n')).toBe(true);
    expect(terminal.raw().lastIndexOf('\x1b[?25h')).toBeGreaterThan(terminal.raw().lastIndexOf('\x1b[?25l'));
    // Stopped: nothing more is drawn.
    const length = terminal.raw().length;
    await sleep(300);
    expect(terminal.raw()).toHaveLength(length);
  });

  it('prints plain lines, no bars and no escape sequences, when the stream is not a terminal', async () => {
    const pipe = fakeTerminal(false);
    const display = createProgressDisplay(pipe.stream, 'full sync wf/run-1', () => ({ scene: 1000 }), Date.now());
    display.update(view('entities', [line('scene', 'walk', 100)]));
    display.update(view('entities', [line('scene', 'walk', 200)])); // same phase: no new line
    display.update(view('entities', [line('scene', 'catchup', 1000)]));
    await sleep(300);
    display.close(view('completed', [line('scene', 'done', 1000)]));
    const raw = pipe.raw();
    expect(raw).not.toContain('\x1b');
    expect(raw).not.toContain(FULL);
    expect(raw.split('\n').filter(Boolean)).toEqual([
      '[0:00] entities · scene walk 100/1,000',
      '[0:00] entities · scene catchup 1,000 fetched',
      '[0:00] completed · scene done 1,000 fetched',
    ]);
  });
});
