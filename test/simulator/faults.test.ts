import { afterAll, describe, expect, it } from 'vitest';
import { createSimulator } from '../../simulator/index.js';
import { gql, NOW } from './helpers.js';

const QUERY = '{ findScenes(filter: { per_page: 5 }) { count scenes { id title } } }';

function post(url: string, query = QUERY): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
}

describe('faults', () => {
  it('errorRate 1 answers every request with HTTP 500; clearFaults restores service', async () => {
    const sim = createSimulator({ now: NOW });
    sim.control.setFaults({ errorRate: 1 });
    for (let i = 0; i < 3; i++) {
      const response = await sim.fetch(
        new Request('http://sim/graphql', { method: 'POST', body: JSON.stringify({ query: QUERY }) }),
      );
      expect(response.status).toBe(500);
    }
    expect(sim.stats().faults.errors).toBe(3);
    sim.control.clearFaults();
    expect((await gql(sim, QUERY)).status).toBe(200);
  });

  it('a fractional errorRate fails roughly that share, reproducibly for a seed', async () => {
    const run = async () => {
      const sim = createSimulator({ now: NOW });
      sim.control.setFaults({ errorRate: 0.3, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 100; i++) {
        statuses.push(
          (
            await sim.fetch(
              new Request('http://sim/graphql', { method: 'POST', body: JSON.stringify({ query: QUERY }) }),
            )
          ).status,
        );
      }
      return statuses;
    };
    const first = await run();
    const failures = first.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(15);
    expect(failures).toBeLessThan(45);
    expect(await run()).toEqual(first);
  });

  it('truncateRate 1 sends status 200 with a body that is not valid JSON', async () => {
    const sim = createSimulator({ now: NOW });
    sim.control.setFaults({ truncateRate: 1 });
    const response = await sim.fetch(
      new Request('http://sim/graphql', { method: 'POST', body: JSON.stringify({ query: QUERY }) }),
    );
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.startsWith('{"data"')).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
  });

  it('latencyMs delays answers measurably', async () => {
    const sim = createSimulator({ now: NOW });
    sim.control.setFaults({ latencyMs: 120 });
    const started = performance.now();
    expect((await gql(sim, QUERY)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
  });

  describe('over a real socket', () => {
    const sim = createSimulator({ now: NOW });
    const listening = sim.listen({ port: 0 });
    afterAll(async () => (await listening).close());

    it('dropRate 1 destroys the connection: fetch rejects, and the server keeps serving', async () => {
      const { url } = await listening;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      sim.control.setFaults({ dropRate: 1 });
      await expect(post(`${url}/graphql`)).rejects.toThrow();
      expect(sim.stats().faults.drops).toBe(1);
      sim.control.clearFaults();
      const ok = await post(`${url}/graphql`);
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { data: { findScenes: { count: number } } }).data.findScenes.count).toBe(25);
    });

    it('truncation over the socket gives a 200 whose JSON cannot be parsed', async () => {
      const { url } = await listening;
      sim.control.setFaults({ truncateRate: 1 });
      const response = await post(`${url}/graphql`);
      expect(response.status).toBe(200);
      await expect(response.json()).rejects.toThrow();
      sim.control.clearFaults();
    });
  });

  it('in-process, a dropped request rejects like fetch does', async () => {
    const sim = createSimulator({ now: NOW });
    sim.control.setFaults({ dropRate: 1 });
    await expect(gql(sim, QUERY)).rejects.toThrow('fetch failed');
  });
});

describe('corrupt()', () => {
  it('patches raw values into the entity wherever a response contains it, until cleared', async () => {
    const sim = createSimulator({ now: NOW });
    sim.control.corrupt('performer', 2, { gender: 'ROBOT', name: null });
    sim.control.corrupt('scene', 3, { date: '2023-13-45', updated_at: 'garbage' });
    const listed = await gql<{
      findPerformers: { performers: { id: string; name: string | null; gender: string | null }[] };
    }>(sim, '{ findPerformers(ids: ["1", "2"]) { performers { id name gender } } }');
    const [one, two] = listed.body.data?.findPerformers.performers ?? [];
    expect(two).toEqual({ id: '2', name: null, gender: 'ROBOT' });
    expect(one?.name).toBe(sim.library.performers.get(1)?.name);

    // Nested, without selecting the id, and the probes never leak into the response.
    const scenes = await gql<{ findScenes: { scenes: Record<string, unknown>[] } }>(
      sim,
      '{ findScenes(ids: ["3"]) { scenes { title date updated_at } } }',
    );
    expect(scenes.body.data?.findScenes.scenes[0]).toEqual({
      title: sim.library.scenes.get(3)?.title,
      date: '2023-13-45',
      updated_at: 'garbage',
    });
    const withPerformer = Array.from(sim.library.scenes.values()).find((s) => s.performer_ids.includes(2));
    if (withPerformer) {
      const nested = await gql<{ findScene: { performers: { id: string; gender: string | null }[] } }>(
        sim,
        `{ findScene(id: "${withPerformer.id}") { performers { id gender } } }`,
      );
      expect(nested.body.data?.findScene.performers.find((p) => p.id === '2')?.gender).toBe('ROBOT');
    }
    sim.control.clearCorruptions();
    const clean = await gql<{ findPerformers: { performers: { name: string }[] } }>(
      sim,
      '{ findPerformers(ids: ["2"]) { performers { name } } }',
    );
    expect(clean.body.data?.findPerformers.performers[0]?.name).toBe(sim.library.performers.get(2)?.name);
  });
});
