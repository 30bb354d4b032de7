import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../simulator/index.js';
import { diffMirror } from '../support/compare.js';
import { createTestStack, mirrorFingerprint, type TestStack } from '../support/stack.js';

const CLI = fileURLToPath(new URL('../../bin/stash-mirror.js', import.meta.url));

const sortedIds = (simulator: Simulator, type: keyof Simulator['library']) =>
  [...simulator.library[type].keys()].sort((a, b) => a - b);

/** scene → inherited tags, computed from the simulator's own model (performers, studio, groups). */
function expectedInheritedTags(simulator: Simulator): Map<number, number[]> {
  const { scenes, performers, studios, groups } = simulator.library;
  const result = new Map<number, number[]>();
  for (const scene of scenes.values()) {
    const tags = new Set<number>();
    for (const id of scene.performer_ids) for (const tag of performers.get(id)?.tag_ids ?? []) tags.add(tag);
    if (scene.studio_id !== null) for (const tag of studios.get(scene.studio_id)?.tag_ids ?? []) tags.add(tag);
    for (const link of scene.groups) for (const tag of groups.get(link.group_id)?.tag_ids ?? []) tags.add(tag);
    if (tags.size > 0)
      result.set(
        scene.id,
        [...tags].sort((a, b) => a - b),
      );
  }
  return result;
}

async function mirrorInheritedTags(stack: TestStack): Promise<Map<number, number[]>> {
  const rows = await stack.db.sql`
    select it.scene_id, array_agg(distinct it.tag_id order by it.tag_id) as tags
    from scene_inherited_tags it join scenes s on s.id = it.scene_id and s.deleted_at is null
    group by it.scene_id`;
  return new Map(rows.map((row) => [Number(row.scene_id), (row.tags as number[]).map(Number)]));
}

describe('smart sync', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 21, scale: 'small' });
    await stack.startWorker({ pageSize: 100 });
    await (await stack.startFull()).result();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a no-op costs a few count queries per type and changes nothing', async () => {
    const before = await mirrorFingerprint(stack.db.sql);
    const [logBefore] = await stack.db.sql`select count(*)::int as n from sync_log`;
    stack.simulator.resetStats();

    const started = await stack.start('smart');
    const summary = await started.result();
    expect(summary.skippedTypes.sort()).toEqual(['gallery', 'group', 'image', 'performer', 'scene', 'studio', 'tag']);

    const stats = stack.simulator.stats();
    for (const [field, fieldStats] of Object.entries(stats.byField)) {
      expect(fieldStats.requests, field).toBeLessThanOrEqual(3);
      expect(fieldStats.countOnly, field).toBe(fieldStats.requests);
      expect(fieldStats.rowsReturned, field).toBe(0);
      expect(fieldStats.byIds, field).toBe(0);
    }
    expect(Object.keys(stats.byField)).toHaveLength(7);
    expect(await mirrorFingerprint(stack.db.sql)).toEqual(before);
    const [logAfter] = await stack.db.sql`select count(*)::int as n from sync_log`;
    expect(logAfter?.n).toBe(logBefore?.n);
    const [run] = await stack.db.sql`select status, sync_type from sync_runs where id = ${started.syncRunId}`;
    expect(run).toEqual({ status: 'completed', sync_type: 'smart' });
  });

  it('reflects a tag merge, deletions and a performer tag edit after one run', async () => {
    const sim = stack.simulator;
    const { control } = sim;
    const tags = sortedIds(sim, 'tags');
    const performers = sortedIds(sim, 'performers');
    // The performer with the most scenes, so inherited tags visibly follow its tag edit.
    const scenesPerPerformer = new Map<number, number>();
    for (const scene of sim.library.scenes.values()) {
      for (const id of scene.performer_ids) scenesPerPerformer.set(id, (scenesPerPerformer.get(id) ?? 0) + 1);
    }
    const busyPerformer = [...scenesPerPerformer.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] as number;
    control.mergeTags([tags[3] as number, tags[4] as number], tags[5] as number);
    control.remove('performer', performers.find((id) => id !== busyPerformer) as number);
    control.remove('studio', sortedIds(sim, 'studios')[2] as number);
    control.remove('scene', sortedIds(sim, 'scenes')[10] as number);
    control.remove('gallery', sortedIds(sim, 'galleries')[7] as number);
    control.update('performer', busyPerformer, { tag_ids: [tags[20] as number, tags[21] as number] });

    const summary = await (await stack.start('smart')).result();
    expect(summary.deleted).toBeGreaterThanOrEqual(6);
    expect(await diffMirror(stack.db.sql, sim, stack.stashUrl)).toEqual([]);
    expect(await mirrorInheritedTags(stack)).toEqual(expectedInheritedTags(sim));
    const merged = await stack.db.sql`
      select count(*)::int as n from scene_tags st join scenes s on s.id = st.scene_id and s.deleted_at is null
      where st.tag_id in (${tags[3] as number}, ${tags[4] as number})`;
    expect(merged[0]?.n).toBe(0);
  });

  it('never misses a row updated again within the newest second already seen', async () => {
    const sim = stack.simulator;
    const { control } = sim;
    control.freezeClock(true);
    const scenes = sortedIds(sim, 'scenes');
    const first = scenes[0] as number;
    // Make the newest second "now" and sync it...
    control.touch('scene', scenes.slice(0, 3));
    control.afterRequests({
      field: 'findScenes',
      n: 2,
      // ...and while that sync runs, edit a row it already read, in the very same second.
      run: (c) => c.update('scene', first, { title: 'edited within the same second' }),
    });
    await (await stack.start('smart')).result();
    expect(control.hookErrors()).toEqual([]);
    // The mirror may or may not have caught it yet; the NEXT smart sync must.
    await (await stack.start('smart')).result();
    const [row] = await stack.db.sql`select title from scenes where id = ${first}`;
    expect(row?.title).toBe('edited within the same second');
    control.freezeClock(false);
  });

  it('misses nothing across a daylight-saving change of the server offset', async () => {
    const sim = stack.simulator;
    const { control } = sim;
    control.setUtcOffset(660);
    control.freezeClock(true);
    const images = sortedIds(sim, 'images');
    control.touch('image', [images[0] as number]);
    await (await stack.start('smart')).result();
    const [mark] = await stack.db.sql`select high_water_mark_raw from sync_state where entity_type = 'image'`;
    expect(mark?.high_water_mark_raw).toMatch(/\+11:00$/);

    // Clocks fall back: the same instant plus a minute now prints an hour EARLIER on the wall.
    control.setUtcOffset(600);
    control.advanceClock(60);
    control.update('image', images[1] as number, { title: 'written after the fall-back' });
    control.update('image', images[0] as number, { title: 'in-window row edited after the fall-back' });
    const raw = control.get('image', images[1] as number)?.updated_at as string;
    expect(raw < (mark?.high_water_mark_raw as string)).toBe(true); // lexically below the mark

    await (await stack.start('smart')).result();
    const rows = await stack.db
      .sql`select id, title from images where id in (${images[0] as number}, ${images[1] as number}) order by id`;
    expect(rows.map((row) => row.title)).toEqual([
      'in-window row edited after the fall-back',
      'written after the fall-back',
    ]);
    expect(await diffMirror(stack.db.sql, sim, stack.stashUrl)).toEqual([]);
    control.freezeClock(false);
  });
});

