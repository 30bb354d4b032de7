import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorControl } from '../../simulator/index.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { type ApiServer, startApi } from './support.js';

/**
 * Per-user views against the simulator, real PostgreSQL and real Temporal: a small library plus
 * a hand-made corner of it whose every entity has a known fate for a user excluding tag P.
 */

interface World {
  tags: { P: number; X: number; C: number; G2: number; T1: number; T2: number };
  performers: { carrier: number; only: number; shared: number };
  studios: { tagged: number; child: number; lonely: number };
  group: number;
  galleries: { tagged: number; onlyExcluded: number };
  scenes: { inheritsOnly: number; tagged: number; inGroup: number; visible: number; ofChildStudio: number };
  images: { galleryOnly: number; own: number };
}

/** Entities created in the simulated Stash before the first sync (docs/user-views.md's example). */
function buildWorld(control: SimulatorControl): World {
  const tag = (name: string, parent_ids: number[] = []) => control.create('tag', { name, parent_ids });
  const P = tag('uv parent');
  const X = tag('uv other parent');
  const C = tag('uv child', [P, X]);
  const G2 = tag('uv grandchild', [C]);
  const T1 = tag('uv smart one');
  const T2 = tag('uv smart two');
  const performers = {
    carrier: control.create('performer', { name: 'uv carrier', tag_ids: [P] }),
    only: control.create('performer', { name: 'uv only in excluded' }),
    shared: control.create('performer', { name: 'uv shared' }),
  };
  const tagged = control.create('studio', { name: 'uv tagged studio', tag_ids: [C] });
  const studios = {
    tagged,
    child: control.create('studio', { name: 'uv child studio', parent_id: tagged }),
    lonely: control.create('studio', { name: 'uv lonely studio' }),
  };
  const group = control.create('group', { name: 'uv group', tag_ids: [G2] });
  const galleries = {
    tagged: control.create('gallery', { title: 'uv tagged gallery', tag_ids: [C] }),
    onlyExcluded: control.create('gallery', { title: 'uv gallery of one' }),
  };
  const scene = (title: string, fields: Record<string, unknown>) => control.create('scene', { title, ...fields });
  const scenes = {
    inheritsOnly: scene('uv inherits only', { performer_ids: [performers.carrier], studio_id: studios.lonely }),
    tagged: scene('uv tagged', { tag_ids: [C], performer_ids: [performers.only, performers.shared] }),
    inGroup: scene('uv in group', { groups: [{ group_id: group, scene_index: 1 }] }),
    visible: scene('uv visible', { performer_ids: [performers.shared] }),
    ofChildStudio: scene('uv of child studio', { studio_id: studios.child }),
  };
  const images = {
    galleryOnly: control.create('image', { title: 'uv gallery only', gallery_ids: [galleries.tagged] }),
    own: control.create('image', { title: 'uv own tag', tag_ids: [G2], gallery_ids: [galleries.onlyExcluded] }),
  };
  return { tags: { P, X, C, G2, T1, T2 }, performers, studios, group, galleries, scenes, images };
}

/** The hand-made corner of the library: every name or title starts with "uv ". */
const CORNER = { filter: { per_page: 100, q: 'uv ' } };

/** The library paths and their entity types (for excluded keys `type:id`). */
const LIBRARY_TYPES: ReadonlyArray<[string, string]> = [
  ['scenes', 'scene'],
  ['images', 'image'],
  ['galleries', 'gallery'],
  ['performers', 'performer'],
  ['studios', 'studio'],
  ['tags', 'tag'],
  ['groups', 'group'],
];

type Found = { count: number; ids: number[]; items: Array<Record<string, unknown>> };

