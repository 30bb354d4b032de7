import { describe, expect, it } from 'vitest';
import { createSimulator } from '../../simulator/index.js';
import { list, NOW } from './helpers.js';

describe('offset paging over live data', () => {
  it('skips a row when a row on an earlier page is deleted between page requests', async () => {
    const sim = createSimulator({ seed: 8, scale: 'small', now: NOW });
    const expected = Array.from(sim.library.scenes.keys()).slice(0, 60);
    // After page 1 has been answered, delete a row that page 1 returned.
    sim.control.afterRequests({ field: 'findScenes', n: 1, run: (c) => c.remove('scene', 5) });
    const seen: number[] = [];
    for (let page = 1; page <= 3; page++) {
      const result = await list(sim, 'scene', { page, per_page: 20, sort: 'id' });
      seen.push(...result.rows.map((r) => Number(r.id)));
    }
    // Everything shifted left by one: scene 21 slid onto page 1 after it was read, so nobody saw it.
    expect(seen).toContain(5);
    expect(seen).not.toContain(21);
    expect(seen).toContain(61);
    expect(expected.filter((id) => !seen.includes(id))).toEqual([21]);
    expect(sim.library.scenes.has(5)).toBe(false);
  });

  it('repeats a row when a row is created ahead of the cursor', async () => {
    const sim = createSimulator({ seed: 8, scale: 'small', now: NOW });
    sim.control.freezeClock(true);
    // Newest first: a new row lands on page 1 after it was read and pushes page 1's last row onto page 2.
    sim.control.afterRequests({ field: 'findScenes', n: 1, run: (c) => c.create('scene', { title: 'fresh' }) });
    const p1 = await list(sim, 'scene', { page: 1, per_page: 10, sort: 'id', direction: 'DESC' });
    const p2 = await list(sim, 'scene', { page: 2, per_page: 10, sort: 'id', direction: 'DESC' });
    expect(p2.rows[0]?.id).toBe(p1.rows[9]?.id);
  });
});
