/**
 * Chaos case 8 of issue 13: one main sync per DATABASE, not only per SYNC_WORKFLOW_ID.
 * (a) Two workers with different SYNC_WORKFLOW_IDs and task queues on one database: while A runs a
 *     full sync, B's start fails at once naming A's run, and writes nothing; A terminated from
 *     Temporal (what the Web UI does) is taken over by B's next start at once, and B finishes
 *     with the mirror equal to Stash.
 * (b) Fencing: the lease taken from a running sync behind its back; its next commit aborts.
 * (c) 44 API starts, 6 `stash-mirror sync smart` processes and a schedule tick at once: one run.
 * (d) The lease's rules without Temporal: the TTL takeover, the fence, adoption by a run in flight
 *     across the upgrade.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, type WorkflowExecutionDescription, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULT_LEASE_TTL_SECONDS, endRun, fenced, startRun } from '../../activities/run-lease.js';
import { connect, type Sql, withSyncTransaction } from '../../db/client.js';
import { recordRunStart } from '../../db/runs.js';
import { readLease, SyncLeaseHeldError, SyncLeaseLostError, takeLease } from '../../db/sync-lease.js';
import {
  describeSmartSyncSchedule,
  ensureSmartSyncSchedule,
  triggerSmartSyncSchedule,
} from '../../temporal/schedule.js';
import type { ScheduledSmartSyncResult } from '../../workflows/scheduled-smart-sync.js';
import { type ApiServer, startApi } from '../api/support.js';
import { type CliProcess, cliEnv, describeRun, startCli } from '../cli/support.js';
import { diffMirror } from '../support/compare.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { replayAndCapture } from '../support/replay-capture.js';
import { createTestStack, mirrorFingerprint, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

/** The innermost failure of a failed workflow: the activity's ApplicationFailure, with its type. */
function innermost(error: unknown): ApplicationFailure {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (!(current instanceof ApplicationFailure)) throw new Error(`not an application failure: ${String(current)}`);
  return current;
}

async function runRow(sql: Sql, runId: string) {
  const [row] = await sql`select status, error, counts, completed_at from sync_runs where id = ${runId}`;
  return row;
}

/** Pages a run has committed (its walks' sequences) and the sync_log rows it wrote. */
async function written(sql: Sql, runId: string): Promise<{ pages: number; logRows: number }> {
  const [walks] = await sql`select coalesce(sum(seq), 0)::int as n from sync_walks where run_id = ${runId}`;
  const [log] = await sql`select count(*)::int as n from sync_log where run_id = ${runId}`;
  return { pages: Number(walks?.n), logRows: Number(log?.n) };
}

/** The activities an execution ran, in order, each with the attempt it ended on. */
async function activityAttempts(stack: TestStack, workflowId: string, runId: string): Promise<string[]> {
  const history = await stack.client.workflow.getHandle(workflowId, runId).fetchHistory();
  const names = new Map<string, string>();
  const attempts: string[] = [];
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) names.set(String(event.eventId), scheduled);
    const started = event.activityTaskStartedEventAttributes;
    if (started) attempts.push(`${names.get(String(started.scheduledEventId))}#${started.attempt}`);
  }
  return attempts;
}

