/**
 * Chaos case 1 of issue 13: the worker SIGKILLed five times at random points of one full sync at
 * scale `medium`. The same run finishes; no row, link or sync_log row is duplicated or missing.
 *
 * The kill points are seeded (CHAOS_SEED=<n> replays a pattern; the seed is printed either way):
 * four land at random progress points spread over the walks, after a random delay inside a page;
 * the fifth lands while reconciliation or post-processing runs (long activities, whose retry
 * after a crash waits out their one-minute heartbeat timeout).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../db/client.js';
import type { Library } from '../../simulator/index.js';
import { ENTITY_SPECS } from '../../stash/entities/index.js';
import { ENTITY_TABLES, ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import { lexicalLowerBound } from '../../stash/timestamps.js';
import { workflowBundle } from '../../worker/create-worker.js';
import type { SyncRunSummary } from '../../workflows/sync-run.js';
import { diffMirror } from '../support/compare.js';
import { replayAndCapture } from '../support/replay-capture.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { killProcess, startWorkerProcess } from '../support/worker-process.js';

type WorkerProcess = ReturnType<typeof startWorkerProcess>;

const SEED = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
const PAGE_SIZE = 200;
/** The worker's catch-up margin (worker/create-worker.ts default; the CLI worker passes none). */
const CATCH_UP_MARGIN_SECONDS = 2 * 3600;
/** Fractions of the library fetched at which the four walk-time kills may land: one per slice. */
const WALK_SLICES: Array<[number, number]> = [
  [0.03, 0.2],
  [0.25, 0.45],
  [0.5, 0.7],
  [0.75, 0.93],
];
/** The activities after the walks, in the order the workflow runs them. */
const LATE_ACTIVITIES = ['reconcileType', 'repairLinks', 'planRunPostProcess', 'postProcessStep', 'completeRun'];
/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED (the raw describe answer is numeric). */
const PENDING_ACTIVITY_STARTED = 2;

/** mulberry32: a small seeded generator, so a failing kill pattern can be run again. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects with `what` (and the worker's last words) if `promise` does not settle in time. */
async function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Each own-link table's pairs (owner id, target id) as the simulator's model holds them. */
function modelLinks(library: Library): Record<string, Array<[number, number]>> {
  const pairs = <T extends { id: number }>(rows: Map<number, T>, targets: (row: T) => number[]) =>
    [...rows.values()].flatMap((row) => targets(row).map((target): [number, number] => [row.id, target]));
  return {
    studio_tags: pairs(library.studios, (studio) => studio.tag_ids),
    tag_parents: pairs(library.tags, (tag) => tag.parent_ids),
    performer_tags: pairs(library.performers, (performer) => performer.tag_ids),
    group_tags: pairs(library.groups, (group) => group.tag_ids),
    group_relations: pairs(library.groups, (group) => group.containing_groups.map((parent) => parent.group_id)),
    gallery_performers: pairs(library.galleries, (gallery) => gallery.performer_ids),
    gallery_tags: pairs(library.galleries, (gallery) => gallery.tag_ids),
    scene_performers: pairs(library.scenes, (scene) => scene.performer_ids),
    scene_tags: pairs(library.scenes, (scene) => scene.tag_ids),
    scene_galleries: pairs(library.scenes, (scene) => scene.gallery_ids),
    scene_groups: pairs(library.scenes, (scene) => scene.groups.map((group) => group.group_id)),
    image_galleries: pairs(library.images, (image) => image.gallery_ids),
    image_performers: pairs(library.images, (image) => image.performer_ids),
    image_tags: pairs(library.images, (image) => image.tag_ids),
  };
}

/**
 * Every own-link table compared pair for pair with the model (a page applied twice, or a link
 * replacement cut short by a kill, shows here as extra or missing pairs). Returns the differing
 * tables and how many pairs were compared.
 */
async function diffLinkTables(
  sql: Sql,
  library: Library,
): Promise<{ differences: Array<{ table: string; missing: number; extra: number }>; compared: number }> {
  const expected = modelLinks(library);
  const tables = ENTITY_TYPES.flatMap((type) => ENTITY_SPECS[type].links);
  // A link table the model map does not know would be skipped silently: fail instead.
  expect(tables.map((link) => link.table).sort()).toEqual(Object.keys(expected).sort());
  const differences: Array<{ table: string; missing: number; extra: number }> = [];
  let compared = 0;
  for (const link of tables) {
    const rows = await sql.unsafe(
      `select ${link.ownerColumn}::int as owner, ${link.targetColumn}::int as target from ${link.table}`,
    );
    const stored = rows.map((row) => `${row.owner}:${row.target}`);
    const want = new Set((expected[link.table] ?? []).map(([owner, target]) => `${owner}:${target}`));
    const have = new Set(stored);
    compared += want.size;
    const missing = [...want].filter((pair) => !have.has(pair)).length;
    const extra = stored.length - [...have].filter((pair) => want.has(pair)).length;
    if (missing + extra > 0) differences.push({ table: link.table, missing, extra });
  }
  return { differences, compared };
}

