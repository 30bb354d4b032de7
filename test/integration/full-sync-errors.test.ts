import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, type TestStack } from '../support/stack.js';

describe('full sync with bad entities, and the read-only mirror', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 11, scale: 'tiny' });
    await stack.startWorker({ pageSize: 10 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('logs each bad entity as failed and syncs everything else', async () => {
    const { control, library } = stack.simulator;
    const performerId = [...library.performers.keys()][2] as number;
    const sceneId = [...library.scenes.keys()][4] as number;
    const tagId = [...library.tags.keys()][1] as number;
    control.corrupt('performer', performerId, { gender: 'ROBOT' });
    control.corrupt('scene', sceneId, { date: '2023-13-45' });
    control.corrupt('tag', tagId, { name: null });

    const started = await stack.startFull();
    const summary = await started.result();
    expect(summary.counts.performer?.failed).toBe(1);
    expect(summary.counts.scene?.failed).toBe(1);
    expect(summary.counts.tag?.failed).toBe(1);

    const failed = await stack.db.sql`
      select entity_type, entity_id, error_message from sync_log
      where run_id = ${started.syncRunId} and change_type = 'failed' order by entity_type`;
    expect(failed.map((row) => [row.entity_type, Number(row.entity_id)])).toEqual([
      ['performer', performerId],
      ['scene', sceneId],
      ['tag', tagId],
    ]);
    expect(failed[0]?.error_message).toMatch(/gender/);
    expect(failed[1]?.error_message).toMatch(/date: is not a valid date/);
    expect(failed[2]?.error_message).toMatch(/name/);

    const [live] = await stack.db.sql`
      select (select count(*) from scenes)::int as scenes, (select count(*) from performers)::int as performers`;
    expect(live).toEqual({ scenes: library.scenes.size - 1, performers: library.performers.size - 1 });
    const [run] = await stack.db.sql`select status, counts from sync_runs where id = ${started.syncRunId}`;
    expect(run?.status).toBe('completed');
    expect(run?.counts.scene.failed).toBe(1);

    // Once Stash serves it correctly again, the next full sync picks it up.
    control.clearCorruptions();
    await (await stack.startFull()).result();
    const [after] = await stack.db.sql`select count(*)::int as n from scenes where id = ${sceneId}`;
    expect(after?.n).toBe(1);
  });

  it('refuses an ordinary write to a mirror table with a clear error', async () => {
    await expect(stack.db.sql`update scenes set title = 'edited by hand'`).rejects.toThrow(
      /UPDATE on "scenes" refused: mirror tables are read-only; only the sync writes them/,
    );
    await expect(stack.db.sql`delete from sync_log`).rejects.toThrow(/DELETE on "sync_log" refused/);
    await expect(stack.db.sql`insert into tags (id, name, stash_created_at, stash_updated_at, stash_updated_at_raw)
      values (999999, 'x', now(), now(), 'x')`).rejects.toThrow(/INSERT on "tags" refused/);
  });
});
