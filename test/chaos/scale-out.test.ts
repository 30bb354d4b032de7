/**
 * Chaos case 9 of issue 13: two workers on one task queue share one full sync (scale out). The
 * run finishes, both workers did some of its activities (their identities, which carry the pid,
 * are in the history's ActivityTaskStarted events), and the mirror equals Stash with every
 * entity logged once.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITY_TABLES, ENTITY_TYPES } from '../../stash/entity-types.js';
import type { SyncRunSummary } from '../../workflows/sync-run.js';
import { diffMirror } from '../support/compare.js';
import { replayAndCapture } from '../support/replay-capture.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { killProcess, startWorkerProcess } from '../support/worker-process.js';

type WorkerProcess = ReturnType<typeof startWorkerProcess>;
/** One event of a fetched history (the client's own type, without importing the proto package). */
type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** Every event of every execution of a run's chain (continue-as-new followed), and the run ids. */
async function chainHistory(
  stack: TestStack,
  workflowId: string,
  firstRunId: string,
): Promise<{ events: HistoryEvent[]; runIds: string[] }> {
  const events: HistoryEvent[] = [];
  const runIds: string[] = [];
  for (let runId: string | undefined = firstRunId; runId; ) {
    runIds.push(runId);
    const history = await stack.client.workflow.getHandle(workflowId, runId).fetchHistory();
    events.push(...(history.events ?? []));
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return { events, runIds };
}

/** Which worker identity started which activity, by activity type: identity -> type -> attempts started. */
function activitiesByIdentity(events: HistoryEvent[]): Map<string, Map<string, number>> {
  const typeOf = new Map<string, string>();
  const byIdentity = new Map<string, Map<string, number>>();
  for (const event of events) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(event.eventId), scheduled.activityType?.name ?? '?');
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const identity = started.identity ?? '?';
      const type = typeOf.get(String(started.scheduledEventId)) ?? '?';
      const counts = byIdentity.get(identity) ?? new Map<string, number>();
      counts.set(type, (counts.get(type) ?? 0) + 1);
      byIdentity.set(identity, counts);
    }
  }
  return byIdentity;
}

/** Each attempt of a walk activity: which worker ran it, from when to when (history event times). */
function walkAttempts(events: HistoryEvent[]): Array<{ identity: string; from: number; to: number }> {
  const walks = new Set<string>();
  const started = new Map<string, { identity: string; from: number }>();
  const attempts: Array<{ identity: string; from: number; to: number }> = [];
  for (const event of events) {
    const id = String(event.eventId);
    if (event.activityTaskScheduledEventAttributes?.activityType?.name === 'walk') walks.add(id);
    const start = event.activityTaskStartedEventAttributes;
    if (start && walks.has(String(start.scheduledEventId))) {
      started.set(id, { identity: start.identity ?? '?', from: tsToMs(event.eventTime) });
    }
    const end =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    const attempt = end ? started.get(String(end.startedEventId)) : undefined;
    if (attempt) attempts.push({ ...attempt, to: tsToMs(event.eventTime) });
  }
  return attempts;
}