describe('per-user views', () => {
  let stack: TestStack;
  let api: ApiServer;
  let world: World;
  const users: Record<string, string> = {};

  async function find(type: string, body: unknown, user?: string): Promise<Found> {
    const headers = user ? { 'x-mirror-user': user } : undefined;
    const response = await api.request<Record<string, Record<string, unknown>>>('POST', `/api/library/${type}`, {
      body,
      ...(headers ? { headers } : {}),
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const [answer] = Object.values(response.body);
    const list = Object.entries(answer ?? {}).find(([key]) => key !== 'count')?.[1] as Array<Record<string, unknown>>;
    return { count: answer?.count as number, items: list, ids: list.map((item) => Number(item.id)) };
  }
  const count = async (type: string, user?: string) => (await find(type, { filter: { per_page: 0 } }, user)).count;
  const corner = (type: string, user?: string) => find(type, CORNER, user);

  async function createUser(name: string, role: 'admin' | 'user'): Promise<string> {
    const created = await api.request<{ id: string }>('POST', '/api/users', { body: { name, role } });
    expect(created.status).toBe(201);
    return created.body.id;
  }
  async function restrict(user: string, body: unknown) {
    const response = await api.request<{ recompute: { excluded: number; ms: number; recomputedAt: string } }>(
      'PUT',
      `/api/users/${user}/restrictions`,
      { body },
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.recompute;
  }
  async function reasons(user: string): Promise<Map<string, string>> {
    const rows = await stack.db.sql`
      select entity_type, entity_id, reason from user_excluded_entities where user_id = ${user}`;
    return new Map(rows.map((row) => [`${row.entity_type}:${row.entity_id}`, String(row.reason)]));
  }
  /** Every user's excluded rows as versions: a rewrite of any row, even to the same values, changes it. */
  async function rowVersions(user: string): Promise<string> {
    const [row] = await stack.db.sql`
      select count(*)::int as n, coalesce(md5(string_agg(xmin::text || ctid::text, ',' order by entity_type, entity_id)), '') as h
      from user_excluded_entities where user_id = ${user}`;
    const [counts] = await stack.db.sql`
      select coalesce(md5(string_agg(xmin::text || ctid::text, ',' order by entity_type, entity_id)), '') as h
      from user_entity_counts where user_id = ${user}`;
    return `${row?.n}:${row?.h}:${counts?.h}`;
  }

  beforeAll(async () => {
    stack = await createTestStack({ seed: 5, scale: 'small' });
    world = buildWorld(stack.simulator.control);
    await stack.startWorker({ pageSize: 500 });
    await (await stack.startFull()).result();
    api = await startApi(stack);
    users.A = await createUser('excludes P', 'user');
    users.B = await createUser('excludes T2', 'user');
    users.admin = await createUser('admin with restrictions', 'admin');
    await restrict(users.A, { tags: { mode: 'EXCLUDE', ids: [String(world.tags.P)] } });
    await restrict(users.B, { tags: { mode: 'EXCLUDE', ids: [String(world.tags.T2)] } });
    await restrict(users.admin, { tags: { mode: 'EXCLUDE', ids: [String(world.tags.P)] } });
  }, 240_000);
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it('excluding a parent tag hides its descendants, carriers, their content and the empties that follow', async () => {
    const { tags, performers, studios, galleries, scenes, images } = world;
    const excluded = await reasons(users.A as string);
    expect(Object.fromEntries(excluded)).toEqual(
      expect.objectContaining({
        [`tag:${tags.P}`]: 'restricted',
        [`tag:${tags.C}`]: 'cascade',
        [`tag:${tags.G2}`]: 'cascade',
        [`scene:${scenes.inheritsOnly}`]: 'cascade',
        [`scene:${scenes.tagged}`]: 'cascade',
        [`scene:${scenes.inGroup}`]: 'cascade',
        [`scene:${scenes.ofChildStudio}`]: 'cascade',
        [`image:${images.galleryOnly}`]: 'cascade',
        [`image:${images.own}`]: 'cascade',
        [`gallery:${galleries.tagged}`]: 'cascade',
        [`gallery:${galleries.onlyExcluded}`]: 'empty',
        [`performer:${performers.carrier}`]: 'cascade',
        [`performer:${performers.only}`]: 'empty',
        [`studio:${studios.tagged}`]: 'cascade',
        [`studio:${studios.child}`]: 'cascade',
        [`studio:${studios.lonely}`]: 'empty',
        [`group:${world.group}`]: 'cascade',
      }),
    );
    expect(excluded.has(`tag:${tags.X}`)).toBe(false);
    expect(excluded.has(`scene:${scenes.visible}`)).toBe(false);
    expect(excluded.has(`performer:${performers.shared}`)).toBe(false);

    // What the API shows user A: rows and counts without them (the corner's names start with "uv ").
    for (const [type, key] of LIBRARY_TYPES) {
      const hidden = [...excluded.keys()].filter((k) => k.startsWith(`${key}:`)).map((k) => Number(k.split(':')[1]));
      expect(await count(type, users.A), type).toBe((await count(type)) - hidden.length);
      const corner = await find(type, CORNER);
      expect((await find(type, CORNER, users.A)).ids, type).toEqual(corner.ids.filter((id) => !hidden.includes(id)));
      // User B (an unrelated restriction) sees the whole corner but the tag B excludes.
      const forB = corner.ids.filter((id) => key !== 'tag' || id !== tags.T2);
      expect((await find(type, CORNER, users.B)).ids, type).toEqual(forB);
    }
    const shared = (
      await find('performers', { performer_filter: { id: { value: performers.shared, modifier: 'EQUALS' } } }, users.A)
    ).items[0];
    expect(shared).toMatchObject({ scene_count: 1 });
    const sharedForAll = (
      await find('performers', { performer_filter: { id: { value: performers.shared, modifier: 'EQUALS' } } })
    ).items[0];
    expect(sharedForAll).toMatchObject({ scene_count: 2 });
    // One entity by id: 404 for A, there for everyone.
    expect(
      (
        await api.request('GET', `/api/library/scenes/${scenes.inheritsOnly}`, {
          headers: { 'x-mirror-user': users.A as string },
        })
      ).status,
    ).toBe(404);
    expect((await api.request('GET', `/api/library/scenes/${scenes.inheritsOnly}`)).status).toBe(200);
    // Nested references leave excluded entities out too: tag X's children no longer list C for A.
    const x = await api.request<{ findTag: { children: Array<{ id: string }> } }>(
      'GET',
      `/api/library/tags/${tags.X}`,
      {
        headers: { 'x-mirror-user': users.A as string },
      },
    );
    expect(x.body.findTag.children.map((child) => child.id)).not.toContain(String(tags.C));
  });

  it('rows and counts agree for the user: every count shown equals the visible rows it counts', async () => {
    const viewer = users.A as string;
    const checks: Array<[string, string, string, string]> = [
      ['performers', 'scenes', 'scene_count', 'performers'],
      ['performers', 'images', 'image_count', 'performers'],
      ['tags', 'scenes', 'scene_count', 'tags'],
      ['tags', 'images', 'image_count', 'tags'],
      ['studios', 'scenes', 'scene_count', 'studios'],
      ['studios', 'images', 'image_count', 'studios'],
      ['galleries', 'images', 'image_count', 'galleries'],
      ['groups', 'scenes', 'scene_count', 'groups'],
    ];
    for (const [owner, content, column, criterion] of checks) {
      // The entities with the most content, where a wrong subtraction would show.
      const sort = column === 'scene_count' ? 'scenes_count' : 'images_count';
      const top = await find(
        owner,
        { filter: { per_page: 8, sort: owner === 'galleries' ? 'images_count' : sort, direction: 'DESC' } },
        viewer,
      );
      for (const item of top.items) {
        const filterKey = `${content.replace(/s$/, '')}_filter`;
        const visible = await find(
          content,
          { filter: { per_page: 0 }, [filterKey]: { [criterion]: { value: [String(item.id)], modifier: 'INCLUDES' } } },
          viewer,
        );
        expect(item[column], `${owner} ${item.id} ${column}`).toBe(visible.count);
      }
    }
  });

  it('an INCLUDE list lets through only content carrying an allowed tag (or a descendant)', async () => {
    const user = await createUser('includes X', 'user');
    const { tags, scenes, performers } = world;
    const recompute = await restrict(user, { tags: { mode: 'INCLUDE', ids: [String(tags.X)] } });
    expect(recompute.excluded).toBeGreaterThan(0);
    // C is X's child (and P's): carried directly by one scene, inherited from a group's G2 by another.
    expect(await count('scenes', user)).toBe(2);
    expect((await corner('scenes', user)).ids.sort()).toEqual([scenes.tagged, scenes.inGroup].sort());
    expect(await count('tags', user)).toBe(3);
    expect((await corner('tags', user)).ids.sort()).toEqual([tags.X, tags.C, tags.G2].sort());
    const excluded = await reasons(user);
    expect(excluded.get(`tag:${tags.P}`)).toBe('restricted');
    expect(excluded.get(`scene:${scenes.visible}`)).toBe('restricted');
    expect(excluded.get(`performer:${performers.carrier}`)).toBe('empty');
    expect(excluded.has(`performer:${performers.shared}`)).toBe(false);
  });

  it('hides and unhides an entity for one user, recomputed before the answer', async () => {
    const user = users.B as string;
    const { performers, scenes } = world;
    const before = await corner('scenes', user);
    const countBefore = await count('scenes', user);
    const hidden = await api.request<{ recompute: { excluded: number } }>('POST', `/api/users/${user}/hidden`, {
      body: { entityType: 'performer', id: String(performers.shared) },
    });
    expect(hidden.status).toBe(201);
    const afterHide = await corner('scenes', user);
    expect(afterHide.ids).not.toContain(scenes.visible);
    expect(afterHide.ids).not.toContain(scenes.tagged);
    expect(await count('scenes', user)).toBe(countBefore - 2);
    expect((await reasons(user)).get(`performer:${performers.shared}`)).toBe('hidden');
    const list = await api.request<{ hidden: Array<{ entityType: string; id: string; name: string }> }>(
      'GET',
      `/api/users/${user}/hidden`,
    );
    expect(list.body.hidden).toEqual([
      expect.objectContaining({ entityType: 'performer', id: String(performers.shared), name: 'uv shared' }),
    ]);
    // Hiding again changes nothing and says so.
    const again = await api.request('POST', `/api/users/${user}/hidden`, {
      body: { entityType: 'performer', id: String(performers.shared) },
    });
    expect(again.status).toBe(200);
    const shown = await api.request<{ recompute: { excluded: number } }>(
      'DELETE',
      `/api/users/${user}/hidden/performer/${performers.shared}`,
    );
    expect(shown.status).toBe(200);
    expect((await corner('scenes', user)).ids).toEqual(before.ids);
    expect(await count('scenes', user)).toBe(countBefore);
    expect(shown.body.recompute.excluded).toBeLessThan(hidden.body.recompute.excluded);
  });

  it('a studio exclusion reaches child studios and their content; an admin sees everything', async () => {
    const user = await createUser('excludes a studio', 'user');
    const { studios, scenes } = world;
    await restrict(user, { studios: { mode: 'EXCLUDE', ids: [String(studios.tagged)] } });
    const excluded = await reasons(user);
    expect(excluded.get(`studio:${studios.tagged}`)).toBe('restricted');
    expect(excluded.get(`studio:${studios.child}`)).toBe('cascade');
    expect(excluded.get(`scene:${scenes.ofChildStudio}`)).toBe('cascade');
    expect((await corner('scenes', user)).ids).not.toContain(scenes.ofChildStudio);

    // The admin has the same restriction as A, and sees exactly what a request without the header sees.
    expect((await reasons(users.admin as string)).size).toBe(0);
    for (const [type] of LIBRARY_TYPES) {
      const body = { filter: { per_page: 40, sort: 'updated_at', direction: 'DESC' } };
      expect(await find(type, body, users.admin)).toEqual(await find(type, body));
    }
    // Turned into a user, the same restriction applies at once; back to admin, it no longer does.
    const demoted = await api.request<{ recompute: { excluded: number } }>('PATCH', `/api/users/${users.admin}`, {
      body: { role: 'user' },
    });
    expect(demoted.body.recompute.excluded).toBe((await reasons(users.A as string)).size);
    await api.request('PATCH', `/api/users/${users.admin}`, { body: { role: 'admin' } });
    expect((await reasons(users.admin as string)).size).toBe(0);
  });

  it('streams every match (per_page -1) through the user’s view, count equal to the rows sent', async () => {
    const everyone = await find('images', { filter: { per_page: -1 } });
    const seen = await find('images', { filter: { per_page: -1 } }, users.A);
    expect(seen.items).toHaveLength(seen.count);
    expect(seen.ids).toEqual(everyone.ids.filter((id) => id !== world.images.galleryOnly && id !== world.images.own));
    const tagged = {
      filter: { per_page: -1 },
      image_filter: { tags: { value: [String(world.tags.C)], modifier: 'INCLUDES' } },
    };
    expect((await find('images', tagged)).count).toBe(1);
    expect(await find('images', tagged, users.A)).toEqual({ count: 0, ids: [], items: [] });
  });

  it('a smart sync that changes one tag link recomputes only the users it affects', async () => {
    const user = await createUser('excludes T1', 'user');
    await restrict(user, { tags: { mode: 'EXCLUDE', ids: [String(world.tags.T1)] } });
    const others = [users.A, users.B, users.admin].map(String);
    const before = Object.fromEntries(await Promise.all(others.map(async (id) => [id, await rowVersions(id)])));
    const mine = await rowVersions(user);

    const { scenes, tags } = world;
    const scene = stack.simulator.control.get('scene', scenes.visible);
    stack.simulator.control.update('scene', scenes.visible, { tag_ids: [...(scene?.tag_ids ?? []), tags.T1] });
    const summary = await (await stack.start('smart')).result();
    expect(summary.postProcessed).toContain('user-exclusions');

    expect((await reasons(user)).get(`scene:${scenes.visible}`)).toBe('cascade');
    expect(await rowVersions(user)).not.toBe(mine);
    for (const id of others) expect(await rowVersions(id), `user ${id}`).toBe(before[id]);
    expect((await corner('scenes', user)).ids).not.toContain(scenes.visible);
  });

  it('refuses bad input naming the field, and changes nothing', async () => {
    const snapshot = async () =>
      JSON.stringify(
        await stack.db.sql`
          select (select json_agg(u order by id) from users u) as users,
                 (select json_agg(r order by user_id, entity_type) from user_restrictions r) as restrictions,
                 (select json_agg(h order by user_id, entity_type, entity_id) from user_hidden_entities h) as hidden,
                 (select count(*) from user_activity) as activity,
                 (select count(*) from user_excluded_entities) as excluded`,
      );
    const before = await snapshot();
    const user = users.B as string;
    const cases: Array<[string, string, unknown, number, string | undefined, Record<string, string>?]> = [
      ['POST', '/api/users', { name: '', role: 'user' }, 400, 'name'],
      ['POST', '/api/users', { name: 'x', role: 'root' }, 400, 'role'],
      ['POST', '/api/users', { name: 'x', role: 'user', extra: 1 }, 400, 'extra'],
      ['POST', '/api/users', { name: 'excludes P', role: 'user' }, 409, 'name'],
      ['POST', '/api/users', { name: 'y', role: 'user' }, 403, 'x-mirror-user', { 'x-mirror-user': user }],
      ['GET', '/api/users/abc', undefined, 400, 'id'],
      ['GET', '/api/users/999999', undefined, 404, undefined],
      ['PATCH', `/api/users/${user}`, { role: 'superuser' }, 400, 'role'],
      ['PATCH', `/api/users/${user}`, { name: 'excludes P' }, 409, 'name'],
      ['DELETE', '/api/users/999999', undefined, 404, undefined],
      ['PUT', `/api/users/${user}/restrictions`, { tags: { mode: 'EXCLUDE', ids: ['999999'] } }, 404, 'tags.ids.0'],
      ['PUT', `/api/users/${user}/restrictions`, { tags: { mode: 'MAYBE', ids: [] } }, 400, 'tags.mode'],
      ['PUT', `/api/users/${user}/restrictions`, { tags: { mode: 'INCLUDE', ids: [] } }, 400, 'tags.ids'],
      ['PUT', `/api/users/${user}/restrictions`, { performers: { mode: 'EXCLUDE', ids: ['1'] } }, 400, 'performers'],
      ['PUT', `/api/users/${user}/restrictions`, { studios: { mode: 'EXCLUDE', ids: ['x'] } }, 400, 'studios.ids.0'],
      ['PUT', `/api/users/${user}/restrictions`, {}, 403, 'x-mirror-user', { 'x-mirror-user': user }],
      ['PUT', '/api/users/999999/restrictions', {}, 404, undefined],
      ['POST', `/api/users/${user}/hidden`, { entityType: 'movie', id: '1' }, 400, 'entityType'],
      ['POST', `/api/users/${user}/hidden`, { entityType: 'scene', id: '999999' }, 404, 'id'],
      [
        'POST',
        `/api/users/${user}/hidden`,
        { entityType: 'scene', id: '1' },
        403,
        'x-mirror-user',
        { 'x-mirror-user': String(users.A) },
      ],
      ['DELETE', `/api/users/${user}/hidden/scene/999999`, undefined, 404, undefined],
      ['DELETE', `/api/users/${user}/hidden/movie/1`, undefined, 400, 'entityType'],
      [
        'POST',
        `/api/users/${user}/activity`,
        { sceneId: '999999', event: 'play', at: '2025-01-01T00:00:00Z' },
        404,
        'sceneId',
      ],
      [
        'POST',
        `/api/users/${user}/activity`,
        { sceneId: '1', event: 'pause', at: '2025-01-01T00:00:00Z' },
        400,
        'event',
      ],
      ['POST', `/api/users/${user}/activity`, { sceneId: '1', event: 'o', at: 'yesterday' }, 400, 'at'],
      [
        'POST',
        `/api/users/${user}/activity`,
        { sceneId: '1', event: 'play', at: '2025-01-01T00:00:00Z', durationSeconds: -1 },
        400,
        'durationSeconds',
      ],
      ['GET', `/api/users/${user}/stats?type=scene`, undefined, 400, 'type'],
      ['GET', `/api/users/${user}/stats?type=tag&sort=bogus`, undefined, 400, 'sort'],
      ['GET', `/api/users/${user}/stats?type=tag&limit=0`, undefined, 400, 'limit'],
      ['GET', '/api/users/999999/stats?type=tag', undefined, 404, undefined],
      ['POST', '/api/library/scenes', {}, 400, 'x-mirror-user', { 'x-mirror-user': 'abc' }],
      ['POST', '/api/library/scenes', {}, 404, 'x-mirror-user', { 'x-mirror-user': '999999' }],
      ['GET', '/api/library/scenes/1', undefined, 404, 'x-mirror-user', { 'x-mirror-user': '999999' }],
    ];
    for (const [method, path, body, status, field, headers] of cases) {
      const response = await api.request<{ error: string; field?: string }>(method, path, {
        ...(body === undefined ? {} : { body }),
        ...(headers ? { headers } : {}),
      });
      const label = `${method} ${path} ${JSON.stringify(body)} → ${JSON.stringify(response.body)}`;
      expect(response.status, label).toBe(status);
      expect(response.body.error, label).toEqual(expect.any(String));
      if (field) expect(response.body.field, label).toBe(field);
    }
    expect(await snapshot()).toBe(before);
  });
});
