/**
 * Chaos cases 2 and 3 of issue 13: the services a sync stands on go away mid-run and come back.
 * Case 2: a private Temporal dev server (SQLite file, fixed port) stopped gracefully, restarted,
 * then SIGKILLed and restarted, while a `stash-mirror worker` process runs a full sync. Case 3: a
 * private embedded PostgreSQL, on the shared Temporal, stopped (fast shutdown) and restarted, then
 * shut down immediately (no checkpoint: crash recovery at the next start) and restarted, both
 * mid-walk, with the worker's connections terminated over and over in between, then stopped once
 * more after the walks (reconcile and the run's end meet it). In both the same run must finish,
 * with its bookkeeping complete and the mirror equal to Stash, the worker process must live
 * through it all, and the history the chaos made must replay.
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect } from '../../db/client.js';
import { migrate } from '../../db/migrate.js';
import { type RunningPostgres, startEmbeddedPostgres } from '../../runtime/embedded-postgres.js';
import { findFreePort, sleep, terminatePid, waitForPidExit } from '../../runtime/processes.js';
import { type RunningDevServer, startTemporalDevServer } from '../../runtime/temporal-dev-server.js';
import { ENTITY_TABLES, ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import { queryProgress, type StartedSync } from '../../temporal/sync-client.js';
import { diffMirror } from '../support/compare.js';
import type { TestDatabase } from '../support/db.js';
import { replayAndCapture } from '../support/replay-capture.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { killProcess, startWorkerProcess } from '../support/worker-process.js';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

/** How long a service stays away: longer than an activity's first retries (1 s, 2 s, 4 s). */
const DOWNTIME_MS = 6_000;
/**
 * The SIGKILLed Temporal server stays away longer than the SDK's budget for ordinary calls
 * (activity completions and heartbeats are retried for about 10 s, then given up: the server must
 * time those attempts out and retry them), while long polls are retried without limit (a worker
 * process polled again after a 100 s outage when this was written, SDK 1.24).
 */
const LONG_DOWNTIME_MS = 30_000;
/** Slow Stash answers and small pages while the outages happen, so they land mid-walk. */
const LATENCY_MS = 250;
const PAGE_SIZE = '25';
/** Pages committed before the first outage, and after each restart before the next one. */
const PAGES_BETWEEN = 10;
/** How long the worker's connections are terminated over and over (case 3). */
const TERMINATIONS_MS = 10_000;

/**
 * Why waiting is pointless, if it is: the running case sets it (its worker process has exited),
 * so that a dead worker fails the case at once rather than at the end of a long wait.
 */
let hopeless: () => string | undefined = () => undefined;

/**
 * waitFor over a read that may fail while a service is down or coming back: a failed read counts
 * as "not yet" (the deadline still bounds it).
 */
function waitThrough<T>(read: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  return waitFor(
    async () => {
      const reason = hopeless();
      if (reason) throw new Error(`gave up waiting: ${reason}`);
      try {
        return await read();
      } catch {
        return undefined;
      }
    },
    timeoutMs,
    250,
  );
}

/** Pages the run has committed so far, per entity type (the walks' committed sequences). */
async function committedPages(stack: TestStack, runId: string): Promise<Partial<Record<EntityType, number>>> {
  const rows = await stack.db.sql`
    select entity_type, coalesce(sum(seq), 0)::int as pages from sync_walks
    where run_id = ${runId} group by entity_type`;
  return Object.fromEntries(rows.map((row) => [String(row.entity_type), Number(row.pages)]));
}

const totalPages = (pages: Partial<Record<EntityType, number>>): number =>
  Object.values(pages).reduce((sum, n) => sum + (n ?? 0), 0);

/** Waits until the run has committed at least `atLeast` pages in all; returns that number. */
async function waitForPages(stack: TestStack, runId: string, atLeast: number): Promise<number> {
  return waitThrough(async () => {
    const pages = totalPages(await committedPages(stack, runId));
    return pages >= atLeast ? pages : undefined;
  }, 180_000);
}

/**
 * How long recovery took: seconds from a restart (or the end of the terminations) to the run's next
 * committed page, or to its end when no page was left to commit (the outage hit reconcile,
 * post-processing or the run's end).
 */
async function recovery(stack: TestStack, runId: string, pagesAfter: number): Promise<string> {
  const since = Date.now();
  const what = await waitThrough(async () => {
    if (totalPages(await committedPages(stack, runId)) > pagesAfter) return 'next page';
    const status = await runStatus(stack, runId);
    return status === 'running' ? undefined : `run ${status}`;
  }, 180_000);
  return `${what} ${((Date.now() - since) / 1000).toFixed(1)} s later`;
}