describe('two deployments on one database (chaos case 8)', () => {
  let a: TestStack;
  let b: TestStack;
  beforeAll(async () => {
    a = await createTestStack({ seed: 8, scale: 'tiny' });
    // B: its own workflow id, task queue and pool, on A's database; it reads A's Stash.
    const pool = connect(a.db.url, { max: 5, applicationName: 'stash-mirror test deployment B' });
    const shared: TestDatabase = { url: a.db.url, sql: pool, drop: () => pool.end({ timeout: 5 }) };
    b = await createTestStack({ seed: 1, scale: 'tiny' }, undefined, { database: shared });
    await a.startWorker({ pageSize: 5 });
    await b.startWorker({ pageSize: 5, stashUrl: a.stashUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('refuses B while A runs, writes nothing for B, and lets B take over at once when A is terminated', async () => {
    const { sql } = a.db;
    expect(b.workflowId).not.toBe(a.workflowId);
    a.simulator.control.setFaults({ latencyMs: 250 });
    const runA = await a.startFull();
    await waitFor(async () => ((await written(sql, runA.syncRunId)).pages >= 2 ? true : undefined), 60_000);
    const held = await readLease(sql);
    expect(held.holder).toEqual({
      runId: runA.syncRunId,
      workflowId: a.workflowId,
      temporalRunId: runA.runId,
      namespace: 'default',
    });

    // B's start: refused by its first activity, non-retryably, naming A's run.
    const refusedAt = Date.now();
    const refused = await b.startFull();
    const failure: unknown = await refused.result().then(
      () => null,
      (error: unknown) => error,
    );
    const refusedMs = Date.now() - refusedAt;
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const cause = innermost(failure);
    expect(cause.type).toBe('SyncLeaseHeldError');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain(`run ${runA.syncRunId} (workflow ${a.workflowId}, Temporal run ${runA.runId}`);
    expect(cause.message).toContain('still running in Temporal');
    // Its start and its end, each on the first attempt (not retried), and nothing else: no walk,
    // probe or post-processing.
    expect(await activityAttempts(b, b.workflowId, refused.runId)).toEqual(['recordRunStart#1', 'recordRunEnd#1']);
    const refusedRow = await runRow(sql, refused.syncRunId);
    expect(refusedRow).toMatchObject({ status: 'failed', counts: {} });
    expect(refusedRow?.error).toBe(cause.message);
    expect(await written(sql, refused.syncRunId)).toEqual({ pages: 0, logRows: 0 });
    expect((await readLease(sql)).holder?.runId).toBe(runA.syncRunId);

    // Terminated from Temporal (the Web UI's Terminate): no workflow code runs, nothing is recorded.
    await a.client.workflow.getHandle(a.workflowId).terminate('chaos case 8: terminated from the Web UI');
    expect((await runRow(sql, runA.syncRunId))?.status).toBe('running');
    a.simulator.control.clearFaults();

    const takeoverAt = Date.now();
    const takeover = await b.startFull();
    const lease = await waitFor(async () => {
      const current = await readLease(sql);
      return current.holder?.runId === takeover.syncRunId ? current : undefined;
    }, 30_000);
    const takeoverMs = Date.now() - takeoverAt;
    // Not the TTL (10 minutes): Temporal was asked. Bounded loosely for a loaded machine.
    expect(takeoverMs).toBeLessThan(60_000);
    const abandoned = await runRow(sql, runA.syncRunId);
    expect(abandoned?.status).toBe('failed');
    expect(abandoned?.completed_at).toBeInstanceOf(Date);
    expect(abandoned?.error).toBe(
      `terminated outside stash-mirror: Temporal reports its workflow TERMINATED, so its end was never recorded; run ${takeover.syncRunId} took its sync lease over`,
    );

    const summary = await takeover.result();
    expect(summary.status).toBe('completed');
    expect(await diffMirror(sql, a.simulator, a.stashUrl)).toEqual([]);
    expect((await readLease(sql)).holder).toBeNull();
    // A's activities outlive its termination for a moment (until a heartbeat tells them); none of
    // their transactions began after B took the lease and still committed.
    const [lastOfA] = await sql`select max(created_at) as at from sync_log where run_id = ${runA.syncRunId}`;
    if (lastOfA?.at) expect((lastOfA.at as Date).getTime()).toBeLessThanOrEqual(lease.acquiredAt?.getTime() ?? 0);
    const pagesOfA = await written(sql, runA.syncRunId);
    console.log(
      `[chaos] case 8: B refused in ${refusedMs} ms; B took over from terminated A in ${takeoverMs} ms; ` +
        `A wrote ${pagesOfA.logRows} sync_log rows before; B: ${summary.pages} pages`,
    );

    const latestOfA: WorkflowExecutionDescription = await a.client.workflow.getHandle(a.workflowId).describe();
    expect(latestOfA.status.name).toBe('TERMINATED');
    const address = inject('temporalAddress');
    const terminatedEvents = await replayAndCapture({
      temporalAddress: address,
      workflowId: a.workflowId,
      runId: latestOfA.runId,
      name: 'run-guard-terminated',
    });
    const refusedEvents = await replayAndCapture({
      temporalAddress: address,
      workflowId: b.workflowId,
      runId: refused.runId,
      name: 'run-guard-refused',
    });
    console.log(`[chaos] case 8: replayed ${terminatedEvents} + ${refusedEvents} events`);
  }, 240_000);

  it('fences a run whose lease was taken behind its back: its next commit aborts instead of writing', async () => {
    const { sql } = a.db;
    a.simulator.control.setFaults({ latencyMs: 250 });
    const run = await a.startFull();
    try {
      await waitFor(async () => ((await written(sql, run.syncRunId)).pages >= 2 ? true : undefined), 60_000);
      // The lease forced to another holder (what a TTL takeover by another deployment amounts to).
      const intruder = {
        runId: `stash-mirror-sync-elsewhere/${randomUUID()}`,
        workflowId: 'stash-mirror-sync-elsewhere',
        temporalRunId: randomUUID(),
        namespace: 'default',
      };
      const forced = await withSyncTransaction(sql, (tx) =>
        takeLease(tx, intruder, { kind: 'from', holderRunId: run.syncRunId }),
      );
      expect(forced).toBe(true);
      // Every commit of the run that took the lease row before the takeover is in this picture;
      // none after it may add to it.
      const before = { mirror: await mirrorFingerprint(sql), written: await written(sql, run.syncRunId) };

      const failure: unknown = await run.result().then(
        () => null,
        (error: unknown) => error,
      );
      const cause = innermost(failure);
      expect(cause.type).toBe('SyncLeaseLostError');
      expect(cause.nonRetryable).toBe(true);
      expect(cause.message).toBe(
        `run ${run.syncRunId} lost the database's sync lease to run ${intruder.runId} (workflow ${intruder.workflowId}, Temporal run ${intruder.temporalRunId}, namespace default) since ${(await readLease(sql)).acquiredAt?.toISOString()}: it stops here without writing (one main sync at a time per database)`,
      );
      expect(await mirrorFingerprint(sql)).toEqual(before.mirror);
      expect(await written(sql, run.syncRunId)).toEqual(before.written);
      expect(await runRow(sql, run.syncRunId)).toMatchObject({ status: 'failed', error: cause.message });
      // The run's end frees only a lease it holds.
      expect((await readLease(sql)).holder?.runId).toBe(intruder.runId);
      console.log(`[chaos] case 8 fence: ${before.written.pages} pages committed before the takeover, none after`);
    } finally {
      a.simulator.control.clearFaults();
    }

    // The intruder has no sync_runs row (it is "finished"): the next start takes the lease and the
    // mirror ends equal.
    const next = await a.startFull();
    expect((await next.result()).status).toBe('completed');
    expect(await diffMirror(sql, a.simulator, a.stashUrl)).toEqual([]);
    expect((await readLease(sql)).holder).toBeNull();
  }, 180_000);
});

/**
 * Each `stash-mirror` process costs seconds of CPU to start (tsx, the Temporal client): six keep
 * the burst bounded on a shared two-core machine; the API makes up the fifty.
 */
const CLI_STARTS = 6;

describe('50 starts through the API and the CLI while the schedule fires (chaos case 8)', () => {
  let stack: TestStack;
  let api: ApiServer;
  let clis: CliProcess[] = [];
  beforeAll(async () => {
    stack = await createTestStack({ seed: 88, scale: 'tiny' });
    await stack.startWorker({ pageSize: 5 });
    api = await startApi(stack);
    // A long interval: the tick below is the only one.
    await ensureSmartSyncSchedule(stack.client, {
      taskQueue: stack.taskQueue,
      syncWorkflowId: stack.workflowId,
      intervalSeconds: 3600,
    });
  });
  afterAll(async () => {
    // A failed or timed-out test must not leave the commands running past this file.
    for (const cli of clis) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
    await api?.close();
    await stack?.close();
  });

  it('starts exactly one run; every other caller is refused naming it', async () => {
    const { sql } = stack.db;
    // Slow Stash while the callers race, so the winner is still running when the last one asks.
    stack.simulator.control.setFaults({ latencyMs: 1000 });
    const began = Date.now();
    const env = cliEnv(stack);
    clis = Array.from({ length: CLI_STARTS }, () => startCli(['sync', 'smart'], env));
    const since = new Date(Date.now() - 3600_000).toISOString();
    // Every kind of main sync: they all share the one workflow id.
    const paths: Array<[string, unknown]> = Array.from({ length: 50 - CLI_STARTS }, (_, i): [string, unknown] =>
      i % 4 === 0
        ? ['/api/sync/full', {}]
        : i % 4 === 1
          ? ['/api/sync/incremental', { since }]
          : ['/api/sync/smart', {}],
    );
    /** When each caller had its answer (ms after the start): the spread shows how "at once" it was. */
    const apiMs: number[] = [];
    const cliMs: number[] = [];
    const [responses, , cliResults] = await Promise.all([
      Promise.all(
        paths.map(async ([path, body]) => {
          const response = await api.request<{ runId?: string; runningRunId?: string | null; error?: string }>(
            'POST',
            path,
            { body },
          );
          apiMs.push(Date.now() - began);
          return response;
        }),
      ),
      triggerSmartSyncSchedule(stack.client, stack.workflowId),
      Promise.all(
        clis.map(async (cli) => {
          const result = await cli.done;
          cliMs.push(Date.now() - began);
          return result;
        }),
      ),
    ]);
    const tickId = await waitFor(
      async () => (await describeSmartSyncSchedule(stack.client, stack.workflowId))?.recentRuns[0]?.workflowId,
      30_000,
    );
    const tickResult = (await stack.client.workflow.getHandle(tickId).result()) as ScheduledSmartSyncResult;

    const byStatus = new Map<number, number>();
    for (const response of responses) byStatus.set(response.status, (byStatus.get(response.status) ?? 0) + 1);
    const spread = (ms: number[]) => `${Math.min(...ms)}–${Math.max(...ms)} ms`;
    console.log(
      `[chaos] case 8 starts: API ${JSON.stringify([...byStatus])} answered ${spread(apiMs)}, CLIs exited ${spread(cliMs)}`,
    );
    const accepted = responses.filter((response) => response.status === 202);
    const startedByCli = cliResults.filter((result) => result.code === 0);
    const winners = accepted.length + startedByCli.length + (tickResult.started ? 1 : 0);
    expect(winners, cliResults.map(describeRun).join('\n')).toBe(1);
    const winner =
      accepted[0]?.body.runId ??
      (tickResult.started ? tickResult.runId : startedByCli[0]?.lines[0]?.replace(/^started smart sync /, ''));
    expect(winner).toMatch(new RegExp(`^${stack.workflowId}/[0-9a-f-]{36}$`));

    for (const response of responses.filter((r) => r.status !== 202)) {
      expect(response.status).toBe(409);
      expect(response.body).toEqual({ error: 'another sync is already running', runningRunId: winner });
    }
    for (const result of cliResults.filter((r) => r.code !== 0)) {
      expect(result.code, describeRun(result)).toBe(2);
      expect(result.lines).toEqual([`another sync is running (${winner})`]);
    }
    if (!tickResult.started) {
      expect(await runRow(sql, tickResult.runId)).toMatchObject({
        status: 'skipped',
        error: `skipped: another sync (${stack.workflowId}) was running`,
      });
    }

    stack.simulator.control.clearFaults();
    const handle = stack.client.workflow.getHandle(stack.workflowId);
    await handle.result();
    const runs = await sql`
      select id, sync_type, status, trigger from sync_runs where status <> 'skipped' and sync_type <> 'specific'`;
    expect(runs.map((run) => run.id)).toEqual([winner]);
    expect(runs[0]?.status).toBe('completed');
    const executions: string[] = [];
    for await (const execution of stack.client.workflow.list({ query: `WorkflowId = "${stack.workflowId}"` })) {
      executions.push(execution.runId);
    }
    expect(executions).toHaveLength(1);
    expect(await diffMirror(sql, stack.simulator, stack.stashUrl)).toEqual([]);
    expect((await readLease(sql)).holder).toBeNull();
    console.log(
      `[chaos] case 8 starts: winner ${runs[0]?.sync_type} via ${runs[0]?.trigger}; ` +
        `409s ${responses.length - accepted.length}, CLI exit 2: ${cliResults.length - startedByCli.length}, tick ${tickResult.started ? 'started' : 'skipped'}`,
    );
  }, 240_000);
});

describe('the lease without Temporal: TTL, fence and adoption', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('lease');
  });
  afterAll(async () => {
    await db?.drop();
  });

  const run = (name: string, syncType: 'full' | 'smart' | 'specific' = 'full') => {
    const temporalRunId = randomUUID();
    return { id: `${name}/${temporalRunId}`, workflowId: name, temporalRunId, syncType, trigger: 'test' };
  };
  /** A mirror write in a sync transaction (sync_state's tag row stamped), as run `runId` would make it. */
  const write = (runId: string, stamp: string) =>
    fenced({ runId, syncType: 'full' }, () =>
      withSyncTransaction(db.sql, (tx) => tx`update sync_state set updated_at = ${stamp} where entity_type = 'tag'`),
    );
  const stampOfTags = async () => {
    const [row] = await db.sql`select updated_at from sync_state where entity_type = 'tag'`;
    return (row?.updated_at as Date | undefined)?.toISOString();
  };

  it('refuses while the holder renews, takes over after the TTL, fences the old holder, frees at the end', async () => {
    const deps = { sql: db.sql };
    const first = run('deployment-a');
    await startRun(deps, first);
    expect((await readLease(db.sql)).holder?.runId).toBe(first.id);
    await startRun(deps, first); // a retried start keeps it
    // A single-entity sync neither takes nor needs it.
    await startRun(deps, run('deployment-b:scene:1', 'specific'));

    const second = run('deployment-b');
    const refusal = await startRun(deps, second).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(SyncLeaseHeldError);
    expect((refusal as Error).message).toMatch(
      new RegExp(
        `^another sync holds this database's sync lease: run ${first.id} \\(workflow deployment-a, Temporal run ${first.temporalRunId}\\) since .+, last renewed \\d+ s ago; this worker cannot ask Temporal whether it still runs, so it is taken over only after ${DEFAULT_LEASE_TTL_SECONDS} s without renewal; this run stops without writing$`,
      ),
    );
    expect(await runRow(db.sql, second.id)).toMatchObject({ status: 'failed', error: (refusal as Error).message });

    await write(first.id, '2001-01-01T00:00:00Z');
    expect(await stampOfTags()).toBe('2001-01-01T00:00:00.000Z');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const third = run('deployment-c');
    await startRun({ ...deps, leaseTtlSeconds: 1 }, third);
    expect((await readLease(db.sql)).holder?.runId).toBe(third.id);
    expect((await runRow(db.sql, first.id))?.error).toMatch(
      new RegExp(
        `^abandoned: it had not renewed its sync lease for \\d+ s \\(more than 1 s\\) and this worker cannot ask Temporal whether it still runs; run ${third.id} took the lease over$`,
      ),
    );

    const lost = await write(first.id, '2002-02-02T00:00:00Z').then(
      () => null,
      (error: unknown) => error,
    );
    expect(lost).toBeInstanceOf(SyncLeaseLostError);
    expect(await stampOfTags()).toBe('2001-01-01T00:00:00.000Z');
    const renewedBefore = (await readLease(db.sql)).renewedAt?.getTime() ?? 0;
    await write(third.id, '2003-03-03T00:00:00Z');
    expect(await stampOfTags()).toBe('2003-03-03T00:00:00.000Z');
    expect((await readLease(db.sql)).renewedAt?.getTime()).toBeGreaterThan(renewedBefore);

    await endRun(db.sql, first.id, 'failed', 'lost'); // not the holder: frees nothing
    expect((await readLease(db.sql)).holder?.runId).toBe(third.id);
    await endRun(db.sql, third.id, 'completed', null);
    expect((await readLease(db.sql)).holder).toBeNull();
  });

  it('is adopted by a run in flight across the upgrade, never by one that was taken over', async () => {
    // Started before the lease existed: recorded as running, never took it.
    const inFlight = run('deployment-old');
    await withSyncTransaction(db.sql, (tx) => recordRunStart(tx, inFlight));
    await write(inFlight.id, '2004-04-04T00:00:00Z');
    expect((await readLease(db.sql)).holder).toEqual({
      runId: inFlight.id,
      workflowId: inFlight.workflowId,
      temporalRunId: inFlight.temporalRunId,
      namespace: null,
    });
    await endRun(db.sql, inFlight.id, 'completed', null);
    // Ended (as a taken-over run is): a late write finds the lease free and still may not take it.
    await expect(write(inFlight.id, '2005-05-05T00:00:00Z')).rejects.toBeInstanceOf(SyncLeaseLostError);
    expect(await stampOfTags()).toBe('2004-04-04T00:00:00.000Z');
  });
});