describe('a full sync at scale medium whose worker is SIGKILLed five times (chaos case 1)', () => {
  let stack: TestStack;
  const workers: WorkerProcess[] = [];
  beforeAll(async () => {
    stack = await createTestStack({ seed: 13, scale: 'medium' });
  });
  afterAll(async () => {
    for (const worker of workers) await killProcess(worker);
    await stack?.close();
  });

  it('finishes the same run, with every row, link and sync_log row exactly once', async () => {
    // Printed first, so a run that fails half-way still tells how to replay its kill points.
    console.log(`worker-kills: seed ${SEED} (CHAOS_SEED=${SEED} replays these kill points)`);
    const began = Date.now();
    const random = seededRandom(SEED);
    const { sql } = stack.db;
    const library = stack.simulator.library;
    const sizes = Object.fromEntries(ENTITY_TYPES.map((type) => [type, library[ENTITY_TABLES[type]].size])) as Record<
      EntityType,
      number
    >;
    const total = Object.values(sizes).reduce((sum, size) => sum + size, 0);
    // What a full sync's catch-up reads again: rows updated from its start mark (the type's newest
    // updated_at) less the worker's catch-up margin, compared as Stash compares, lexically.
    const catchUpWindow = (type: EntityType) => {
      const stamps = [...library[ENTITY_TABLES[type]].values()].map((entity) => entity.updated_at);
      // Lexically newest: the default sort compares strings as Stash's filter does.
      const newest = [...stamps].sort().at(-1) ?? '';
      const since = lexicalLowerBound(newest, CATCH_UP_MARGIN_SECONDS) ?? '';
      return stamps.filter((stamp) => stamp >= since).length;
    };

    let worker: WorkerProcess;
    const startWorker = async () => {
      worker = startWorkerProcess(stack, { SYNC_PAGE_SIZE: String(PAGE_SIZE) });
      workers.push(worker);
      // The worker registers the search attributes the start needs; the first start waits for it.
      await waitFor(
        async () => {
          if (worker.exitCode !== null) throw new Error(`worker exited: ${worker.stderrTail()}`);
          return worker.stderrTail().includes('polling task queue') ? true : undefined;
        },
        240_000,
        100,
      );
    };
    await startWorker();
    const started = await stack.startFull();
    // The replay at the end needs the workflow bundle in this process: bundled while the run
    // runs, not after it (a failure here fails that replay, loudly).
    workflowBundle().catch(() => {});
    const handle = stack.client.workflow.getHandle(started.workflowId);
    const runStatus = async () => {
      const [row] = await sql`select status from sync_runs where id = ${started.syncRunId}`;
      return String(row?.status);
    };
    // Entities fetched by the run so far: its counts commit with each page.
    const fetched = async () => {
      const [row] = await sql`
        select coalesce(sum((value ->> 'fetched')::int), 0)::int as n
        from sync_runs, jsonb_each(counts) where id = ${started.syncRunId}`;
      return Number(row?.n ?? 0);
    };
    const runningActivities = async () => {
      const { raw } = await handle.describe();
      return (raw.pendingActivities ?? [])
        .filter((activity) => activity.state === PENDING_ACTIVITY_STARTED)
        .map((activity) => activity.activityType?.name ?? '?');
    };
    const kills: string[] = [];
    const seconds = () => `${((Date.now() - began) / 1000).toFixed(0)}s`;
    const kill = async (label: string) => {
      const running = await runningActivities();
      await killProcess(worker);
      const killedAt = Date.now();
      // The replacement starts at once: its start-up overlaps the heartbeat timeout the dead
      // worker's activities must run out before they are retried.
      const replacing = startWorker();
      expect(await runStatus()).toBe('running');
      await replacing;
      kills.push(
        `${label} at ${seconds()} [${running.join(',')}] replaced in ${((Date.now() - killedAt) / 1000).toFixed(0)}s`,
      );
      console.log(`worker-kills: kill ${kills.length}: ${kills.at(-1)}`);
    };

    // Four kills at random points spread over the walks, each after the replacement made progress.
    let floor = 0;
    for (const [low, high] of WALK_SLICES) {
      const threshold = Math.round(total * (low + random() * (high - low)));
      const delay = Math.floor(random() * 1500);
      await waitFor(
        async () => {
          const n = await fetched();
          return n >= threshold && n > floor ? n : undefined;
        },
        300_000,
        100,
      );
      // Anywhere inside the page in hand: fetching, writing or committing.
      await pause(delay);
      const before = await fetched();
      await kill(`${((100 * before) / total).toFixed(0)}%+${delay}ms`);
      floor = await fetched();
    }

    // The fifth while a long activity after the walks runs (seeded: reconcile or post-process).
    const target = random() < 0.5 ? 'reconcileType' : 'postProcessStep';
    const late = await waitFor(
      async () => {
        if ((await runStatus()) !== 'running') throw new Error('the run ended before the fifth kill');
        const running = await runningActivities();
        return running.find((name) => LATE_ACTIVITIES.indexOf(name) >= LATE_ACTIVITIES.indexOf(target));
      },
      300_000,
      100,
    );
    await kill(`${late} (aimed at ${target})`);
    expect(kills).toHaveLength(5);

    const summary: SyncRunSummary = await within(
      started.result(),
      300_000,
      () => `the run after the fifth kill; worker: ${worker.stderrTail().slice(-2000)}`,
    );
    const ranFor = Date.now() - began;
    console.log(`worker-kills: run completed at ${seconds()}`);

    // The same run finished, and its result names it.
    expect(summary.runId).toBe(started.syncRunId);
    const [run] = await sql`select status, counts from sync_runs where id = ${started.syncRunId}`;
    expect(run?.status).toBe('completed');
    expect(await sql`select id from sync_runs`).toHaveLength(1);

    // Every entity logged 'created' exactly once, no change logged twice for one entity, nothing
    // failed, and the run's counts (committed with each page) agree with its log rows.
    const duplicates = await sql`
      select entity_type, entity_id, change_type, count(*)::int as n from sync_log
      where run_id = ${started.syncRunId} and entity_id is not null
      group by 1, 2, 3 having count(*) > 1 limit 10`;
    expect(duplicates).toEqual([]);
    const logged = await sql`
      select entity_type, change_type, count(*)::int as n from sync_log
      where run_id = ${started.syncRunId} group by 1, 2`;
    const loggedCount = (type: EntityType, changes: string[]) =>
      logged
        .filter((row) => row.entity_type === type && changes.includes(String(row.change_type)))
        .reduce((sum, row) => sum + Number(row.n), 0);
    for (const type of ENTITY_TYPES) {
      const createdIds = await sql`
        select entity_id::int as id from sync_log
        where run_id = ${started.syncRunId} and entity_type = ${type} and change_type = 'created' order by 1`;
      const modelIds = [...library[ENTITY_TABLES[type]].keys()];
      expect(
        createdIds.map((row) => Number(row.id)),
        `${type}: created once each`,
      ).toEqual(modelIds.sort((a, b) => a - b));
      expect(loggedCount(type, ['created']), `${type}: logged created`).toBe(sizes[type]);
      expect(loggedCount(type, ['failed', 'deleted', 'updated', 'revived']), `${type}: other changes`).toBe(0);
      expect(loggedCount(type, ['unchanged']), `${type}: only the run-wide unchanged row`).toBe(1);
      const counts = run?.counts[type];
      expect(Number(counts?.created), `${type}: run counts`).toBe(sizes[type]);
      // A full sync logs no row for an unchanged entity, so a page applied twice would show only
      // in the counts: everything fetched is the library once plus the catch-up's re-read.
      expect(Number(counts?.unchanged), `${type}: unchanged = catch-up window`).toBe(catchUpWindow(type));
      expect(Number(counts?.fetched), `${type}: fetched`).toBe(sizes[type] + catchUpWindow(type));
      expect(summary.counts[type]?.created, `${type}: summary`).toBe(sizes[type]);
      // The type's one run-wide row, written when it finished: a finish repeated after a kill
      // would write a second one.
      const finished = await sql`
        select details from sync_log
        where run_id = ${started.syncRunId} and entity_type = ${type} and entity_id is null`;
      expect(finished, `${type}: run-wide rows`).toHaveLength(1);
      for (const [key, value] of Object.entries(finished[0]?.details ?? {})) {
        expect(Number(value), `${type}: run-wide ${key}`).toBe(Number(counts?.[key] ?? 0));
      }
    }
    const [rows] = await sql`select count(*)::int as n from sync_log where run_id = ${started.syncRunId}`;

    // Row for row and link for link with the simulator.
    expect(await diffMirror(sql, stack.simulator, stack.stashUrl)).toEqual([]);
    const links = await diffLinkTables(sql, library);
    expect(links.differences).toEqual([]);
    // The checkpoints are gone with the run (every type finished its walks).
    expect(await sql`select entity_type, phase, walk from sync_walks`).toEqual([]);

    // The history the kills made replays on today's workflow code (every execution of the chain).
    let events = 0;
    let executions = 0;
    for (let runId: string | undefined = started.runId; runId; ) {
      executions += 1;
      events += await replayAndCapture({
        temporalAddress: stack.temporalAddress,
        workflowId: started.workflowId,
        runId,
        name: executions === 1 ? 'worker-kills' : `worker-kills-${executions}`,
      });
      const history = await stack.client.workflow.getHandle(started.workflowId, runId).fetchHistory();
      runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }

    console.log(
      `[chaos] worker-kills: seed ${SEED}; ${kills.length} SIGKILLs (${kills.join('; ')}); run ${started.syncRunId} ` +
        `completed in ${(ranFor / 1000).toFixed(0)} s with ${summary.pages} pages of ${PAGE_SIZE}, ` +
        `${summary.continuedAsNew} continue-as-new; ${total} entities and ${links.compared} links compared, ` +
        `${rows?.n} sync_log rows, 0 duplicates; ${events} history events replayed`,
    );
  }, 900_000);
});