async function runStatus(stack: TestStack, runId: string): Promise<string | undefined> {
  const [row] = await stack.db.sql`select status from sync_runs where id = ${runId}`;
  return row ? String(row.status) : undefined;
}

interface HistoryFigures {
  /** Every execution of the run's chain (continue-as-new), first first. */
  executions: string[];
  /** Extra attempts per activity type: ActivityTaskStarted.attempt - 1, summed. */
  retries: Record<string, number>;
  /** Workflow tasks that timed out or failed (a worker or server that went away mid-task). */
  workflowTaskTrouble: number;
}

/** What the run's histories say about the chaos: which activities needed more than one attempt. */
async function historyFigures(client: Client, workflowId: string, firstRunId: string): Promise<HistoryFigures> {
  const figures: HistoryFigures = { executions: [], retries: {}, workflowTaskTrouble: 0 };
  for (let runId: string | undefined = firstRunId; runId; ) {
    figures.executions.push(runId);
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const activityTypes = new Map<string, string>();
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) activityTypes.set(String(event.eventId), scheduled.activityType?.name ?? 'unknown');
      const started = event.activityTaskStartedEventAttributes;
      if (started && (started.attempt ?? 1) > 1) {
        const name = activityTypes.get(String(started.scheduledEventId)) ?? 'unknown';
        figures.retries[name] = (figures.retries[name] ?? 0) + (started.attempt ?? 1) - 1;
      }
      if (event.workflowTaskTimedOutEventAttributes || event.workflowTaskFailedEventAttributes) {
        figures.workflowTaskTrouble += 1;
      }
    }
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return figures;
}

const describeRetries = (retries: Record<string, number>): string =>
  Object.entries(retries)
    .map(([name, n]) => `${name}×${n}`)
    .join(' ') || 'none';

/**
 * The run finished as the one run it started as, and nothing of its bookkeeping was lost or
 * doubled: one sync_runs row, completed, counts equal to the library; one `created` sync_log row
 * per entity; no entity logged twice for one change; the mirror equal to Stash. Returns the
 * number of entities compared.
 */
async function expectFinishedIntact(stack: TestStack, started: StartedSync): Promise<number> {
  // The database says when the run is over (the client's long poll may have been cut by the chaos).
  await waitThrough(
    async () => ((await runStatus(stack, started.syncRunId)) === 'running' ? undefined : true),
    240_000,
  );
  const summary = await started.result();
  expect(summary.runId).toBe(started.syncRunId);

  const runs = await stack.db.sql`select id, status, counts from sync_runs`;
  expect(runs.map((run) => [run.id, run.status])).toEqual([[started.syncRunId, 'completed']]);
  const library = stack.simulator.library;
  const sizes = Object.fromEntries(ENTITY_TYPES.map((type) => [type, library[ENTITY_TABLES[type]].size]));
  const counted = Object.fromEntries(ENTITY_TYPES.map((type) => [type, Number(runs[0]?.counts[type]?.created ?? 0)]));
  expect(counted).toEqual(sizes);

  const created = await stack.db.sql`
    select entity_type, count(*)::int as n, count(distinct entity_id)::int as ids from sync_log
    where run_id = ${started.syncRunId} and change_type = 'created' group by entity_type`;
  expect(Object.fromEntries(created.map((row) => [row.entity_type, [row.n, row.ids]]))).toEqual(
    Object.fromEntries(ENTITY_TYPES.map((type) => [type, [sizes[type], sizes[type]]])),
  );
  const duplicates = await stack.db.sql`
    select entity_type, entity_id, change_type, count(*)::int as n from sync_log
    where run_id = ${started.syncRunId} and entity_id is not null
    group by entity_type, entity_id, change_type having count(*) > 1`;
  expect(duplicates).toEqual([]);

  expect(await diffMirror(stack.db.sql, stack.simulator, stack.stashUrl)).toEqual([]);
  return Object.values(sizes).reduce((sum, n) => sum + n, 0);
}

/** Replays every execution of the run's chain on today's workflow code; returns events replayed. */
async function replayChain(stack: TestStack, executions: string[], name: string): Promise<number> {
  let events = 0;
  for (const [index, runId] of executions.entries()) {
    events += await replayAndCapture({
      temporalAddress: stack.temporalAddress,
      workflowId: stack.workflowId,
      runId,
      name: index === 0 ? name : `${name}-${index + 1}`,
    });
  }
  return events;
}

