import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSeedScenario, type Library } from '../../simulator/index.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import {
  hierarchies,
  imageEffective,
  imageLinks,
  type Modifier,
  type MultiInput,
  matches,
  sceneTags,
  text,
} from './oracle.js';
import { type ApiServer, startApi, waitFor } from './support.js';

interface Found {
  count: number;
  ids: number[];
  items: Array<Record<string, unknown>>;
}

type Named = { id: string; name?: string; title?: string };

describe('library reads in Stash’s filter language', () => {
  let stack: TestStack;
  let api: ApiServer;
  let library: Library;

  async function find(type: string, body: unknown): Promise<Found> {
    const response = await api.request<Record<string, Record<string, unknown>>>('POST', `/api/library/${type}`, {
      body,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const [answer] = Object.values(response.body);
    const list = Object.entries(answer ?? {}).find(([key]) => key !== 'count')?.[1] as Array<Record<string, unknown>>;
    return { count: answer?.count as number, items: list, ids: list.map((item) => Number(item.id)) };
  }

  const sorted = (ids: Iterable<number>) => [...ids].sort((a, b) => a - b);

  async function syncAndWait(path: string): Promise<string> {
    const started = await api.request<{ runId: string; statusUrl: string }>('POST', path, { body: {} });
    expect(started.status).toBe(202);
    await waitFor(async () => {
      const run = await api.request<{ run: { status: string } }>('GET', started.body.statusUrl);
      return run.body.run.status === 'running' ? undefined : run.body.run.status;
    });
    return started.body.runId;
  }

  beforeAll(async () => {
    stack = await createTestStack({ seed: 1, scale: 'tiny' });
    await stack.startWorker({ pageSize: 10 });
    api = await startApi(stack);
    library = stack.simulator.library;
    await syncAndWait('/api/sync/full');
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it('finds images through a performer that is only on their gallery (the seed test)', async () => {
    const seed = findSeedScenario(library);
    expect(seed).not.toBeNull();
    if (!seed) return;
    const found = await find('images', {
      filter: { per_page: 50 },
      image_filter: { performers: { value: [String(seed.performerId)], modifier: 'INCLUDES' } },
    });
    expect(found.count).toBeGreaterThan(0);
    expect(found.ids).toEqual(expect.arrayContaining(seed.imageIds));
    const image = found.items.find((item) => Number(item.id) === seed.imageIds[0]) as {
      performers: Named[];
      effective: { performers: Array<Named & { inherited: boolean }> };
    };
    expect(image.performers.map((p) => p.id)).not.toContain(String(seed.performerId));
    expect(image.effective.performers).toContainEqual(
      expect.objectContaining({ id: String(seed.performerId), inherited: true }),
    );
  });

  it('answers every type with Stash’s shape and the live count', async () => {
    const expected: Record<string, [number, string, string]> = {
      scenes: [library.scenes.size, 'findScenes', 'scenes'],
      images: [library.images.size, 'findImages', 'images'],
      galleries: [library.galleries.size, 'findGalleries', 'galleries'],
      performers: [library.performers.size, 'findPerformers', 'performers'],
      studios: [library.studios.size, 'findStudios', 'studios'],
      tags: [library.tags.size, 'findTags', 'tags'],
      groups: [library.groups.size, 'findGroups', 'groups'],
    };
    for (const [type, [size, field, list]] of Object.entries(expected)) {
      const response = await api.request<Record<string, Record<string, unknown>>>('POST', `/api/library/${type}`, {
        body: { filter: { per_page: -1 } },
      });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual([field]);
      expect(response.body[field]?.count).toBe(size);
      const items = response.body[field]?.[list] as Array<{ id: unknown }>;
      expect(items).toHaveLength(size);
      expect(typeof items[0]?.id).toBe('string');
      const one = await api.request<Record<string, { id: string }>>('GET', `/api/library/${type}/${items[0]?.id}`);
      expect(one.status).toBe(200);
      expect(Object.values(one.body)[0]?.id).toBe(items[0]?.id);
    }
    // No body at all is an empty filter.
    const bare = await api.request<{ findTags: { count: number } }>('POST', '/api/library/tags');
    expect(bare.body.findTags.count).toBe(library.tags.size);

    const scene = [...library.scenes.values()].find((s) => s.studio_id !== null && s.performer_ids.length > 0);
    if (!scene) throw new Error('no scene with a studio and performers');
    const one = await api.request<{ findScene: Record<string, unknown> }>('GET', `/api/library/scenes/${scene.id}`);
    expect(one.body.findScene).toMatchObject({
      id: String(scene.id),
      title: text(scene.title),
      studio: { id: String(scene.studio_id), name: library.studios.get(scene.studio_id as number)?.name },
      updated_at: scene.updated_at,
    });
    const performers = one.body.findScene.performers as Named[];
    expect(sorted(performers.map((p) => Number(p.id)))).toEqual(sorted(scene.performer_ids));
    expect(performers[0]).toEqual({ id: expect.any(String), name: expect.any(String) });
    expect((await api.request('GET', '/api/library/scenes/999999999')).status).toBe(404);
  });

  it('matches INCLUDES, INCLUDES_ALL and EXCLUDES on performers, tags (own + inherited, with depth), studios, galleries and groups', async () => {
    const tree = hierarchies(library);
    const sceneIds = sorted(library.scenes.keys());
    const imageIds = sorted(library.images.keys());
    const pick = (map: Map<number, unknown>) => fc.subarray(sorted(map.keys()), { minLength: 0, maxLength: 3 });
    const modifier = fc.constantFrom<Modifier>('INCLUDES', 'INCLUDES_ALL', 'EXCLUDES', 'IS_NULL', 'NOT_NULL');
    const input = (map: Map<number, unknown>, hierarchical: boolean) =>
      fc.record({
        value: pick(map),
        modifier,
        ...(hierarchical ? { depth: fc.constantFrom(0, 1, 2, -1) } : {}),
        excludes: fc.option(pick(map), { nil: undefined }),
      }) as fc.Arbitrary<MultiInput>;
    const body = (criterion: MultiInput) => ({
      value: criterion.value.map(String),
      modifier: criterion.modifier,
      ...(criterion.depth !== undefined ? { depth: criterion.depth } : {}),
      ...(criterion.excludes ? { excludes: criterion.excludes.map(String) } : {}),
    });

    const sceneCases = fc.oneof(
      input(library.performers, false).map((c) => ({ key: 'performers', c })),
      input(library.tags, true).map((c) => ({ key: 'tags', c })),
      input(library.studios, true).map((c) => ({ key: 'studios', c })),
      input(library.galleries, false).map((c) => ({ key: 'galleries', c })),
      input(library.groups, true).map((c) => ({ key: 'groups', c })),
    );
    await fc.assert(
      fc.asyncProperty(sceneCases, async ({ key, c }) => {
        const expected = sceneIds.filter((id) => {
          const scene = library.scenes.get(id);
          if (!scene) return false;
          if (key === 'performers') return matches(new Set(scene.performer_ids), c);
          if (key === 'tags') return matches(sceneTags(library, id), c, tree.tags);
          if (key === 'studios')
            return matches(new Set(scene.studio_id === null ? [] : [scene.studio_id]), c, tree.studios);
          if (key === 'galleries') return matches(new Set(scene.gallery_ids), c);
          return matches(new Set(scene.groups.map((g) => g.group_id)), c, tree.groups);
        });
        const found = await find('scenes', { filter: { per_page: -1 }, scene_filter: { [key]: body(c) } });
        expect(sorted(found.ids), `${key} ${JSON.stringify(c)}`).toEqual(expected);
        expect(found.count).toBe(expected.length);
      }),
      { numRuns: 60 },
    );

    const imageCases = fc.oneof(
      input(library.performers, false).map((c) => ({ key: 'performers', c })),
      input(library.tags, true).map((c) => ({ key: 'tags', c })),
      input(library.studios, true).map((c) => ({ key: 'studios', c })),
      input(library.galleries, false).map((c) => ({ key: 'galleries', c })),
    );
    await fc.assert(
      fc.asyncProperty(imageCases, async ({ key, c }) => {
        const expected = imageIds.filter((id) => {
          const image = library.images.get(id);
          if (!image) return false;
          if (key === 'performers') return matches(imageLinks(library, id, 'performer_ids'), c);
          if (key === 'tags') return matches(imageLinks(library, id, 'tag_ids'), c, tree.tags);
          if (key === 'studios') {
            const studio = imageEffective(library, id, 'studio_id');
            return matches(new Set(studio === null ? [] : [studio]), c, tree.studios);
          }
          return matches(new Set(image.gallery_ids), c);
        });
        const found = await find('images', { filter: { per_page: -1 }, image_filter: { [key]: body(c) } });
        expect(sorted(found.ids), `${key} ${JSON.stringify(c)}`).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('matches scenes by a tag they only inherit, and follows tag depth', async () => {
    const tree = hierarchies(library);
    const inheritedOnly = [...library.scenes.values()].flatMap((scene) =>
      [...sceneTags(library, scene.id)].filter((tag) => !scene.tag_ids.includes(tag)).map((tag) => ({ scene, tag })),
    )[0];
    expect(inheritedOnly).toBeDefined();
    if (!inheritedOnly) return;
    const found = await find('scenes', {
      filter: { per_page: -1 },
      scene_filter: { tags: { value: [String(inheritedOnly.tag)], modifier: 'INCLUDES' } },
    });
    expect(found.ids).toContain(inheritedOnly.scene.id);

    // A parent tag with a grandchild: depth 0 < depth 1 <= depth -1 in what they reach.
    const parent = [...library.tags.values()].find((tag) =>
      tree.tags(tag.id).some((child) => tree.tags(child).length > 0),
    );
    expect(parent).toBeDefined();
    if (!parent) return;
    const counts: number[] = [];
    for (const depth of [0, 1, -1]) {
      const result = await find('tags', {
        filter: { per_page: -1 },
        tag_filter: { parents: { value: [String(parent.id)], modifier: 'INCLUDES', depth } },
      });
      counts.push(result.count);
    }
    expect(counts[0]).toBe(tree.tags(parent.id).length);
    expect(counts[1]).toBeGreaterThan(counts[0] as number);
    expect(counts[2]).toBeGreaterThanOrEqual(counts[1] as number);
  });

  it('filters on rating100, date, organized and updated_at like Stash', async () => {
    const scenes = [...library.scenes.values()];
    const expectIds = async (filter: Record<string, unknown>, keep: (scene: (typeof scenes)[number]) => boolean) => {
      const found = await find('scenes', { filter: { per_page: -1 }, scene_filter: filter });
      expect(sorted(found.ids), JSON.stringify(filter)).toEqual(sorted(scenes.filter(keep).map((s) => s.id)));
    };
    await expectIds({ rating100: { value: 50, modifier: 'GREATER_THAN' } }, (s) => (s.rating100 ?? -1) > 50);
    await expectIds(
      { rating100: { value: 20, value2: 80, modifier: 'BETWEEN' } },
      (s) => s.rating100 !== null && s.rating100 >= 20 && s.rating100 <= 80,
    );
    await expectIds({ rating100: { modifier: 'IS_NULL' } }, (s) => s.rating100 === null);
    await expectIds({ rating100: { value: 0, modifier: 'NOT_NULL' } }, (s) => s.rating100 !== null);
    const dates = scenes.flatMap((s) => (s.date ? [s.date] : [])).sort();
    const middle = dates[Math.floor(dates.length / 2)] as string;
    await expectIds({ date: { value: middle, modifier: 'LESS_THAN' } }, (s) => s.date !== null && s.date < middle);
    await expectIds({ date: { value: middle, modifier: 'EQUALS' } }, (s) => s.date === middle);
    await expectIds({ organized: true }, (s) => s.organized);
    await expectIds(
      { organized: false, rating100: { value: 50, modifier: 'LESS_THAN' } },
      (s) => !s.organized && s.rating100 !== null && s.rating100 < 50,
    );
    const stamps = scenes.map((s) => Date.parse(s.updated_at)).sort((a, b) => a - b);
    const cut = new Date(stamps[Math.floor(stamps.length / 2)] as number).toISOString().replace('.000Z', 'Z');
    await expectIds(
      { updated_at: { value: cut, modifier: 'GREATER_THAN' } },
      (s) => Date.parse(s.updated_at) > Date.parse(cut),
    );
    await expectIds(
      { updated_at: { value: cut, modifier: 'LESS_THAN' } },
      (s) => Date.parse(s.updated_at) < Date.parse(cut),
    );
  });

  it('sorts only by allow-listed columns and pages with a stable count', async () => {
    const byTitle = await find('scenes', { filter: { per_page: -1, sort: 'title', direction: 'DESC' } });
    const titles = byTitle.items.map((item) => item.title as string | null);
    const nonNull = titles.filter((title): title is string => title !== null);
    expect(nonNull).toEqual(
      [...nonNull].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? 1 : a.toLowerCase() > b.toLowerCase() ? -1 : 0)),
    );
    expect(titles.slice(nonNull.length).every((title) => title === null)).toBe(true);

    for (const sort of ['nonsense', 'title; drop table scenes', 'stash_updated_at_raw']) {
      const bad = await api.request('POST', '/api/library/scenes', { body: { filter: { sort } } });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ field: 'filter.sort' });
    }

    const all = new Set<number>();
    let pages = 0;
    for (let page = 1; ; page++) {
      const found = await find('scenes', { filter: { per_page: 7, page, sort: 'date', direction: 'ASC' } });
      expect(found.count).toBe(library.scenes.size);
      if (found.ids.length === 0) break;
      pages++;
      for (const id of found.ids) all.add(id);
    }
    expect(pages).toBe(Math.ceil(library.scenes.size / 7));
    expect(all.size).toBe(library.scenes.size);

    for (const per_page of [1001, 2.5, 2 ** 53, '10']) {
      const bad = await api.request('POST', '/api/library/scenes', { body: { filter: { per_page } } });
      expect(bad.status, String(per_page)).toBe(400);
      expect(bad.body).toMatchObject({ field: 'filter.per_page' });
    }
    const tooBig = await api.request<{ error: string }>('POST', '/api/library/scenes', {
      body: { filter: { per_page: 1001 } },
    });
    expect(tooBig.body.error).toMatch(/at most 1000.*0 for the count only.*-1 \(any negative\) for every match/);
    // As in Stash: 0 answers only the count, any negative every match (page ignored).
    expect(await find('scenes', { filter: { per_page: 0, page: 3 } })).toMatchObject({
      count: library.scenes.size,
      ids: [],
    });
    const every = await find('scenes', { filter: { per_page: -2, page: 3, sort: 'date', direction: 'ASC' } });
    expect(every.count).toBe(library.scenes.size);
    expect(every.ids).toEqual(
      (await find('scenes', { filter: { per_page: 1000, sort: 'date', direction: 'ASC' } })).ids,
    );
  });

  it('searches titles with q, literally', async () => {
    const scene = [...library.scenes.values()].find((s) => s.title && s.title.length > 4);
    if (!scene?.title) throw new Error('no titled scene');
    const word = scene.title.slice(1, 4);
    const found = await find('scenes', { filter: { q: word.toUpperCase(), per_page: -1 } });
    const expected = [...library.scenes.values()].filter((s) =>
      [s.title, s.code, s.files[0]?.path].some((text) => text?.toLowerCase().includes(word.toLowerCase())),
    );
    expect(sorted(found.ids)).toEqual(sorted(expected.map((s) => s.id)));
    expect((await find('scenes', { filter: { q: '%' } })).count).toBe(0);
    expect((await find('scenes', { filter: { q: '_' } })).count).toBe(0);
  });

  it('names the offending field on bad criteria', async () => {
    const cases: Array<[unknown, string]> = [
      [{ image_filter: { nonsense: {} } }, 'image_filter.nonsense'],
      [{ image_filter: { performers: { value: ['1'], modifier: 'MAYBE' } } }, 'image_filter.performers.modifier'],
      [{ image_filter: { performers: { value: ['x1'], modifier: 'INCLUDES' } } }, 'image_filter.performers.value.0'],
      [
        { image_filter: { performers: { value: ['1'], modifier: 'INCLUDES', depth: 1 } } },
        'image_filter.performers.depth',
      ],
      [{ image_filter: { rating100: { value: 1, modifier: 'BETWEEN' } } }, 'image_filter.rating100.value2'],
      [{ image_filter: { rating100: { value: 2 ** 40, modifier: 'EQUALS' } } }, 'image_filter.rating100.value'],
      [{ image_filter: { date: { value: '2025-02-30', modifier: 'EQUALS' } } }, 'image_filter.date.value'],
      [
        { image_filter: { updated_at: { value: 'yesterday', modifier: 'GREATER_THAN' } } },
        'image_filter.updated_at.value',
      ],
      [{ scene_filter: {} }, 'scene_filter'],
      [{ filter: { page: 0 } }, 'filter.page'],
      [{ filter: { direction: 'SIDEWAYS' } }, 'filter.direction'],
      [[], 'body'],
    ];
    for (const [body, field] of cases) {
      const response = await api.request('POST', '/api/library/images', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toEqual({ error: expect.stringContaining(field), field });
    }
    const tooMany = await api.request('POST', '/api/library/scenes', {
      body: {
        scene_filter: {
          tags: { value: Array.from({ length: 101 }, (_, i) => String(i + 1)), modifier: 'INCLUDES_ALL' },
        },
      },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body).toMatchObject({ field: 'scene_filter.tags.value' });
    expect((await api.request('GET', '/api/library/scenes/abc')).body).toMatchObject({ field: 'id' });
  });

  it('never shows soft-deleted rows, and a scene’s sync log shows its runs', async () => {
    const [gone] = [...library.scenes.keys()];
    const before = await find('scenes', { filter: { per_page: -1 } });
    stack.simulator.control.remove('scene', gone as number);
    const runId = await syncAndWait(`/api/sync/scene/${gone}`);
    const [row] = await stack.db.sql`select deleted_at is not null as deleted from scenes where id = ${gone as number}`;
    expect(row?.deleted).toBe(true);

    const after = await find('scenes', { filter: { per_page: -1 } });
    expect(after.count).toBe(before.count - 1);
    expect(after.ids).not.toContain(gone);
    expect((await api.request('GET', `/api/library/scenes/${gone}`)).status).toBe(404);
    const byId = await find('scenes', { scene_filter: { id: { value: gone, modifier: 'EQUALS' } } });
    expect(byId.count).toBe(0);

    const logs = await api.request<{
      logs: Array<{ runId: string; runWide: boolean; changeType: string; run: { type: string; status: string } }>;
    }>('GET', `/api/scenes/${gone}/sync-logs?limit=10`);
    expect(logs.status).toBe(200);
    expect(logs.body.logs[0]).toMatchObject({
      runId,
      runWide: false,
      changeType: 'deleted',
      run: { type: 'specific', status: 'completed' },
    });
    // The full sync's run-wide scene row is merged in.
    expect(logs.body.logs.some((log) => log.runWide && log.run.type === 'full')).toBe(true);
    const createdAt = logs.body.logs.map((log) => (log as unknown as { createdAt: string }).createdAt);
    expect(createdAt).toEqual([...createdAt].sort().reverse());

    expect((await api.request('GET', `/api/scenes/${gone}/sync-logs?limit=0`)).body).toMatchObject({ field: 'limit' });
    expect((await api.request('GET', `/api/scenes/${gone}/sync-logs?limit=50&x=1`)).body).toMatchObject({ field: 'x' });
    expect((await api.request('GET', '/api/scenes/999999999/sync-logs')).status).toBe(404);
  });
});
