import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimulator } from '../../simulator/index.js';
import { gql, list, NOW } from './helpers.js';

const ids = (rows: { id: string }[]) => rows.map((r) => Number(r.id));

describe('listing and paging', () => {
  const sim = createSimulator({ seed: 3, scale: 'small', now: NOW });

  it('pages are 1-based, page 0 (or below) means page 1, and per_page defaults to 25', async () => {
    const first = await list(sim, 'scene', { page: 1, per_page: 10 });
    const second = await list(sim, 'scene', { page: 2, per_page: 10 });
    const zero = await list(sim, 'scene', { page: 0, per_page: 10 });
    const negative = await list(sim, 'scene', { page: -4, per_page: 10 });
    expect(ids(first.rows)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(ids(second.rows)).toEqual(Array.from({ length: 10 }, (_, i) => i + 11));
    expect(ids(zero.rows)).toEqual(ids(first.rows));
    expect(ids(negative.rows)).toEqual(ids(first.rows));
    const defaults = await list(sim, 'scene');
    expect(defaults.rows).toHaveLength(25);
    expect(defaults.count).toBe(1000);
  });

  it('per_page -1 returns everything and per_page 0 returns only the count', async () => {
    const all = await list(sim, 'image', { per_page: -1 });
    expect(all.rows).toHaveLength(3000);
    expect(all.count).toBe(3000);
    const countOnly = await list(sim, 'image', { per_page: 0 });
    expect(countOnly.rows).toEqual([]);
    expect(countOnly.count).toBe(3000);
    expect(sim.stats().byField.findImages?.countOnly).toBe(1);
  });

  it('count is the filtered total, not the page size, and a page past the end is empty', async () => {
    const filtered = await list(
      sim,
      'scene',
      { per_page: 7, sort: 'id' },
      { id: { value: 900, modifier: 'GREATER_THAN' } },
    );
    expect(filtered.count).toBe(100);
    expect(ids(filtered.rows)).toEqual([901, 902, 903, 904, 905, 906, 907]);
    const beyond = await list(
      sim,
      'scene',
      { per_page: 50, page: 3, sort: 'id' },
      { id: { value: 900, modifier: 'GREATER_THAN' } },
    );
    expect(beyond.rows).toEqual([]);
    expect(beyond.count).toBe(100);
    const between = await list(
      sim,
      'gallery',
      { per_page: -1 },
      { id: { value: 10, value2: 19, modifier: 'BETWEEN' } },
    );
    expect(ids(between.rows)).toEqual(Array.from({ length: 10 }, (_, i) => i + 10));
    const outside = await list(
      sim,
      'gallery',
      { per_page: 0 },
      { id: { value: 10, value2: 19, modifier: 'NOT_BETWEEN' } },
    );
    expect(outside.count).toBe(190);
    const timestamped = Array.from(sim.library.scenes.values()).filter(
      (s) => s.updated_at > '2024-06-01T00:00:00+10:00',
    );
    const byTime = await list(
      sim,
      'scene',
      { per_page: 5 },
      { updated_at: { value: '2024-06-01T00:00:00+10:00', modifier: 'GREATER_THAN' } },
    );
    expect(byTime.count).toBe(timestamped.length);
    expect(timestamped.length).toBeGreaterThan(0);
    expect(timestamped.length).toBeLessThan(1000);
  });

  it('orders by id with no sort for scenes, by name for others, and honours DESC', async () => {
    const desc = await list(sim, 'image', { per_page: 3, sort: 'id', direction: 'DESC' });
    expect(ids(desc.rows)).toEqual([3000, 2999, 2998]);
    const studios = await list(sim, 'studio', { per_page: -1 }, null, 'id name');
    const names = studios.rows.map((r) => (r.name as string).toLowerCase());
    expect(names).toEqual([...names].sort());
    const tags = await list(sim, 'tag', { per_page: 5, sort: 'updated_at', direction: 'DESC' }, null, 'id updated_at');
    const stamps = tags.rows.map((r) => r.updated_at as string);
    expect(stamps).toEqual([...stamps].sort().reverse());
  });

  it('keyset pages (id > last, sort id) walk the whole table without gaps', async () => {
    const seen: number[] = [];
    let after = 0;
    for (;;) {
      const page = await list(
        sim,
        'image',
        { per_page: 400, sort: 'id' },
        { id: { value: after, modifier: 'GREATER_THAN' } },
      );
      if (page.rows.length === 0) break;
      seen.push(...ids(page.rows));
      after = seen[seen.length - 1] as number;
    }
    expect(seen).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
  });

  it('rejects an unknown sort column like Stash does', async () => {
    const reply = await gql(sim, '{ findScenes(filter: { sort: "bogus" }) { count } }');
    expect(reply.status).toBe(200);
    expect(reply.body.errors?.[0]?.message).toBe('invalid sort: bogus');
  });

  it('reports aggregate duration and file size over the whole filtered set', async () => {
    const reply = await gql<{ findScenes: { count: number; duration: number; filesize: number } }>(
      sim,
      '{ findScenes(filter: { per_page: 1 }) { count duration filesize } }',
    );
    const scenes = Array.from(sim.library.scenes.values());
    const duration = scenes.reduce((sum, s) => sum + (s.files[0]?.duration ?? 0), 0);
    expect(reply.body.data?.findScenes.duration).toBeCloseTo(duration, 3);
    expect(reply.body.data?.findScenes.filesize).toBe(scenes.reduce((sum, s) => sum + (s.files[0]?.size ?? 0), 0));
  });
});

describe('timestamp-range listings (the incremental-sync shape)', () => {
  const sim = createSimulator({ seed: 6, scale: 'small', now: NOW });
  const stamps = [...new Set(Array.from(sim.library.scenes.values(), (s) => s.updated_at))].sort();

  it('match a brute-force filter and stay ordered, whichever internal path answers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GREATER_THAN', 'LESS_THAN', 'EQUALS', 'BETWEEN'),
        fc.integer({ min: 0, max: stamps.length - 1 }),
        fc.integer({ min: 0, max: stamps.length - 1 }),
        fc.constantFrom('ASC', 'DESC'),
        fc.boolean(),
        async (modifier, i, j, direction, forceLinear) => {
          const value = stamps[Math.min(i, j)] as string;
          const value2 = stamps[Math.max(i, j)] as string;
          const criterion = { value, value2, modifier };
          // A second, always-true criterion defeats the binary-search path.
          const filter = forceLinear
            ? { updated_at: criterion, created_at: { value: '', modifier: 'NOT_NULL' } }
            : { updated_at: criterion };
          const result = await list(sim, 'scene', { per_page: -1, sort: 'updated_at', direction }, filter);
          const expected = Array.from(sim.library.scenes.values()).filter((s) => {
            const k = s.updated_at;
            if (modifier === 'GREATER_THAN') return k > value;
            if (modifier === 'LESS_THAN') return k < value;
            if (modifier === 'EQUALS') return k === value;
            return k >= value && k <= value2;
          });
          expect(result.count).toBe(expected.length);
          expect(ids(result.rows).sort((a, b) => a - b)).toEqual(expected.map((s) => s.id));
          const keys = result.rows.map((r) => r.updated_at as string);
          expect(keys).toEqual(direction === 'ASC' ? [...keys].sort() : [...keys].sort().reverse());
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('AND / OR / NOT sub-filters', () => {
  const sim = createSimulator({ seed: 3, scale: 'small', now: NOW });

  it('combine criteria the way Stash nests them', async () => {
    const gt = (value: number) => ({ id: { value, modifier: 'GREATER_THAN' } });
    const lt = (value: number) => ({ id: { value, modifier: 'LESS_THAN' } });
    const either = await list(sim, 'gallery', { per_page: -1, sort: 'id' }, { ...lt(3), OR: gt(197) });
    expect(ids(either.rows)).toEqual([1, 2, 198, 199, 200]);
    const both = await list(sim, 'gallery', { per_page: -1, sort: 'id' }, { ...gt(10), AND: lt(14) });
    expect(ids(both.rows)).toEqual([11, 12, 13]);
    const not = await list(sim, 'gallery', { per_page: 0 }, { NOT: gt(5) });
    expect(not.count).toBe(5);
  });
});