/**
 * Terminates every connection of the worker (`stash-mirror worker` is its application_name)
 * every few milliseconds for TERMINATIONS_MS, once the run has `atLeast` pages: PostgreSQL
 * sends each the error a shutdown sends, including connections still being set up.
 */
async function terminations(stack: TestStack, runId: string, atLeast: number) {
  const pagesBefore = await waitForPages(stack, runId, atLeast);
  let terminated = 0;
  for (const until = Date.now() + TERMINATIONS_MS; Date.now() < until; ) {
    const rows = await stack.db.sql`
      select pg_terminate_backend(pid) as done from pg_stat_activity
      where application_name = 'stash-mirror worker'`;
    terminated += rows.filter((row) => row.done === true).length;
    await sleep(30);
  }
  const pagesAfter = totalPages(await committedPages(stack, runId));
  return { pagesBefore, terminated, pagesAfter, resumed: await recovery(stack, runId, pagesAfter) };
}

/**
 * What to look at when a case times out: the workflow's pending activities (attempts, last
 * failure), the run's walks and row as the database has them, and the worker's last log lines.
 */
async function diagnose(stack: TestStack, started: StartedSync, worker: { stderrTail(): string }): Promise<string> {
  const lines: string[] = [];
  try {
    const description = await stack.client.workflow.getHandle(started.workflowId).describe();
    lines.push(`workflow ${description.status.name}`);
    for (const pending of description.raw.pendingActivities ?? []) {
      lines.push(
        `pending ${pending.activityType?.name} attempt ${pending.attempt} state ${pending.state}: ${pending.lastFailure?.message ?? 'no failure'}`,
      );
    }
  } catch (error) {
    lines.push(`describe failed: ${String(error)}`);
  }
  try {
    const walks = await stack.db.sql`
      select entity_type, phase, walk, seq, done from sync_walks where run_id = ${started.syncRunId} order by 1, 2, 3`;
    lines.push(`walks ${JSON.stringify(walks)}`);
    lines.push(`run ${JSON.stringify(await stack.db.sql`select status, error, progress from sync_runs`)}`);
  } catch (error) {
    lines.push(`database read failed: ${String(error)}`);
  }
  lines.push(`worker stderr:\n${worker.stderrTail().slice(-6000)}`);
  return lines.join('\n');
}