describe('incremental sync', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 22, scale: 'tiny' });
    await stack.startWorker({ pageSize: 10 });
    await (await stack.startFull()).result();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('refuses a bad since: the CLI before starting anything, the workflow before reading Stash', async () => {
    const cli = spawnSync(process.execPath, [CLI, 'sync', 'incremental', '--since', 'yesterday'], { encoding: 'utf8' });
    expect(cli.status).toBe(64);
    expect(cli.stderr).toMatch(/since must be an RFC 3339 timestamp/);

    stack.simulator.resetStats();
    const started = await stack.start('incremental', { since: '2025-13-01T00:00:00Z' });
    await expect(started.result()).rejects.toThrow();
    const [run] = await stack.db.sql`select status, error from sync_runs where id = ${started.syncRunId}`;
    expect(run?.status).toBe('failed');
    expect(run?.error).toMatch(/since must be an RFC 3339 timestamp/);
    expect(stack.simulator.stats().total).toBe(0);
  });

  it('syncs exactly the rows updated after since', async () => {
    const sim = stack.simulator;
    const { control } = sim;
    control.advanceClock(3 * 3600);
    const since = control.now().toISOString();
    control.advanceClock(60);
    // Half of every type's rows change after `since` (relations untouched, so nothing else moves).
    const changed: Record<string, number[]> = {};
    for (const [type, table] of [
      ['scene', 'scenes'],
      ['image', 'images'],
      ['gallery', 'galleries'],
      ['performer', 'performers'],
      ['studio', 'studios'],
      ['tag', 'tags'],
      ['group', 'groups'],
    ] as const) {
      changed[type] = sortedIds(sim, table).filter((_, index) => index % 2 === 0);
      const field = type === 'tag' ? 'description' : type === 'group' ? 'synopsis' : 'details';
      for (const id of changed[type] ?? []) control.update(type, id, { [field]: `changed ${id}` } as never);
    }

    const summary = await (await stack.start('incremental', { since })).result();
    for (const [type, ids] of Object.entries(changed)) {
      expect(summary.counts[type as keyof typeof summary.counts]?.updated, type).toBe(ids.length);
      expect(summary.counts[type as keyof typeof summary.counts]?.created, type).toBe(0);
    }
    const logged = await stack.db.sql`
      select entity_type, array_agg(entity_id order by entity_id) as ids from sync_log
      where run_id = ${summary.runId} and change_type = 'updated' group by entity_type`;
    const loggedByType = Object.fromEntries(logged.map((row) => [row.entity_type, (row.ids as number[]).map(Number)]));
    expect(loggedByType).toEqual(changed);
  });
});
