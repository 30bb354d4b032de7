import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSyncTransaction } from '../../db/client.js';
import { POST_PROCESS_STEP_NAMES } from '../../db/postprocess/plan.js';
import { diffMirror } from '../support/compare.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { cliEnv, describeRun, runCli } from './support.js';

/**
 * The operator's maintenance commands, run as a user runs them (`node bin/stash-mirror.js …`
 * against the test stack's database and Temporal): `reset <type>` and `postprocess [--step]`.
 */
describe('stash-mirror reset and postprocess', () => {
  let stack: TestStack;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await createTestStack({ seed: 12, scale: 'tiny', counts: { scenes: 200, images: 200 } });
    await stack.startWorker({ pageSize: 25 });
    await (await stack.startFull()).result();
    env = cliEnv(stack);
  });
  afterAll(async () => {
    stack?.simulator.control.clearFaults();
    await stack?.close();
  });

  const sceneState = async () => {
    const [row] = await stack.db.sql`
      select high_water_mark_raw, high_water_mark_read_at, last_full_sync_at, last_incremental_sync_at, resume_cursor
      from sync_state where entity_type = 'scene'`;
    return row;
  };
  const sceneWalks = async () => {
    const [row] = await stack.db.sql`
      select count(*)::int as walks, coalesce(sum(seq), 0)::int as pages from sync_walks where entity_type = 'scene'`;
    return { walks: Number(row?.walks ?? 0), pages: Number(row?.pages ?? 0) };
  };

  it('refuses to reset or post-process while a sync runs (exit 2, one line)', async () => {
    stack.simulator.control.setFaults({ latencyMs: 50 });
    const running = await stack.startFull();
    try {
      // Well into the last stage: the scene walks have committed pages; then slow Stash right down.
      await waitFor(async () => ((await sceneWalks()).pages >= 1 ? true : undefined));
      stack.simulator.control.setFaults({ latencyMs: 1500 });

      const reset = await runCli(['reset', 'scene', '--yes'], env);
      expect(reset.code, describeRun(reset)).toBe(2);
      expect(reset.stderr.trim().split('\n')).toEqual([
        `stash-mirror: a sync is running (${running.syncRunId}): reset scene refuses to run beside it; wait for it to end or \`stash-mirror cancel\` it`,
      ]);
      // Nothing was forgotten: the first full sync's mark and the running sync's place are there.
      const state = await sceneState();
      expect(state?.high_water_mark_raw).not.toBeNull();
      expect(state?.last_full_sync_at).not.toBeNull();
      expect(Object.keys(state?.resume_cursor ?? {})).toContain('full');

      const postprocess = await runCli(['postprocess'], env);
      expect(postprocess.code, describeRun(postprocess)).toBe(2);
      expect(postprocess.stderr.trim().split('\n')).toHaveLength(1);
      expect(postprocess.stderr).toContain(`a sync is running (${running.syncRunId}): postprocess refuses`);
      expect(postprocess.stdout).toBe('');
    } finally {
      await stack.client.workflow.getHandle(running.workflowId).cancel();
      await running.result().catch(() => {});
      stack.simulator.control.clearFaults();
    }
    // The cancelled full sync left its scene walks behind, for the next test's reset to forget.
    expect((await sceneWalks()).walks).toBeGreaterThan(0);
  });

  it('reset <type> without --yes says what it would forget and changes nothing (exit 1)', async () => {
    const before = await sceneState();
    const result = await runCli(['reset', 'scene'], env);
    expect(result.code, describeRun(result)).toBe(1);
    expect(result.stdout).toContain('would forget the sync state of scene: high-water mark ');
    expect(result.stdout).toContain('unfinished: full sync');
    expect(result.stderr.trim()).toBe('stash-mirror: nothing changed: run `stash-mirror reset scene --yes` to do it');
    expect(await sceneState()).toEqual(before);
  });

  it('without Temporal, a run recorded as running in sync_runs refuses; none recorded goes on', async () => {
    const { sql } = stack.db;
    const offline = cliEnv(stack, { TEMPORAL_ADDRESS: '127.0.0.1:9' });
    const runId = `${stack.workflowId}/recorded-running`;
    await withSyncTransaction(
      sql,
      (tx) => tx`
        insert into sync_runs (id, workflow_id, temporal_run_id, sync_type, trigger, status)
        values (${runId}, ${stack.workflowId}, 'recorded-running', 'full', 'test', 'running')`,
    );
    try {
      const refused = await runCli(['postprocess'], offline);
      expect(refused.code, describeRun(refused)).toBe(2);
      expect(refused.stderr).toContain(`sync run ${runId} is recorded as running and Temporal at 127.0.0.1:9`);
    } finally {
      await withSyncTransaction(sql, (tx) => tx`delete from sync_runs where id = ${runId}`);
    }
    const before = await sceneState();
    const dryRun = await runCli(['reset', 'scene'], offline);
    expect(dryRun.code, describeRun(dryRun)).toBe(1);
    expect(dryRun.stderr).toContain('no sync is recorded as running, going on');
    expect(dryRun.stdout).toContain('would forget the sync state of scene');
    expect(await sceneState()).toEqual(before);
  });

  it('reset scene --yes forgets the state and walks; the next smart sync re-reads every scene', async () => {
    const { sql } = stack.db;
    expect((await sceneWalks()).walks).toBeGreaterThan(0);
    const [tagBefore] = await sql`select * from sync_state where entity_type = 'tag'`;

    const result = await runCli(['reset', 'scene', '--yes'], env);
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toMatch(/^forgot the sync state of scene: high-water mark \S+; .* walk rows? removed\n/);
    expect(await sceneState()).toEqual({
      high_water_mark_raw: null,
      high_water_mark_read_at: null,
      last_full_sync_at: null,
      last_incremental_sync_at: null,
      resume_cursor: null,
    });
    expect((await sceneWalks()).walks).toBe(0);
    // Only that type: another type's state is as it was.
    const [tagAfter] = await sql`select * from sync_state where entity_type = 'tag'`;
    expect(tagAfter).toEqual(tagBefore);
    // The mirrored rows stay.
    const [live] = await sql`select count(*)::int as n from scenes where deleted_at is null`;
    expect(live?.n).toBe(stack.simulator.library.scenes.size);

    const smart = await stack.start('smart');
    await smart.result();
    const [run] = await sql`select status, counts from sync_runs where id = ${smart.syncRunId}`;
    expect(run?.status).toBe('completed');
    const counts = run?.counts as Record<string, { fetched?: number }>;
    expect(counts.scene?.fetched).toBe(stack.simulator.library.scenes.size);
    expect(await diffMirror(sql, stack.simulator, stack.stashUrl)).toEqual([]);
    // The smart sync set a new mark: the next one is a no-op for scenes again.
    expect((await sceneState())?.high_water_mark_raw).not.toBeNull();
  });

  it('postprocess restores corrupted derived data, every step or only --step', async () => {
    const { sql } = stack.db;
    const derived = async () => ({
      counts: await sql`
        select entity_type, entity_id, image_count, scene_count from entity_counts order by entity_type, entity_id`,
      galleryCounts: await sql`select id, image_count from galleries order by id`,
      inherited: await sql`select scene_id, tag_id from scene_inherited_tags order by scene_id, tag_id`,
    });
    const expected = await derived();
    expect(expected.counts.length).toBeGreaterThan(0);
    const corrupt = () =>
      withSyncTransaction(sql, async (tx) => {
        await tx`update entity_counts set scene_count = scene_count + 1000, image_count = image_count + 7`;
        await tx`update galleries set image_count = image_count + 3`;
        await tx`delete from scene_inherited_tags`;
      });

    await corrupt();
    expect(await derived()).not.toEqual(expected);
    const all = await runCli(['postprocess'], env);
    expect(all.code, describeRun(all)).toBe(0);
    expect(all.lines.map((line) => line.split(/\s+/)[0])).toEqual([...POST_PROCESS_STEP_NAMES, 'post-processing']);
    for (const line of all.lines.slice(0, -1)) expect(line).toMatch(/^[a-z-]+ +\d+(\.\d)? m?s {2}[\d,]+ \w/);
    expect(all.lines.at(-1)).toMatch(/^post-processing done: 5 steps in \d/);
    expect(await derived()).toEqual(expected);
    expect(await diffMirror(sql, stack.simulator, stack.stashUrl)).toEqual([]);

    await withSyncTransaction(sql, (tx) => tx`update entity_counts set scene_count = scene_count + 1000`);
    const one = await runCli(['postprocess', '--step', 'entity-counts'], env);
    expect(one.code, describeRun(one)).toBe(0);
    expect(one.lines).toHaveLength(2);
    expect(one.lines[0]).toMatch(/^entity-counts +\d/);
    expect(await derived()).toEqual(expected);
  });

  it('postprocess --step with an unknown name names the valid steps (exit 1)', async () => {
    const result = await runCli(['postprocess', '--step', 'recount-everything'], env);
    expect(result.code, describeRun(result)).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim()).toBe(
      `stash-mirror: unknown post-processing step "recount-everything" (one of ${POST_PROCESS_STEP_NAMES.join(', ')})`,
    );
  });
});
