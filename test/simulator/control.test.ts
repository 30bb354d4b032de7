import { describe, expect, it } from 'vitest';
import { createSimulator } from '../../simulator/index.js';
import { control, gql, list, NOW } from './helpers.js';

describe('hooks', () => {
  it('run after the n-th matching request and before the next one is answered', async () => {
    const sim = createSimulator({ now: NOW });
    sim.control.freezeClock(true);
    const fired: number[] = [];
    sim.control.afterRequests({
      field: 'findScenes',
      n: 2,
      run: (c) => {
        fired.push(sim.stats().byField.findScenes?.requests ?? 0);
        c.update('scene', 1, { title: 'changed by hook' });
      },
    });
    await list(sim, 'tag', { per_page: 1 });
    const first = await list(sim, 'scene', { per_page: 1, sort: 'id' }, null, 'id title');
    expect(fired).toEqual([]);
    const second = await list(sim, 'scene', { per_page: 1, sort: 'id' }, null, 'id title');
    expect(fired).toEqual([2]);
    // The n-th answer itself was computed before the hook ran.
    expect(second.rows[0]?.title).toBe(first.rows[0]?.title);
    const third = await list(sim, 'scene', { per_page: 1, sort: 'id' }, null, 'id title');
    expect(third.rows[0]?.title).toBe('changed by hook');
    await list(sim, 'scene', { per_page: 1 });
    await list(sim, 'scene', { per_page: 1 });
    expect(fired).toEqual([2]);
  });

  it('repeat every n-th request when once is false, and clearHooks stops them', async () => {
    const sim = createSimulator({ now: NOW });
    let runs = 0;
    sim.control.afterRequests({ n: 2, once: false, run: () => runs++ });
    for (let i = 0; i < 6; i++) await list(sim, 'tag', { per_page: 1 });
    expect(runs).toBe(3);
    sim.control.clearHooks();
    for (let i = 0; i < 4; i++) await list(sim, 'tag', { per_page: 1 });
    expect(runs).toBe(3);
  });
});

describe('HTTP control route', () => {
  it('updates data and arms hooks with a follow-up action', async () => {
    const sim = createSimulator({ now: NOW });
    const updated = await control(sim, {
      action: 'update',
      type: 'scene',
      id: 4,
      patch: { title: 'via http', tag_ids: [2] },
    });
    expect(updated.status).toBe(200);
    expect(sim.library.scenes.get(4)?.title).toBe('via http');
    expect(sim.library.scenes.get(4)?.tag_ids).toEqual([2]);

    const armed = await control(sim, {
      action: 'afterRequests',
      field: 'findScenes',
      n: 1,
      // biome-ignore lint/suspicious/noThenProperty: the control protocol names the follow-up action `then`.
      then: { action: 'remove', type: 'scene', id: 4 },
    });
    expect(armed).toEqual({ status: 200, body: { ok: true } });
    await list(sim, 'scene', { per_page: 1 });
    expect(sim.library.scenes.has(4)).toBe(false);

    const created = await control(sim, { action: 'create', type: 'tag', fields: { name: 'from http' } });
    expect(sim.library.tags.get(created.body.id as number)?.name).toBe('from http');
    const clock = await control(sim, { action: 'setClock', date: '2026-01-01T00:00:00Z' });
    expect(clock.body.stamp).toMatch(/^2026-01-01T10:00:0\d\+10:00$/);
  });

  it('reports bad actions with 400 and can be disabled', async () => {
    const sim = createSimulator({ now: NOW });
    expect((await control(sim, { action: 'explode' })).status).toBe(400);
    expect((await control(sim, { action: 'update', type: 'scene', id: 999, patch: {} })).body.error).toBe(
      'scene with id 999 not found',
    );
    // biome-ignore lint/suspicious/noThenProperty: the control protocol names the follow-up action `then`.
    const badHook = { action: 'afterRequests', n: 1, then: { action: 'nope' } };
    expect((await control(sim, badHook)).status).toBe(400);
    const closed = createSimulator({ now: NOW, control: false });
    expect((await control(closed, { action: 'now' })).status).toBe(404);
    closed.control.update('tag', 1, { name: 'in-process still works' });
    expect(closed.library.tags.get(1)?.name).toBe('in-process still works');
  });
});

describe('stats and reset', () => {
  it('count requests per root field, count-only probes, id fetches, rows, and recent variables', async () => {
    const sim = createSimulator({ now: NOW });
    await gql(sim, 'query($f: FindFilterType) { findScenes(filter: $f) { count } }', { f: { per_page: 0 } });
    await gql(
      sim,
      '{ findScenes(filter: { per_page: 0 }) { count } findTags(filter: { per_page: 3 }) { tags { id } } }',
    );
    await gql(sim, '{ findScenes(ids: ["1", "2"]) { scenes { id } } }');
    const stats = sim.stats();
    expect(stats.total).toBe(3);
    expect(stats.byField.findScenes).toEqual({ requests: 3, countOnly: 2, byIds: 1, rowsReturned: 2 });
    expect(stats.byField.findTags).toEqual({ requests: 1, countOnly: 0, byIds: 0, rowsReturned: 3 });
    expect(stats.recent[0]).toMatchObject({ field: 'findScenes', variables: { f: { per_page: 0 } } });
    expect(stats.recent.map((r) => r.field)).toEqual(['findScenes', 'findScenes', 'findTags', 'findScenes']);
    sim.resetStats();
    expect(sim.stats().total).toBe(0);
  });

  it('reset() clears faults, corruptions, hooks and stats but keeps data', async () => {
    const sim = createSimulator({ now: NOW });
    sim.control.update('scene', 1, { title: 'kept' });
    sim.control.setFaults({ errorRate: 1 });
    sim.control.corrupt('scene', 1, { title: 'corrupted' });
    let ran = false;
    sim.control.afterRequests({ n: 1, run: () => (ran = true) });
    sim.control.reset();
    const reply = await gql<{ findScene: { title: string } }>(sim, '{ findScene(id: "1") { title } }');
    expect(reply.status).toBe(200);
    expect(reply.body.data?.findScene.title).toBe('kept');
    expect(ran).toBe(false);
    expect(sim.stats().total).toBe(1);
  });
});
