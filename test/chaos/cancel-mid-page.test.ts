/**
 * Chaos case "cancel mid-page" of issue 13: a full sync cancelled while every running walk has a
 * page in flight (asked of Stash, not yet answered). No page is half-written: each walk's rows,
 * links, sync_log rows and counts are exactly its committed pages, and the page in flight never
 * lands, not even when Stash answers it after the cancel. The next full sync takes the walks over
 * from their committed cursors (it never asks for a committed page again) and reads exactly the
 * pages a fresh walk would read, less the committed ones; the mirror then equals Stash.
 */
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecentRequest, RequestStats } from '../../simulator/index.js';
import { idRanges } from '../../stash/cursor.js';
import { ENTITY_SPECS } from '../../stash/entities/index.js';
import { ENTITY_TABLES, ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import { diffMirror } from '../support/compare.js';
import { replayAndCapture } from '../support/replay-capture.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

const PAGE_SIZE = 50;
/**
 * Walks at most per id-paged type (the worker's default SYNC_WALK_CONCURRENCY); idRanges makes
 * fewer for a type with fewer than 1000 ids per walk (at `small`: one for scenes, two for images).
 */
const WALKS = 2;
/**
 * How long Stash takes to answer once the slowdown is on: far longer than an activity takes to
 * learn of a cancellation (its adapter heartbeats every 5 s, throttled to 2 s), far shorter than
 * the heartbeat timeout would matter (the adapter heartbeats while the fetch waits).
 */
const SLOW_MS = 20_000;
/**
 * The slowdown starts after this many findScenes requests: the scene type's two probes (newest
 * updated_at, newest id) and six pages of its walk (the image walks, beside it, are as far).
 */
const SLOW_AFTER_SCENE_REQUESTS = 8;
/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED (the raw describe answer is numeric). */
const PENDING_ACTIVITY_STARTED = 2;

interface WalkState {
  entityType: EntityType;
  walk: number;
  seq: number;
  done: boolean;
  afterId: number | null;
  upTo: number | null;
  created: number;
}

type IdFilter = { value: number; value2?: number; modifier: string };
type PageVariables = { filter?: { per_page?: number }; entity_filter?: { id?: IdFilter; updated_at?: unknown } };

/** A walk page of an id-paged type (not a catch-up page, an id scan or a probe): its id window. */
function walkPage(request: RecentRequest, type: EntityType): { after: number; upTo: number | null } | null {
  if (request.field !== ENTITY_SPECS[type].queryField) return null;
  const variables = request.variables as PageVariables;
  const id = variables.entity_filter?.id;
  if (variables.filter?.per_page !== PAGE_SIZE || !id || variables.entity_filter?.updated_at) return null;
  // fetchPage asks `BETWEEN afterId+1 AND upTo` inside a range, `GREATER_THAN afterId` in the last.
  return id.modifier === 'BETWEEN' ? { after: id.value - 1, upTo: id.value2 ?? null } : { after: id.value, upTo: null };
}

const ID_PAGED = ENTITY_TYPES.filter((type) => ENTITY_SPECS[type].paging === 'id');

describe('a full sync cancelled with a page in flight (chaos case: cancel mid-page)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 31, scale: 'small' });
    await stack.startWorker({ pageSize: PAGE_SIZE });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('keeps whole pages only, never lands the page in flight, and the next sync reads only what is left', async () => {
    const began = Date.now();
    const { sql } = stack.db;
    const { control } = stack.simulator;
    const library = stack.simulator.library;
    const modelIds = (type: EntityType) => [...library[ENTITY_TABLES[type]].keys()].sort((a, b) => a - b);

    // Fast until the scene walks are a few pages in, then every answer takes SLOW_MS: each walk
    // then has exactly one page in flight (asked right after its last commit, as the prefetch is).
    // The stats restart at that moment, so from then on they hold only slow requests.
    let slowSince = 0;
    control.clearFaults();
    control.afterRequests({
      field: 'findScenes',
      n: SLOW_AFTER_SCENE_REQUESTS,
      run: (sim) => {
        sim.setFaults({ latencyMs: SLOW_MS });
        sim.resetStats();
        slowSince = Date.now();
      },
    });
    const first = await stack.startFull();
    const firstOutcome = first.result().then(
      () => 'completed',
      (error: unknown) => error,
    );

    const readWalks = async (): Promise<WalkState[]> => {
      const rows = await sql`
        select entity_type, walk, seq, done, cursor, (counts ->> 'created')::int as created from sync_walks
        where sync_type = 'full' and phase = 'walk' order by entity_type, walk`;
      return rows.map((row) => ({
        entityType: row.entity_type as EntityType,
        walk: Number(row.walk),
        seq: Number(row.seq),
        done: Boolean(row.done),
        afterId: row.cursor.kind === 'id' ? Number(row.cursor.afterId) : null,
        upTo: row.cursor.kind === 'id' ? (row.cursor.upTo ?? null) : null,
        created: Number(row.created ?? 0),
      }));
    };
    /** The walks still reading, each with the page it asked for after its last commit, if asked. */
    const inFlight = (walks: WalkState[], stats: RequestStats) =>
      walks
        .filter((walk) => !walk.done && walk.afterId !== null)
        .map((walk) => ({
          walk,
          asked: stats.recent.some((request) => {
            const page = walkPage(request, walk.entityType);
            return page !== null && page.after === walk.afterId && page.upTo === walk.upTo;
          }),
        }));

    // Every walk still reading has committed its pages so far and asked for the next one, which
    // Stash has not answered (no slow request has been answered: rowsReturned is still 0).
    const atCancel = await waitFor(
      async () => {
        if (slowSince === 0) return undefined;
        const walks = await readWalks();
        const pending = inFlight(walks, control.stats());
        const scenes = pending.some(({ walk }) => walk.entityType === 'scene');
        return scenes && pending.every(({ asked }) => asked) ? walks : undefined;
      },
      120_000,
      50,
    ).catch(async (error: unknown) => {
      const pages = control.stats().recent.map((request) => JSON.stringify([request.field, request.variables]));
      throw new Error(
        `${String(error)}; slowed: ${slowSince > 0}; walks: ${JSON.stringify(await readWalks())}; asked since: ${pages.join(' ')}`,
      );
    });
    const running = (await stack.client.workflow.getHandle(first.workflowId).describe()).raw.pendingActivities ?? [];
    const runningWalks = running.filter(
      (activity) => activity.activityType?.name === 'walk' && activity.state === PENDING_ACTIVITY_STARTED,
    );
    const reading = atCancel.filter((walk) => !walk.done && walk.afterId !== null);
    expect(runningWalks.length).toBe(reading.length);
    await stack.client.workflow.getHandle(first.workflowId).cancel();
    const cancelLandedAfter = Date.now() - slowSince;
    const answeredBeforeCancel = Object.values(control.stats().byField).reduce((sum, f) => sum + f.rowsReturned, 0);
    // The cancel reached Temporal while every one of those pages was still in flight.
    expect(answeredBeforeCancel).toBe(0);
    expect(cancelLandedAfter).toBeLessThan(SLOW_MS);

    const outcome = await firstOutcome;
    expect(outcome).toBeInstanceOf(WorkflowFailedError);
    expect((outcome as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const [cancelled] = await sql`select status from sync_runs where id = ${first.syncRunId}`;
    expect(cancelled?.status).toBe('cancelled');
    // Each walk in flight was cancelled (its activity ended cancelled, not completed): with
    // WAIT_CANCELLATION_COMPLETED the workflow ended only after they had.
    const firstHistory = await stack.client.workflow.getHandle(first.workflowId, first.runId).fetchHistory();
    const walkScheduled = new Set(
      (firstHistory.events ?? [])
        .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'walk')
        .map((event) => String(event.eventId)),
    );
    const walkEnds = (firstHistory.events ?? []).flatMap((event) => {
      const ended = event.activityTaskCompletedEventAttributes ?? event.activityTaskCanceledEventAttributes;
      if (!ended || !walkScheduled.has(String(ended.scheduledEventId))) return [];
      return [event.activityTaskCanceledEventAttributes ? 'cancelled' : 'completed'];
    });
    expect(walkEnds.filter((end) => end === 'cancelled')).toHaveLength(reading.length);
    // Stash now answers the pages that were in flight (into aborted requests): none of them lands.
    const inFlightRows = new Map<string, number>();
    for (const walk of reading) {
      const field = ENTITY_SPECS[walk.entityType].queryField;
      const left = modelIds(walk.entityType).filter(
        (id) => id > (walk.afterId ?? 0) && (walk.upTo === null || id <= walk.upTo),
      ).length;
      inFlightRows.set(field, (inFlightRows.get(field) ?? 0) + Math.min(PAGE_SIZE, left));
    }
    await waitFor(
      async () => {
        const { byField } = control.stats();
        return [...inFlightRows].every(([field, rows]) => (byField[field]?.rowsReturned ?? 0) >= rows)
          ? true
          : undefined;
      },
      SLOW_MS + 60_000,
      200,
    );
    const afterCancel = await readWalks();
    expect(afterCancel).toEqual(atCancel);
    control.clearHooks();
    control.clearFaults();

    // No half-written page: per type, the live rows are exactly those the committed pages cover,
    // each equal to Stash (columns and own links); sync_log and the run's counts say the same.
    const [runRow] = await sql`select counts from sync_runs where id = ${first.syncRunId}`;
    const expectedLive = new Map<EntityType, number[]>();
    let committedPages = 0;
    for (const type of ENTITY_TYPES) {
      const ids = modelIds(type);
      const walks = afterCancel.filter((walk) => walk.entityType === type);
      let expected: number[];
      if (walks.length === 0) {
        // Only a type of the last stage may not have started (its walks not yet prepared).
        expect(['scene', 'image']).toContain(type);
        expected = [];
      } else if (ENTITY_SPECS[type].paging === 'id') {
        const ranges = idRanges(ids.at(-1) ?? 0, WALKS);
        expect(walks.length, `${type}: one walk per id range`).toBe(ranges.length);
        expected = [];
        for (const walk of walks) {
          const range = ranges[walk.walk];
          expect(range, `${type} walk ${walk.walk}`).toBeDefined();
          if (!range) continue;
          expect(walk.upTo).toBe(range.upTo);
          const inRange = ids.filter((id) => id > range.afterId && (range.upTo === null || id <= range.upTo));
          const covered = walk.done ? inRange : inRange.filter((id) => id <= (walk.afterId ?? 0));
          // Pages before the last are full: a walk that is not done has committed whole pages.
          if (!walk.done) expect(covered.length, `${type} walk ${walk.walk}: whole pages`).toBe(walk.seq * PAGE_SIZE);
          expect(walk.created, `${type} walk ${walk.walk}: its counts`).toBe(covered.length);
          if (!walk.done) committedPages += walk.seq;
          expected.push(...covered);
        }
      } else {
        // Types paged by updated_at are read in earlier stages: their one walk finished.
        expect(walks.map((walk) => walk.done)).toEqual([true]);
        expected = ids;
      }
      expectedLive.set(type, expected);
      const live = await sql.unsafe(
        `select id::int as id from ${ENTITY_TABLES[type]} where deleted_at is null order by id`,
      );
      expect(
        live.map((row) => Number(row.id)),
        `${type}: live rows = committed pages`,
      ).toEqual(expected);
      const logged = await sql`
        select entity_id::int as id from sync_log
        where run_id = ${first.syncRunId} and entity_type = ${type} and change_type = 'created' order by 1`;
      expect(
        logged.map((row) => Number(row.id)),
        `${type}: sync_log = committed pages`,
      ).toEqual(expected);
      expect(Number(runRow?.counts[type]?.created ?? 0), `${type}: run counts`).toBe(expected.length);
    }
    expect(committedPages).toBeGreaterThan(0);
    // Every row present equals Stash, links included; the only differences are the rows the
    // walks have not reached (and, for scenes, their tags, which the mirror cannot have yet), and
    // galleries.image_count, which post-processing derives from the images once all are read.
    for (const difference of await diffMirror(sql, stack.simulator, stack.stashUrl)) {
      const present = new Set(expectedLive.get(difference.type) ?? []);
      const absent = modelIds(difference.type).filter((id) => !present.has(id));
      expect(difference.extra, `${difference.type}: extra`).toEqual([]);
      if (difference.missing.length > 0) expect([...difference.missing].sort((a, b) => a - b)).toEqual(absent);
      const fromPages = difference.different
        .filter((entry) => present.has(entry.id))
        .map((entry) => ({ ...entry, fields: entry.fields.filter((field) => field !== 'image_count') }))
        .filter((entry) => entry.fields.length > 0);
      expect(fromPages, `${difference.type}: a present row differs`).toEqual([]);
    }

    // The next full sync takes the walks over where they stopped.
    control.resetStats();
    const second = await stack.startFull();
    const resumedSummary = await second.result();
    expect(resumedSummary.runId).toBe(second.syncRunId);
    const resumedStats = control.stats();
    // `recent` keeps the last 1000 requests: all of this run's must be there to be counted.
    expect(resumedStats.recent.length).toBeLessThan(1000);
    expect(await diffMirror(sql, stack.simulator, stack.stashUrl)).toEqual([]);
    // Between them, the two runs created every entity exactly once.
    const created = await sql`
      select entity_type, entity_id::int as id, count(*)::int as n from sync_log
      where run_id in (${first.syncRunId}, ${second.syncRunId}) and change_type = 'created'
      group by 1, 2`;
    expect(created.filter((row) => Number(row.n) !== 1)).toEqual([]);
    for (const type of ENTITY_TYPES) {
      expect(created.filter((row) => row.entity_type === type).length, `${type}: created across both runs`).toBe(
        library[ENTITY_TABLES[type]].size,
      );
    }

    // It never asked for a committed page again: each walk's first page is the one after its
    // committed cursor, and no page of it starts below that.
    const resumedPages = (type: EntityType) =>
      resumedStats.recent.flatMap((request) => {
        const page = walkPage(request, type);
        return page ? [page] : [];
      });
    for (const walk of afterCancel.filter((w) => !w.done && w.afterId !== null)) {
      const pages = resumedPages(walk.entityType).filter((page) => page.upTo === walk.upTo);
      expect(pages[0]?.after, `${walk.entityType} walk ${walk.walk}: first page asked`).toBe(walk.afterId);
      expect(pages.filter((page) => page.after < (walk.afterId ?? 0))).toEqual([]);
    }

    // A fresh full sync (no walks left to take over) reads every walk page; the resumed one read
    // exactly those less the pages the cancelled run had committed, and asked Stash less in all.
    control.resetStats();
    const third = await stack.startFull();
    await third.result();
    const freshStats = control.stats();
    expect(freshStats.recent.length).toBeLessThan(1000);
    const freshPages = (type: EntityType) =>
      freshStats.recent.filter((request) => walkPage(request, type) !== null).length;
    let resumedWalkPages = 0;
    let freshWalkPages = 0;
    for (const type of ID_PAGED) {
      const committed = afterCancel.filter((walk) => walk.entityType === type).reduce((sum, walk) => sum + walk.seq, 0);
      resumedWalkPages += resumedPages(type).length;
      freshWalkPages += freshPages(type);
      expect(resumedPages(type).length + committed, `${type}: pages resumed + committed = fresh`).toBe(
        freshPages(type),
      );
    }
    expect(resumedStats.total).toBeLessThan(freshStats.total);
    expect(await diffMirror(sql, stack.simulator, stack.stashUrl)).toEqual([]);
    expect(await sql`select entity_type from sync_walks`).toEqual([]);

    let replayed = 0;
    replayed += await replayAndCapture({
      temporalAddress: stack.temporalAddress,
      workflowId: first.workflowId,
      runId: first.runId,
      name: 'cancel-mid-page',
    });
    replayed += await replayAndCapture({
      temporalAddress: stack.temporalAddress,
      workflowId: second.workflowId,
      runId: second.runId,
      name: 'cancel-mid-page-resume',
    });

    const inFlightAtCancel = reading.map((walk) => `${walk.entityType}#${walk.walk}@seq${walk.seq}`).join(', ');
    console.log(
      `[chaos] cancel-mid-page: cancelled ${(cancelLandedAfter / 1000).toFixed(1)} s into a ${SLOW_MS / 1000} s page ` +
        `with ${reading.length} pages in flight (${inFlightAtCancel}); ${committedPages} committed pages kept whole; ` +
        `resumed run read ${resumedWalkPages} walk pages and ${resumedStats.total} requests in all, ` +
        `a fresh full sync ${freshWalkPages} and ${freshStats.total}; ${replayed} history events replayed; ` +
        `${((Date.now() - began) / 1000).toFixed(0)} s`,
    );
  }, 600_000);
});
