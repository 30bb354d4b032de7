import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSyncTransaction } from '../../db/client.js';
import { pruneHistory } from '../../db/runs.js';
import { ENTITY_TABLES } from '../../stash/entity-types.js';
import { type ApiServer, startApi } from '../api/support.js';
import { createTestStack, type TestStack } from '../support/stack.js';

/**
 * Per-entity sync history (issue 14): every entity an incremental, smart or single-entity sync
 * fetched has a sync_log row, with whether its data changed; every type has a history route;
 * retention prunes old rows of every run type but never a running run's.
 */
describe('per-entity sync history', () => {
  let stack: TestStack;
  let api: ApiServer;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 41, scale: 'tiny' });
    await stack.startWorker({ pageSize: 50 });
    await (await stack.startFull()).result();
    api = await startApi(stack);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  const sortedIds = (type: keyof TestStack['simulator']['library']) =>
    [...stack.simulator.library[type].keys()].sort((a, b) => a - b);

  it('logs an edited scene as updated with its fields and a merely touched one as skipped', async () => {
    const { control } = stack.simulator;
    control.advanceClock(3600);
    const since = control.now().toISOString();
    control.advanceClock(60);
    const [edited, touched] = sortedIds('scenes') as [number, number];
    control.update('scene', edited, { title: 'a new title', rating100: 77 });
    control.touch('scene', [touched]); // bumped, same data: what an edit that changes nothing does

    const summary = await (await stack.start('incremental', { since, entityTypes: ['scene'] })).result();
    const rows = await stack.db.sql`
      select entity_id, change_type, had_changes, changed_fields from sync_log
      where run_id = ${summary.runId} and entity_type = 'scene' order by entity_id`;
    expect(rows.map((row) => ({ ...row, entity_id: Number(row.entity_id) }))).toEqual([
      {
        entity_id: edited,
        change_type: 'updated',
        had_changes: true,
        changed_fields: expect.arrayContaining(['title', 'rating100', 'stash_updated_at_raw']),
      },
      { entity_id: touched, change_type: 'skipped', had_changes: false, changed_fields: null },
    ]);
    // The touched row still carries Stash's new stamp (the smart sync compares stamps).
    const [stored] = await stack.db.sql`select stash_updated_at_raw from scenes where id = ${touched}`;
    expect(stored?.stash_updated_at_raw).toBe(stack.simulator.library.scenes.get(touched)?.updated_at);
    expect(summary.counts.scene).toMatchObject({ fetched: 2, updated: 1, unchanged: 1 });
  });

  it('answers every type’s history, newest first, with each row’s run', async () => {
    const { control } = stack.simulator;
    const performer = sortedIds('performers')[0] as number;
    const tag = sortedIds('tags')[0] as number;
    const gallery = sortedIds('galleries')[0] as number;
    control.update('performer', performer, { details: 'edited for the history test' });
    control.touch('tag', [tag]);
    const smart = await (await stack.start('smart')).result();
    const entity = await (await stack.startEntity('gallery', gallery)).result();

    for (const [type, id, expected] of [
      ['performer', performer, { runId: smart.runId, changeType: 'updated', hadChanges: true }],
      ['tag', tag, { runId: smart.runId, changeType: 'skipped', hadChanges: false }],
      ['gallery', gallery, { runId: entity.runId, changeType: 'skipped', hadChanges: false }],
    ] as const) {
      const response = await api.request<{ logs: Array<Record<string, unknown>> } & Record<string, unknown>>(
        'GET',
        `/api/${ENTITY_TABLES[type]}/${id}/sync-logs?limit=10`,
      );
      expect(response.status, type).toBe(200);
      expect(response.body[`${type}Id`]).toBe(String(id));
      const [newest] = response.body.logs;
      expect(newest, type).toMatchObject({ ...expected, runWide: false });
      expect(newest?.run, type).toMatchObject({ id: expected.runId, status: 'completed' });
      // The full sync that first covered it shows as its run-wide row.
      expect(
        response.body.logs.some((log) => log.runWide === true && log.syncType === 'full'),
        type,
      ).toBe(true);
    }
    const unknown = await api.request('GET', '/api/studios/999999/sync-logs');
    expect(unknown.status).toBe(404);
    const bad = await api.request('GET', '/api/groups/abc/sync-logs');
    expect(bad.status).toBe(400);
  });

  it('prunes old rows of every run type, in bounded batches, never a running run or its rows', async () => {
    const { sql } = stack.db;
    // Age every finished run and its rows by 200 days; one "running" run, equally old, must survive.
    await withSyncTransaction(sql, async (tx) => {
      await tx`
        insert into sync_runs (id, workflow_id, temporal_run_id, sync_type, trigger, status, started_at)
        values ('still-running/1', 'still-running', '1', 'smart', 'test', 'running', now() - interval '200 days')`;
      await tx`
        insert into sync_log (run_id, entity_type, entity_id, sync_type, change_type, created_at)
        select 'still-running/1', 'scene', g, 'smart', 'skipped', now() - interval '200 days'
        from generate_series(1, 30) g`;
      await tx`update sync_runs set started_at = started_at - interval '200 days',
                 completed_at = completed_at - interval '200 days' where status <> 'running'`;
      await tx`update sync_log set created_at = created_at - interval '200 days' where run_id <> 'still-running/1'`;
    });
    const types = await sql`select distinct sync_type from sync_runs where status <> 'running' order by 1`;
    expect(types.map((row) => row.sync_type)).toEqual(['full', 'incremental', 'smart', 'specific']);
    const [before] = await sql`select count(*)::int as n from sync_log where run_id <> 'still-running/1'`;

    // Bounded: small batches, few per call; the next call continues where it stopped.
    const first = await pruneHistory(sql, 90, { batchSize: 10, maxBatches: 2 });
    expect(first).toEqual({ logRows: 20, runs: 0, complete: false });
    const rest = await pruneHistory(sql, 90, { batchSize: 1000, maxBatches: 100 });
    expect(rest.complete).toBe(true);
    expect(first.logRows + rest.logRows).toBe(before?.n);

    const runs = await sql`select id, status from sync_runs`;
    expect(runs).toEqual([{ id: 'still-running/1', status: 'running' }]);
    const [kept] = await sql`select count(*)::int as n from sync_log`;
    expect(kept?.n).toBe(30);

    // And a run of any type prunes by itself afterwards (a smart sync here).
    await withSyncTransaction(sql, (tx) => tx`update sync_runs set status = 'failed', completed_at = started_at`);
    await (await stack.start('smart')).result();
    const [left] = await sql`select count(*)::int as n from sync_log where run_id = 'still-running/1'`;
    expect(left?.n).toBe(0);
  });
});
