import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import type { SyncRunSummary } from '../../workflows/sync-run.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { type CliResult, cliEnv, describeRun, lastJson, runCli, startCli } from './support.js';

/**
 * The operator commands as a user runs them: `node bin/stash-mirror.js …` with the environment
 * pointing at a test stack (its database, Temporal, task queue, lock id and simulated Stash), stdout
 * and stderr piped. The tests run in order: each builds on the runs the ones before it left.
 */

interface RunJson {
  id: string;
  type: string;
  trigger: string;
  status: string;
  startedAt: string;
  totals: Record<string, number>;
}

const PROGRESS_LINE = /^\[\d+:\d{2}\] /;
const LOCAL_TIME = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}';
const n = (value: number) => value.toLocaleString('en-US');

describe('the operator commands', () => {
  let stack: TestStack;
  let env: NodeJS.ProcessEnv;
  let fullRunId: string;
  let fullSummary: SyncRunSummary;
  const cli = (...args: string[]) => runCli(args, env);
  const expectExit = (result: CliResult, code: number) => expect(result.code, describeRun(result)).toBe(code);

  beforeAll(async () => {
    stack = await createTestStack({ seed: 21, scale: 'small' });
    await stack.startWorker({ pageSize: 100 });
    env = cliEnv(stack);
  });
  afterAll(async () => {
    stack?.simulator.control.clearFaults();
    await stack?.close();
  });

  it('say so before anything has run', async () => {
    const [status, runs, cancel] = await Promise.all([cli('status'), cli('runs'), cli('cancel')]);
    expectExit(status, 0);
    expect(status.lines).toContain('Running: no sync');
    expect(status.lines).toContain('Last run: none finished yet');
    expectExit(runs, 0);
    expect(runs.lines).toEqual(['no runs yet']);
    expectExit(cancel, 1);
    expect(cancel.stderr).toBe('stash-mirror: no sync is running (give a run id to cancel a single-entity sync)\n');
  });

  it('`sync full --wait` on a pipe prints plain progress lines per type and ends with the summary', async () => {
    const result = await runCli(['sync', 'full', '--wait'], env, 120_000);
    expectExit(result, 0);
    const head = result.lines[0] ?? '';
    const match = new RegExp(`^full sync (${stack.workflowId}/[\\w-]+) running\\.\\.\\.$`).exec(head);
    expect(match, head).not.toBeNull();
    fullRunId = match?.[1] as string;

    // No bars, no cursor movement: a pipe gets lines.
    expect(result.stdout).not.toContain('\x1b');
    expect(result.stdout).not.toContain('█');
    const progress = result.lines.filter((line) => PROGRESS_LINE.test(line));
    expect(progress.length, result.stdout).toBeGreaterThan(1);
    expect(result.lines.slice(1, -1)).toEqual(progress); // between the first line and the summary: progress only
    expect(progress[0]).not.toMatch(/ completed · /);

    // The summary is the last line; the last progress line shows every type done with its count.
    const last = result.lines.at(-1) ?? '';
    expect(last.startsWith('full sync completed: '), last).toBe(true);
    fullSummary = JSON.parse(last.slice('full sync completed: '.length)) as SyncRunSummary;
    expect(fullSummary).toMatchObject({ runId: fullRunId, status: 'completed', syncType: 'full' });
    expect(fullSummary.counts.scene?.created).toBe(stack.simulator.library.scenes.size);
    const final = progress.at(-1) as string;
    expect(final).toMatch(/^\[\d+:\d{2}\] completed · /);
    for (const type of ENTITY_TYPES) {
      expect(final).toContain(`${type} done ${n(fullSummary.counts[type]?.fetched ?? -1)} fetched`);
    }
    // Each type was shown while it was being read too, not only at the end.
    for (const type of ENTITY_TYPES) {
      expect(progress.slice(0, -1).some((line) => new RegExp(`· ${type} (walk|catchup|done) `).test(line))).toBe(true);
    }

    const [row] = await stack.db.sql`select status, trigger from sync_runs where id = ${fullRunId}`;
    expect(row).toEqual({ status: 'completed', trigger: 'cli' });
  });

  it('`status` prints the last run and the per-type table', async () => {
    const [human, json] = await Promise.all([cli('status'), cli('status', '--json')]);
    expectExit(human, 0);
    const lines = human.lines;
    expect(lines[0]).toBe('Running: no sync');
    const created = Object.values(fullSummary.counts).reduce((sum, counts) => sum + (counts?.created ?? 0), 0);
    const fetched = Object.values(fullSummary.counts).reduce((sum, counts) => sum + (counts?.fetched ?? 0), 0);
    const lastRun = lines.findIndex((line) => line.startsWith('Last run: '));
    expect(lines[lastRun]).toMatch(
      new RegExp(
        `^Last run: full sync completed · ${LOCAL_TIME} · took \\d+s · fetched ${n(fetched)} · created ${n(created)}$`,
      ),
    );
    expect(lines[lastRun + 1]).toBe(`  ${fullRunId}`);

    const table = lines.indexOf('Entity types:');
    expect(table).toBeGreaterThan(lastRun);
    expect(lines[table + 1]).toMatch(
      /^ {2}type +last full sync +last smart\/incremental +high-water mark +resume cursor$/,
    );
    const rows = lines.slice(table + 2, table + 2 + ENTITY_TYPES.length);
    expect(rows.map((row) => row.trim().split(/\s+/)[0])).toEqual([...ENTITY_TYPES]);
    for (const row of rows) {
      // synced in full, never by a smart or incremental run, a high-water mark, no cursor left behind
      expect(row).toMatch(new RegExp(`^ {2}\\w+ +${LOCAL_TIME} +- +\\d{4}-\\d{2}-\\d{2}T\\S+ +-$`));
    }
    expect(lines).toContain('Schedule: none (`stash-mirror schedule set` creates it)');
    expect(lines.at(-1)).toBe(`Temporal: ${stack.temporalAddress}, namespace default`);

    expectExit(json, 0);
    const status = lastJson<{
      runningRunId: string | null;
      lastRun: RunJson;
      entities: Array<{ entityType: string; lastFullSyncAt: string | null; resumeCursors: string[] }>;
      temporalReachable: boolean;
    }>(json);
    expect(status.runningRunId).toBeNull();
    expect(status.temporalReachable).toBe(true);
    expect(status.lastRun).toMatchObject({ id: fullRunId, type: 'full', status: 'completed', trigger: 'cli' });
    expect(status.lastRun.totals).toMatchObject({ created, fetched });
    expect(status.entities.map((entity) => entity.entityType)).toEqual([...ENTITY_TYPES]);
    for (const entity of status.entities) {
      expect(entity.lastFullSyncAt).not.toBeNull();
      expect(entity.resumeCursors).toEqual([]);
    }
  });

  it("`logs` shows an entity's history, newest first; unknown types and bad ids fail clearly", async () => {
    const id = [...stack.simulator.library.scenes.keys()][0] as number;
    stack.simulator.control.update('scene', id, { title: 'renamed for the cli logs test' });
    const resync = await cli('sync', 'scene', String(id), '--wait');
    expectExit(resync, 0);
    expect(resync.lines.at(-1)).toMatch(new RegExp(`^scene ${id} sync completed: \\{`));

    const [human, json, limited] = await Promise.all([
      cli('logs', 'scene', String(id)),
      cli('logs', 'scene', String(id), '--json'),
      cli('logs', 'scene', String(id), '--json', '--limit', '1'),
    ]);
    expectExit(human, 0);
    expect(human.lines[0]).toBe(`scene ${id}: 3 log rows, newest first`);
    expect(human.lines[1]).toMatch(/^when +sync +change +fields +run +error$/);
    const [updated, wide, created] = human.lines.slice(2);
    expect(updated).toMatch(
      new RegExp(
        `^${LOCAL_TIME} +specific +updated +title(, \\w+)* +${stack.workflowId}:scene:${id}/\\S+ \\(cli, completed\\)$`,
      ),
    );
    expect(wide).toMatch(
      new RegExp(`^${LOCAL_TIME} +full +unchanged \\(whole type\\) +- +${fullRunId} \\(cli, completed\\)$`),
    );
    expect(created).toMatch(new RegExp(`^${LOCAL_TIME} +full +created +- +${fullRunId} \\(cli, completed\\)$`));

    expectExit(json, 0);
    const history = lastJson<{
      entityType: string;
      id: number;
      logs: Array<{ runId: string; syncType: string; changeType: string; changedFields: string[] | null }>;
    }>(json);
    expect(history).toMatchObject({ entityType: 'scene', id });
    expect(history.logs.map((log) => [log.syncType, log.changeType])).toEqual([
      ['specific', 'updated'],
      ['full', 'unchanged'],
      ['full', 'created'],
    ]);
    // A title change in Stash bumps its updated_at too.
    expect(history.logs[0]?.changedFields).toContain('title');
    expect(history.logs[2]?.runId).toBe(fullRunId);
    expect(lastJson<{ logs: unknown[] }>(limited).logs).toHaveLength(1);

    const missing = 987_654_321;
    const [badType, badId, zero, unknown] = await Promise.all([
      cli('logs', 'movie', '1'),
      cli('logs', 'scene', 'abc'),
      cli('logs', 'scene', '0'),
      cli('logs', 'scene', String(missing)),
    ]);
    expectExit(badType, 64);
    expect(badType.stderr).toBe(
      'stash-mirror: <type> must be one of studio, tag, performer, group, gallery, scene, image (got "movie")\n',
    );
    expectExit(badId, 64);
    expect(badId.stderr).toBe('stash-mirror: <id> must be a positive whole number (got "abc")\n');
    expectExit(zero, 64);
    expectExit(unknown, 1);
    expect(unknown.stderr).toBe(
      `stash-mirror: scene ${missing} has never been synced (no row in the mirror, no log rows)\n`,
    );
    for (const result of [badType, badId, zero, unknown]) expect(result.stdout).toBe('');
  });

  it('`sync … --wait --json` on a pipe prints the summary alone', async () => {
    const result = await cli('sync', 'smart', '--wait', '--json');
    expectExit(result, 0);
    expect(result.lines).toHaveLength(1);
    expect(lastJson(result)).toMatchObject({ status: 'completed', syncType: 'smart' });
  });

  describe('while a slowed full sync runs', () => {
    /** The run a worker has recorded as running under the stack's lock id. */
    const runningRun = () =>
      waitFor(async () => {
        const [row] = await stack.db.sql`
          select id from sync_runs where workflow_id = ${stack.workflowId} and status = 'running'`;
        return row?.id as string | undefined;
      }, 60_000);

    it('`cancel <run>` asks it to stop and returns; the run ends as cancelled', async () => {
      stack.simulator.control.setFaults({ latencyMs: 1000 });
      try {
        const started = await stack.startFull();
        expect(await runningRun()).toBe(started.syncRunId);
        const result = await cli('cancel', started.syncRunId, '--json');
        expectExit(result, 0);
        expect(lastJson(result)).toEqual({ runId: started.syncRunId, status: 'cancelling' });
        await expect(started.result()).rejects.toThrow();
        const [row] = await stack.db.sql`select status from sync_runs where id = ${started.syncRunId}`;
        expect(row?.status).toBe('cancelled');
      } finally {
        stack.simulator.control.clearFaults();
      }
    });

    it('refuses a second sync (exit 2), and `cancel --wait` ends the running one (its `sync --wait` exits 1)', async () => {
      stack.simulator.control.setFaults({ latencyMs: 1000 });
      try {
        const waiting = startCli(['sync', 'full', '--wait'], env);
        const runId = await runningRun();

        const [busy, busyJson, status] = await Promise.all([
          cli('sync', 'full'),
          cli('sync', 'smart', '--json'),
          cli('status'),
        ]);
        expectExit(busy, 2);
        expect(busy.lines).toEqual([`another sync is running (${runId})`]);
        expectExit(busyJson, 2);
        expect(lastJson(busyJson)).toEqual({ status: 'busy', runningRunId: runId });
        expectExit(status, 0);
        expect(status.lines[0]).toMatch(
          new RegExp(`^Running: full sync ${runId} · trigger cli · started ${LOCAL_TIME} \\(\\d+s so far\\)$`),
        );
        expect(status.lines[1]).toMatch(/^ {2}phase: \w+/);

        const cancel = await cli('cancel', '--wait', '--json');
        expectExit(cancel, 0);
        expect(lastJson(cancel)).toEqual({ runId, status: 'cancelled' });

        const sync = await waiting.done;
        expectExit(sync, 1);
        expect(sync.lines.at(-1)).toMatch(/^full sync cancelled: /);
        expect(sync.lines.at(-2)).toMatch(/^\[\d+:\d{2}\] cancelled · /);
        const [row] = await stack.db.sql`select status from sync_runs where id = ${runId}`;
        expect(row?.status).toBe('cancelled');

        const [again, byId, after] = await Promise.all([cli('cancel'), cli('cancel', runId), cli('status')]);
        expectExit(again, 1);
        expect(again.stderr).toContain('no sync is running');
        expectExit(byId, 1);
        expect(byId.stderr).toBe(`stash-mirror: run ${runId} is cancelled, not running\n`);
        expect(after.lines[0]).toBe('Running: no sync');
        expect(after.lines).toContainEqual(expect.stringMatching(/^Last run: full sync cancelled · /));
        expect(after.lines).toContain(`  ${runId}`);
      } finally {
        stack.simulator.control.clearFaults();
      }
    });

    it('`sync full --wait --json` reports a cancelled run as cancelled (exit 1)', async () => {
      stack.simulator.control.setFaults({ latencyMs: 1000 });
      try {
        const waiting = startCli(['sync', 'full', '--wait', '--json'], env);
        const runId = await runningRun();
        expectExit(await cli('cancel'), 0);
        const sync = await waiting.done;
        expectExit(sync, 1);
        expect(sync.lines).toHaveLength(1);
        expect(lastJson(sync)).toMatchObject({ runId, status: 'cancelled' });
      } finally {
        stack.simulator.control.clearFaults();
      }
    });
  });

  it('`runs` lists runs newest first, filters by --type and --status, honours --limit', async () => {
    // So far: full (cli, completed), specific (completed), smart (completed), full ×3 (cancelled).
    const [all, full, cancelled, fullCompleted, specific, limited, limitedJson, none] = await Promise.all([
      cli('runs', '--json'),
      cli('runs', '--type', 'full', '--json'),
      cli('runs', '--status', 'cancelled', '--json'),
      cli('runs', '--type', 'full', '--status', 'completed', '--json'),
      cli('runs', '--type', 'specific'),
      cli('runs', '--limit', '2'),
      cli('runs', '--limit', '2', '--json'),
      cli('runs', '--type', 'incremental'),
    ]);
    const parse = (result: CliResult) => {
      expectExit(result, 0);
      return lastJson<{ count: number; runs: RunJson[] }>(result);
    };

    const everything = parse(all);
    expect(everything.count).toBe(6);
    expect(everything.runs.map((run) => run.type)).toEqual(['full', 'full', 'full', 'smart', 'specific', 'full']);
    const starts = everything.runs.map((run) => Date.parse(run.startedAt));
    expect(starts).toEqual([...starts].sort((a, b) => b - a));

    const fulls = parse(full);
    expect(fulls.count).toBe(4);
    expect(fulls.runs.every((run) => run.type === 'full')).toBe(true);
    const stopped = parse(cancelled);
    expect(stopped.count).toBe(3);
    expect(stopped.runs.every((run) => run.status === 'cancelled' && run.type === 'full')).toBe(true);
    expect(parse(fullCompleted).runs.map((run) => run.id)).toEqual([fullRunId]);

    expectExit(specific, 0);
    expect(specific.lines[0]).toMatch(
      /^run +type +trigger +status +started +took +fetched +created +updated +deleted +failed$/,
    );
    expect(specific.lines).toHaveLength(2);
    expect(specific.lines[1]).toMatch(
      new RegExp(
        `^${stack.workflowId}:scene:\\d+/\\S+ +specific +cli +completed +${LOCAL_TIME} +\\d+s +1 +0 +1 +0 +0$`,
      ),
    );

    expectExit(limited, 0);
    expect(limited.lines).toHaveLength(4);
    expect(limited.lines[1]).toContain(everything.runs[0]?.id);
    expect(limited.lines[2]).toContain(everything.runs[1]?.id);
    expect(limited.lines[3]).toBe('2 of 6 runs (--limit shows more)');
    const page = parse(limitedJson);
    expect(page.count).toBe(6);
    expect(page.runs.map((run) => run.id)).toEqual(everything.runs.slice(0, 2).map((run) => run.id));

    expectExit(none, 0);
    expect(none.lines).toEqual(['no runs match']);

    const bad = await Promise.all([
      cli('runs', '--type', 'movie'),
      cli('runs', '--status', 'done'),
      cli('runs', '--limit', '0'),
      cli('runs', '--limit', '1001'),
    ]);
    for (const result of bad) {
      expectExit(result, 64);
      expect(result.stdout).toBe('');
    }
    expect(bad[0]?.stderr).toBe(
      'stash-mirror: --type must be one of full, incremental, smart, specific (got "movie")\n',
    );
  });
});
