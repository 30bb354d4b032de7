/**
 * Chaos case 4 of issue 13: Stash down for longer than the retry budget. The run fails within a
 * bounded time with one readable line (in sync_runs.error and in the workflow's failure), the
 * walks keep their last committed cursor, and once Stash is back the next full sync resumes from
 * there, asking Stash for fewer pages than a full sync from scratch.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListeningSimulator } from '../../simulator/index.js';
import type { PageCursor } from '../../stash/cursor.js';
import { diffMirror } from '../support/compare.js';
import { replayAndCapture } from '../support/replay-capture.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const PAGE_SIZE = 50;
const BUDGET_SECONDS = 5;

type WalkSnapshot = { key: string; entityType: string; cursor: PageCursor; seq: number; done: boolean };
type PageVariables = { filter?: { per_page?: number }; entity_filter?: { id?: { value: number; modifier: string } } };

describe('Stash down for longer than the retry budget (chaos case 4)', () => {
  let stack: TestStack;
  // The worker reaches Stash through a listener of its own, which the test closes (connections
  // refused, as when Stash stops) and opens again on the same port. diffMirror keeps using the
  // stack's own listener.
  let workerStash: ListeningSimulator | undefined;
  let port = 0;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 44, scale: 'small' });
    workerStash = await stack.simulator.listen({ port: 0 });
    port = Number(new URL(workerStash.url).port);
    await stack.startWorker({
      pageSize: PAGE_SIZE,
      stashUrl: workerStash.url,
      stashUnavailableBudgetSeconds: BUDGET_SECONDS,
    });
  });
  afterAll(async () => {
    await workerStash?.close();
    await stack?.close();
  });

  it('fails readably, keeps its cursor, and the next run resumes with fewer requests', async () => {
    const { sql } = stack.db;
    const { simulator } = stack;
    const began = Date.now();
    const walks = async (): Promise<WalkSnapshot[]> => {
      const rows = await sql`
        select entity_type, phase, walk, cursor, seq, done from sync_walks
        where sync_type = 'full' order by entity_type, phase, walk`;
      return rows.map((row) => ({
        key: `${row.entity_type}/${row.phase}/${row.walk}`,
        entityType: String(row.entity_type),
        cursor: row.cursor as PageCursor,
        seq: Number(row.seq),
        done: Boolean(row.done),
      }));
    };
    const stateRows = async () =>
      sql`select entity_type, high_water_mark_raw, last_full_sync_at, resume_cursor from sync_state order by entity_type`;
    const stateBefore = await stateRows();

    // Slow pages a little, so the outage lands in the middle of the scene walks.
    simulator.control.setFaults({ latencyMs: 40 });
    const first = await stack.startFull();
    await waitFor(async () => {
      const scene = (await walks()).filter((walk) => walk.key.startsWith('scene/walk/'));
      return scene.length > 0 && scene.every((walk) => walk.seq >= 2) ? true : undefined;
    }, 120_000);

    // Stash goes away: every connection is cut, every new one refused.
    const down = Date.now();
    await workerStash?.close();
    workerStash = undefined;
    const failure = await first.result().then(
      () => {
        throw new Error('the run completed although Stash was down');
      },
      (error: unknown) => error,
    );
    const failedAfterMs = Date.now() - down;
    // Budget 5 s; the backoff (1, 2, 4 s) gives up at the first attempt past it; then the run's end is recorded.
    expect(failedAfterMs).toBeLessThan(60_000);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const readable = new RegExp(
      `^Stash at http://127\\.0\\.0\\.1:${port} has been unreachable for (\\d+) s \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\), longer than STASH_UNAVAILABLE_BUDGET_SECONDS=${BUDGET_SECONDS}; the next sync resumes from the last committed page$`,
    );
    const reason = innermostMessage(failure);
    expect(reason).toMatch(readable);
    expect(Number(readable.exec(reason)?.[1])).toBeGreaterThan(BUDGET_SECONDS - 1);
    let cause: unknown = failure;
    while (cause instanceof Error && !(cause instanceof ApplicationFailure)) cause = cause.cause;
    expect(cause).toBeInstanceOf(ApplicationFailure);
    expect((cause as ApplicationFailure).type).toBe('StashOutageError');
    expect((cause as ApplicationFailure).nonRetryable).toBe(true);
    const [run] = await sql`select status, error from sync_runs where id = ${first.syncRunId}`;
    expect(run?.status).toBe('failed');
    expect(run?.error).toBe(reason);

    // The walks keep their last committed cursor: every entity up to it is stored, none past it.
    const kept = await walks();
    const keptScene = kept.filter((walk) => walk.key.startsWith('scene/walk/'));
    expect(keptScene.length).toBeGreaterThan(0);
    const sceneIds = [...simulator.library.scenes.keys()];
    const storedScenes = new Set((await sql`select id from scenes`).map((row) => Number(row.id)));
    let pagesKept = 0;
    // Walk n reads the id range after walk n-1's upper bound (sync_walks rows come in walk order).
    let rangeStart = 0;
    for (const walk of keptScene) {
      const cursor = walk.cursor;
      if (cursor.kind !== 'id') throw new Error(`scene walk ${walk.key} has a ${cursor.kind} cursor`);
      expect(walk.seq).toBeGreaterThanOrEqual(2);
      expect(walk.done).toBe(false);
      pagesKept += walk.seq;
      const low = rangeStart;
      const upTo = cursor.upTo ?? Number.MAX_SAFE_INTEGER;
      rangeStart = upTo;
      const inRange = sceneIds.filter((id) => id > low && id <= upTo);
      const upToCursor = inRange.filter((id) => id <= cursor.afterId);
      const pastCursor = inRange.filter((id) => id > cursor.afterId);
      expect(pastCursor.length).toBeGreaterThan(0);
      expect(pastCursor.filter((id) => storedScenes.has(id))).toEqual([]);
      expect(upToCursor.filter((id) => !storedScenes.has(id))).toEqual([]);
    }
    // No type finished in this run moved its mark past what it read; unfinished types kept theirs.
    const stateAfter = await stateRows();
    for (const [index, after] of stateAfter.entries()) {
      const before = stateBefore[index];
      const walking = kept.some((walk) => walk.entityType === after.entity_type && !walk.done);
      if (walking) {
        expect(after.high_water_mark_raw).toBe(before?.high_water_mark_raw);
        expect(after.last_full_sync_at).toEqual(before?.last_full_sync_at);
        expect(after.resume_cursor).not.toBeNull();
      }
    }

    // Stash is back, on the same address. The next full sync takes the walks over.
    simulator.control.clearFaults();
    workerStash = await relisten(stack, port);
    simulator.resetStats();
    const second = await stack.startFull();
    const secondSummary = await second.result();
    expect(secondSummary.status).toBe('completed');
    const resumed = requestFigures(simulator.stats().recent, simulator.stats().total);
    // Each scene walk's first page of the resumed run starts at its kept cursor, not at the start.
    for (const walk of keptScene) {
      if (walk.cursor.kind !== 'id') continue;
      const afterId = walk.cursor.afterId;
      const starts = resumed.scenePages.filter((variables) => {
        const id = variables.entity_filter?.id;
        return id && (id.modifier === 'BETWEEN' ? id.value === afterId + 1 : id.value === afterId);
      });
      expect(starts.length, `scene walk ${walk.key} resumed after id ${afterId}`).toBe(1);
    }
    const [secondRun] = await sql`select status, error from sync_runs where id = ${second.syncRunId}`;
    expect(secondRun).toEqual({ status: 'completed', error: null });
    expect(await diffMirror(sql, simulator, stack.stashUrl)).toEqual([]);
    const [leftover] = await sql`select count(*)::int as n from sync_walks where sync_type = 'full'`;
    expect(leftover?.n).toBe(0);

    // The same library read by a full sync from scratch (its walks start over), for comparison.
    simulator.resetStats();
    await (await stack.startFull()).result();
    const fresh = requestFigures(simulator.stats().recent, simulator.stats().total);
    expect(resumed.scenePages.length).toBeLessThanOrEqual(fresh.scenePages.length - pagesKept + keptScene.length);
    expect(resumed.pageRequests).toBeLessThan(fresh.pageRequests);
    expect(resumed.total).toBeLessThan(fresh.total);

    const firstEvents = await replayAndCapture({
      temporalAddress: stack.temporalAddress,
      workflowId: first.workflowId,
      runId: first.runId,
      name: 'stash-down',
    });
    const secondEvents = await replayAndCapture({
      temporalAddress: stack.temporalAddress,
      workflowId: second.workflowId,
      runId: second.runId,
      name: 'stash-down-resume',
    });
    console.log(
      `[chaos] stash-down: budget ${BUDGET_SECONDS} s, run failed ${(failedAfterMs / 1000).toFixed(1)} s after Stash went down; ` +
        `kept ${pagesKept} scene pages in ${keptScene.length} walk(s), ${kept.filter((walk) => !walk.done).length} unfinished walks; ` +
        `resumed run ${resumed.pageRequests} page requests (${resumed.scenePages.length} scene) / ${resumed.total} requests ` +
        `vs fresh ${fresh.pageRequests} (${fresh.scenePages.length} scene) / ${fresh.total}; ` +
        `replayed ${firstEvents} + ${secondEvents} events; ${((Date.now() - began) / 1000).toFixed(1)} s; error: ${reason}`,
    );
  }, 480_000);
});

/** Walk pages (page-sized list requests, not id scans, counts or by-id reads) among recorded requests. */
function requestFigures(
  recent: Array<{ field: string; variables: Record<string, unknown> }>,
  total: number,
): { pageRequests: number; scenePages: PageVariables[]; total: number } {
  // The recorder keeps the last ~1000 requests: a run must fit, or the figures would be cut.
  expect(recent.length).toBeLessThan(1000);
  const pages = recent.filter((request) => (request.variables as PageVariables).filter?.per_page === PAGE_SIZE);
  return {
    pageRequests: pages.length,
    scenePages: pages
      .filter((request) => request.field === 'findScenes')
      .map((request) => request.variables as PageVariables)
      .filter((variables) => variables.entity_filter?.id),
    total,
  };
}

/** The innermost cause's message: what the run records as its error (workflows/sync-run.ts describeFailure). */
function innermostMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

/** Opens the simulator again on the port it had (another process may hold it for a moment). */
async function relisten(stack: TestStack, port: number): Promise<ListeningSimulator> {
  return waitFor(
    () =>
      stack.simulator.listen({ port }).then(
        (listening) => listening,
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'EADDRINUSE') return undefined;
          throw error;
        },
      ),
    30_000,
    250,
  );
}