/** Runs a case's body; a failure carries the diagnosis (the plain timeout says nothing). */
async function withDiagnosis<T>(explain: () => Promise<string>, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- diagnosis ---\n${await explain()}`, { cause: error });
  }
}

/**
 * Exits a worker process had while the test watched it (it must have none); every wait of the
 * case gives up as soon as there is one.
 */
function watchExits(child: ChildProcess): string[] {
  const exits: string[] = [];
  child.on('exit', (code, signal) => exits.push(`exit ${signal ?? code}`));
  hopeless = () => (exits.length > 0 ? `the worker process ended (${exits.join(', ')})` : undefined);
  return exits;
}

describe('the Temporal dev server restarted mid-sync (chaos case 2)', () => {
  // Made in beforeAll, not here: a describe body runs even when its tests are filtered out.
  let directory: string | undefined;
  let serverOptions: Parameters<typeof startTemporalDevServer>[0];
  let server: RunningDevServer | undefined;
  let stack: TestStack;
  let worker: (ChildProcess & { stderrTail(): string }) | undefined;

  beforeAll(async () => {
    // A fixed port and a SQLite file: the restarted server is the same server at the same address.
    directory = mkdtempSync(path.join(tmpdir(), 'stash-mirror-chaos-temporal-'));
    const port = await findFreePort();
    serverOptions = {
      dbFilename: path.join(directory, 'temporal.db'),
      port,
      uiPort: null,
      logLevel: 'error',
    };
    server = await startTemporalDevServer(serverOptions);
    stack = await createTestStack({ seed: 13, scale: 'small' }, server.address);
  });
  afterAll(async () => {
    hopeless = () => undefined;
    if (worker) await killProcess(worker);
    await stack?.close();
    await server?.stop();
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('a graceful stop and a SIGKILL of the server: the worker process rides both out and the same run finishes', async () => {
    const began = Date.now();
    const child = startWorkerProcess(stack, { SYNC_PAGE_SIZE: PAGE_SIZE });
    worker = child;
    const workerExits = watchExits(child);
    stack.simulator.control.setFaults({ latencyMs: LATENCY_MS });
    const started = await stack.startFull();
    const runId = started.syncRunId;

    const outage = async (kind: 'stop' | 'SIGKILL', atLeast: number, downtimeMs: number) => {
      const pagesBefore = await waitForPages(stack, runId, atLeast);
      expect(await runStatus(stack, runId)).toBe('running');
      const down = Date.now();
      const current = server;
      server = undefined;
      if (current && kind === 'stop') await current.stop();
      else if (current) {
        process.kill(current.pid, 'SIGKILL');
        expect(await waitForPidExit(current.pid, 10_000)).toBe(true);
      }
      await sleep(downtimeMs);
      // Walk activities already running keep committing pages to PostgreSQL while Temporal is away.
      const whileDown = totalPages(await committedPages(stack, runId)) - pagesBefore;
      server = await startTemporalDevServer(serverOptions);
      const downtime = Date.now() - down;
      const pagesAfter = totalPages(await committedPages(stack, runId));
      const resumed = await recovery(stack, runId, pagesAfter);
      return { kind, downtimeMs: downtime, pagesBefore, whileDown, pagesAfter, resumed };
    };

    const { first, second, compared } = await withDiagnosis(
      () => diagnose(stack, started, child),
      async () => {
        const first = await outage('stop', PAGES_BETWEEN, DOWNTIME_MS);
        // The next outage only once the run has moved on after the restart: recovery came first.
        const second = await outage('SIGKILL', first.pagesAfter + PAGES_BETWEEN, LONG_DOWNTIME_MS);
        // The rest at full speed: the outages are what this test is about.
        stack.simulator.control.clearFaults();
        return { first, second, compared: await expectFinishedIntact(stack, started) };
      },
    );
    // The production worker survived both outages: it is the same process, still polling.
    expect(workerExits, child.stderrTail()).toEqual([]);
    expect(child.exitCode).toBeNull();

    const figures = await historyFigures(stack.client, stack.workflowId, started.runId);
    const events = await replayChain(stack, figures.executions, 'temporal-restart');
    expect(events).toBeGreaterThan(0);
    console.log(
      `[chaos] temporal-restart: ${[first, second]
        .map(
          (o) =>
            `${o.kind} after ${o.pagesBefore} pages, down ${(o.downtimeMs / 1000).toFixed(1)} s, ${o.whileDown} pages committed meanwhile, ${o.resumed}`,
        )
        .join('; ')}; activity retries ${describeRetries(figures.retries)}; workflow task timeouts/failures ` +
        `${figures.workflowTaskTrouble}; ${figures.executions.length} execution(s), ${events} events replayed; ` +
        `${compared} entities compared; ${((Date.now() - began) / 1000).toFixed(0)} s`,
    );
  }, 420_000);
});

describe('PostgreSQL restarted mid-sync (chaos case 3)', () => {
  // Made in beforeAll, not here: a describe body runs even when its tests are filtered out.
  let base: string | undefined;
  let dataDir = '';
  let postgresOptions: Parameters<typeof startEmbeddedPostgres>[0];
  let postgres: RunningPostgres | undefined;
  let stack: TestStack;
  let worker: (ChildProcess & { stderrTail(): string }) | undefined;

  beforeAll(async () => {
    // PostgreSQL runs as the `postgres` user when we are root: every parent must be traversable.
    base = mkdtempSync(path.join(tmpdir(), 'stash-mirror-chaos-pg-'));
    chmodSync(base, 0o755);
    dataDir = path.join(base, 'data');
    mkdirSync(dataDir, { recursive: true });
    const port = await findFreePort();
    postgresOptions = { dataDir, port, persistent: true, database: 'stash_mirror_chaos' };
    postgres = await startEmbeddedPostgres(postgresOptions);
    const url = postgres.databaseUrl;
    await migrate(url);
    const sql = connect(url, { max: 5, applicationName: 'stash-mirror test' });
    // The cluster is this file's own: "dropping" the database is closing the pool (afterAll stops
    // the server and removes its directory).
    const database: TestDatabase = { url, sql, drop: () => sql.end({ timeout: 5 }) };
    stack = await createTestStack({ seed: 31, scale: 'small' }, inject('temporalAddress'), { database });
  });
  afterAll(async () => {
    hopeless = () => undefined;
    if (worker) await killProcess(worker);
    await stack?.close();
    await postgres?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('shutdowns mid-walk and after the walks, connections terminated: activities retry, the same run finishes, bookkeeping intact', async () => {
    const began = Date.now();
    const child = startWorkerProcess(stack, { SYNC_PAGE_SIZE: PAGE_SIZE });
    worker = child;
    const workerExits = watchExits(child);
    stack.simulator.control.setFaults({ latencyMs: LATENCY_MS });
    const started = await stack.startFull();
    const runId = started.syncRunId;
    let endPhase = '';

    const outage = async (kind: 'fast' | 'immediate', when: () => Promise<number>) => {
      const pagesBefore = await when();
      expect(await runStatus(stack, runId)).toBe('running');
      const down = Date.now();
      const current = postgres;
      postgres = undefined;
      if (current && kind === 'fast') await current.stop();
      else if (current) {
        // SIGQUIT: PostgreSQL's immediate shutdown, no checkpoint; the next start recovers from WAL
        // as after a crash. (The postmaster pid is in its lock file; RunningPostgres hides it.)
        const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        await terminatePid(pid, { first: 'SIGQUIT', escalation: ['SIGKILL'], graceMs: 10_000 });
        await current.stop();
      }
      await sleep(DOWNTIME_MS);
      postgres = await startEmbeddedPostgres(postgresOptions);
      const downtime = Date.now() - down;
      // The test's own pool reconnects on its next query (postgres.js drops dead connections).
      const pagesAfter = await waitThrough(async () => totalPages(await committedPages(stack, runId)), 30_000);
      const resumed = await recovery(stack, runId, pagesAfter);
      return { kind, downtimeMs: downtime, pagesBefore, pagesAfter, resumed };
    };

    const { first, burst, second, third, compared } = await withDiagnosis(
      () => diagnose(stack, started, child),
      async () => {
        const first = await outage('fast', () => waitForPages(stack, runId, PAGES_BETWEEN));
        // Between the restarts, the worker's connections are terminated again and again (what a
        // shutdown does to each backend, without the downtime): some land mid-transaction or while
        // postgres.js sets a new connection up, which ended the worker process or hung its
        // transactions before scripts/patch-postgres.mjs.
        const burst = await terminations(stack, runId, first.pagesAfter + PAGES_BETWEEN);
        expect(workerExits, child.stderrTail().slice(-3000)).toEqual([]);
        // The next outage only once the run has moved on after the restart: recovery came first.
        const second = await outage('immediate', () => waitForPages(stack, runId, burst.pagesAfter + PAGES_BETWEEN));
        // The third once every page is in: reconcile, repair, post-processing and the run's end
        // (bookkeeping activities) meet the outage instead of walks. The workflow's progress query
        // answers through Temporal, whatever the database does.
        const endPhases: readonly string[] = ['reconcile', 'repair', 'postprocess'];
        const third = await outage('fast', async () => {
          endPhase = await waitThrough(async () => {
            const progress = await queryProgress(stack.client, started.workflowId, started.runId);
            return progress && endPhases.includes(progress.phase) ? progress.phase : undefined;
          }, 240_000);
          return totalPages(await committedPages(stack, runId));
        });
        stack.simulator.control.clearFaults();
        return { first, burst, second, third, compared: await expectFinishedIntact(stack, started) };
      },
    );
    expect(workerExits, child.stderrTail()).toEqual([]);
    expect(child.exitCode).toBeNull();

    const figures = await historyFigures(stack.client, stack.workflowId, started.runId);
    // The database was gone for seconds while walks were writing: some attempt must have failed.
    expect(Object.values(figures.retries).reduce((sum, n) => sum + n, 0)).toBeGreaterThan(0);
    const events = await replayChain(stack, figures.executions, 'postgres-restart');
    expect(events).toBeGreaterThan(0);
    console.log(
      `[chaos] postgres-restart: ${[first, second, third]
        .map(
          (o, index) =>
            `${o.kind} shutdown ${index === 2 ? `in ${endPhase}` : `after ${o.pagesBefore} pages`}, down ${(o.downtimeMs / 1000).toFixed(1)} s, ${o.resumed}`,
        )
        .join('; ')}; ${burst.terminated} worker connections terminated in ${TERMINATIONS_MS / 1000} s after ` +
        `${burst.pagesBefore} pages, ${burst.resumed}; activity retries ${describeRetries(figures.retries)}; ` +
        `workflow task timeouts/failures ${figures.workflowTaskTrouble}; ${figures.executions.length} execution(s), ` +
        `${events} events replayed; ${compared} entities compared; ${((Date.now() - began) / 1000).toFixed(0)} s`,
    );
  }, 480_000);
});