describe('two workers on one task queue sharing one full sync (chaos case 9)', () => {
  let stack: TestStack;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    stack = await createTestStack({ seed: 9, scale: 'small' });
  });
  afterAll(async () => {
    for (const worker of workers) await killProcess(worker);
    await stack?.close();
  });

  it('finishes with activities run on both workers, the mirror equal and every entity logged once', async () => {
    const began = Date.now();
    const { sql } = stack.db;
    const library = stack.simulator.library;
    // Both started before the run, both polling before it starts: neither finds the run half done.
    workers.push(startWorkerProcess(stack), startWorkerProcess(stack));
    await Promise.all(
      workers.map((worker) =>
        waitFor(
          async () => {
            if (worker.exitCode !== null) throw new Error(`worker exited: ${worker.stderrTail()}`);
            return worker.stderrTail().includes('polling task queue') ? true : undefined;
          },
          120_000,
          100,
        ),
      ),
    );
    // Slow pages: each walk activity holds its worker for seconds, so the walks running at once
    // (two id ranges of galleries, scenes, images) spread over both workers' slots.
    stack.simulator.control.setFaults({ latencyMs: 25 });
    const started = await stack.startFull();
    let timer: NodeJS.Timeout | undefined;
    const summary: SyncRunSummary = await Promise.race([
      started.result(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`no result in 180 s; workers: ${workers.map((w) => w.stderrTail().slice(-1500)).join('\n')}`),
            ),
          180_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    stack.simulator.control.clearFaults();
    expect(summary.runId).toBe(started.syncRunId);
    const [run] = await sql`select status, counts from sync_runs where id = ${started.syncRunId}`;
    expect(run?.status).toBe('completed');

    // Both workers ran activities of this one run, walks among them. A worker's identity is
    // "<pid>@<host>" (the SDK's default), so each is told apart by its process id.
    const { events, runIds } = await chainHistory(stack, started.workflowId, started.runId);
    const byIdentity = activitiesByIdentity(events);
    const perWorker = workers.map((worker) => {
      const identity = [...byIdentity.keys()].find((name) => name.startsWith(`${worker.pid}@`));
      return { pid: worker.pid, identity, activities: identity ? byIdentity.get(identity) : undefined };
    });
    expect(
      perWorker.map(({ identity }) => identity !== undefined),
      `identities in the history: ${[...byIdentity.keys()].join(', ')}`,
    ).toEqual([true, true]);
    expect(byIdentity.size).toBe(2);
    for (const { activities } of perWorker) expect(activities?.get('walk') ?? 0).toBeGreaterThan(0);
    // And at the same time: some walk ran on one worker while another walk ran on the other.
    const attempts = walkAttempts(events);
    const together = attempts.filter((a) =>
      attempts.some((b) => a.identity !== b.identity && a.from < b.to && b.from < a.to),
    ).length;
    expect(together).toBeGreaterThan(0);

    // Each entity created exactly once by the run, no change logged twice, counts agree.
    const duplicates = await sql`
      select entity_type, entity_id, change_type, count(*)::int as n from sync_log
      where run_id = ${started.syncRunId} and entity_id is not null
      group by 1, 2, 3 having count(*) > 1 limit 10`;
    expect(duplicates).toEqual([]);
    for (const type of ENTITY_TYPES) {
      const size = library[ENTITY_TABLES[type]].size;
      const [created] = await sql`
        select count(*)::int as n, count(distinct entity_id)::int as ids from sync_log
        where run_id = ${started.syncRunId} and entity_type = ${type} and change_type = 'created'`;
      expect({ type, created: created?.n, ids: created?.ids }).toEqual({ type, created: size, ids: size });
      expect(Number(run?.counts[type]?.created), `${type}: run counts`).toBe(size);
    }
    const [failed] = await sql`
      select count(*)::int as n from sync_log
      where run_id = ${started.syncRunId} and change_type in ('failed', 'updated', 'deleted', 'revived')`;
    expect(failed?.n).toBe(0);

    expect(await diffMirror(sql, stack.simulator, stack.stashUrl)).toEqual([]);
    expect(await sql`select entity_type from sync_walks`).toEqual([]);

    let replayed = 0;
    for (const [index, runId] of runIds.entries()) {
      replayed += await replayAndCapture({
        temporalAddress: stack.temporalAddress,
        workflowId: started.workflowId,
        runId,
        name: index === 0 ? 'scale-out' : `scale-out-${index + 1}`,
      });
    }

    const describeWorker = ({ pid, activities }: (typeof perWorker)[number]) =>
      `pid ${pid}: ${[...(activities ?? new Map<string, number>()).entries()].map(([type, n]) => `${type}×${n}`).join(' ')}`;
    const total = ENTITY_TYPES.reduce((sum, type) => sum + library[ENTITY_TABLES[type]].size, 0);
    console.log(
      `[chaos] scale-out: run ${started.syncRunId} completed in ${((Date.now() - began) / 1000).toFixed(0)} s ` +
        `with ${summary.pages} pages on 2 workers (${perWorker.map(describeWorker).join('; ')}; ` +
        `${together} of ${attempts.length} walk calls overlapped one on the other worker); ` +
        `${total} entities compared, 0 duplicates; ${replayed} history events replayed`,
    );
  }, 600_000);
});
