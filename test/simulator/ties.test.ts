import { describe, expect, it } from 'vitest';
import { createSimulator } from '../../simulator/index.js';
import { list, NOW } from './helpers.js';

const STAMP = '2025-02-20T12:00:00+10:00';

function withTies() {
  const sim = createSimulator({ seed: 5, now: NOW });
  const tied: number[] = [];
  for (let i = 0; i < 30; i++) {
    tied.push(sim.control.create('scene', { title: 'Same Title', created_at: STAMP, updated_at: STAMP }));
  }
  return { sim, tied };
}

describe('rows that tie on the sort key and the final title key', () => {
  const byStamp = { updated_at: { value: STAMP, modifier: 'EQUALS' } };

  it('come back in a different order from one request to the next', async () => {
    const { sim, tied } = withTies();
    const orders = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const page = await list(sim, 'scene', { per_page: -1, sort: 'updated_at' }, byStamp);
      expect(page.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(tied);
      orders.add(page.rows.map((r) => r.id).join(','));
    }
    expect(orders.size).toBeGreaterThanOrEqual(2);
  });

  it('so offset paging over them repeats some rows and skips others', async () => {
    const { sim, tied } = withTies();
    const walked: number[] = [];
    for (let page = 1; page <= 3; page++) {
      const result = await list(sim, 'scene', { page, per_page: 10, sort: 'updated_at', direction: 'DESC' }, byStamp);
      walked.push(...result.rows.map((r) => Number(r.id)));
    }
    expect(walked).toHaveLength(30);
    const distinct = new Set(walked);
    expect(distinct.size).toBeLessThan(30);
    expect(tied.filter((id) => !distinct.has(id)).length).toBeGreaterThan(0);
  });

  it('are ordered by title (natural, case-insensitive, untitled first) when only the sort key ties', async () => {
    const sim = createSimulator({ seed: 5, now: NOW });
    const make = (title: string | null) => sim.control.create('scene', { title, created_at: STAMP, updated_at: STAMP });
    const b = make('b');
    const scene10 = make('Scene 10');
    const a = make('A');
    const untitled = make(null);
    const scene9 = make('scene 9');
    for (let i = 0; i < 5; i++) {
      const page = await list(sim, 'scene', { per_page: -1, sort: 'updated_at', direction: 'DESC' }, byStamp);
      expect(page.rows.map((r) => Number(r.id))).toEqual([untitled, a, b, scene9, scene10]);
    }
  });

  it('also shuffle for types sorted by name', async () => {
    const sim = createSimulator({ seed: 5, now: NOW });
    for (let i = 0; i < 12; i++) sim.control.create('group', { name: 'Twin', created_at: STAMP, updated_at: STAMP });
    const orders = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const page = await list(sim, 'group', { per_page: -1 }, byStamp, 'id name');
      orders.add(page.rows.map((r) => r.id).join(','));
    }
    expect(orders.size).toBeGreaterThanOrEqual(2);
  });
});
