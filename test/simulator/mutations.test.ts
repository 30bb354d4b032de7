import { describe, expect, it } from 'vitest';
import { createSimulator } from '../../simulator/index.js';
import { gql, NOW } from './helpers.js';

function fresh() {
  const sim = createSimulator({ seed: 11, scale: 'small', now: NOW });
  sim.control.freezeClock(true);
  return sim;
}

/** Every entity's updated_at, keyed "type:id", to prove nothing else moved. */
function stamps(sim: ReturnType<typeof fresh>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, table] of Object.entries(sim.library)) {
    for (const row of (table as Map<number, { id: number; updated_at: string }>).values())
      out.set(`${name}:${row.id}`, row.updated_at);
  }
  return out;
}

describe('what bumps updated_at and what does not', () => {
  it('update() edits fields and own links and bumps only that entity', () => {
    const sim = fresh();
    const before = stamps(sim);
    sim.control.advanceClock(60);
    sim.control.update('scene', 3, { title: 'Renamed', tag_ids: [1, 2], gallery_ids: [4] });
    const scene = sim.library.scenes.get(3);
    expect(scene?.title).toBe('Renamed');
    expect(scene?.tag_ids).toEqual([1, 2]);
    expect(scene?.updated_at).toBe(sim.control.stamp());
    // The gallery's side of scenes_galleries follows, without a bump.
    expect(sim.library.galleries.get(4)?.scene_ids).toContain(3);
    const after = stamps(sim);
    const changed = [...after].filter(([key, value]) => before.get(key) !== value).map(([key]) => key);
    expect(changed).toEqual(['scenes:3']);
  });

  it('gallery membership from the gallery side bumps only the gallery; from the image side, both', async () => {
    const sim = fresh();
    const gallery = [...sim.library.galleries.values()][0];
    if (!gallery) throw new Error('no gallery');
    const outside = [...sim.library.images.values()].filter((i) => !i.gallery_ids.includes(gallery.id)).slice(0, 3);
    const inside = [...sim.library.images.values()].filter((i) => i.gallery_ids.includes(gallery.id)).slice(0, 2);
    const members = () => [...sim.library.images.values()].filter((i) => i.gallery_ids.includes(gallery.id)).length;
    const countBefore = members();
    const before = stamps(sim);
    sim.control.advanceClock(60);
    sim.control.addGalleryImages(
      gallery.id,
      outside.map((i) => i.id),
    );
    await gql(sim, 'mutation($input: GalleryRemoveInput!) { removeGalleryImages(input: $input) }', {
      input: { gallery_id: String(gallery.id), image_ids: inside.map((i) => String(i.id)) },
    });
    for (const image of outside) expect(image.gallery_ids).toContain(gallery.id);
    for (const image of inside) expect(image.gallery_ids).not.toContain(gallery.id);
    expect(members()).toBe(countBefore + outside.length - inside.length);
    const served = await gql<{ findGallery: { image_count: number } }>(
      sim,
      `{ findGallery(id: "${gallery.id}") { image_count } }`,
    );
    expect(served.body.data?.findGallery.image_count).toBe(members());
    const changed = [...stamps(sim)].filter(([key, value]) => before.get(key) !== value).map(([key]) => key);
    expect(changed).toEqual([`galleries:${gallery.id}`]);

    // imageUpdate with gallery ids: the image and the galleries it joined or left.
    const image = outside[0] as (typeof outside)[number];
    const other = [...sim.library.galleries.values()][1] as typeof gallery;
    const left = image.gallery_ids.filter((id) => id !== other.id);
    const again = stamps(sim);
    sim.control.advanceClock(60);
    sim.control.update('image', image.id, { gallery_ids: [other.id] });
    const moved = [...stamps(sim)].filter(([key, value]) => again.get(key) !== value).map(([key]) => key);
    expect(moved.sort()).toEqual(
      [...left, other.id]
        .map((id) => `galleries:${id}`)
        .concat(`images:${image.id}`)
        .sort(),
    );
  });

  it('rejects unknown fields, missing links and cycles', () => {
    const sim = fresh();
    expect(() => sim.control.update('scene', 1, { bogus: 1 } as never)).toThrow(/bogus|unrecognized/i);
    expect(() => sim.control.update('scene', 1, { tag_ids: [99999] })).toThrow('tag with id 99999 not found');
    expect(() => sim.control.update('scene', 99999, { title: 'x' })).toThrow('scene with id 99999 not found');
    const child = sim.control.create('tag', { name: 'child-x', parent_ids: [1] });
    expect(() => sim.control.update('tag', 1, { parent_ids: [child] })).toThrow(/ancestor/);
  });

  it('tagsMerge relinks every kind of entity without bumping any of them', () => {
    const sim = fresh();
    const c = sim.control;
    const source = c.create('tag', { name: 'merge-source', aliases: ['ms'] });
    const dest = c.create('tag', { name: 'merge-dest' });
    c.update('scene', 1, { tag_ids: [source, dest] });
    c.update('scene', 2, { tag_ids: [source] });
    c.update('image', 1, { tag_ids: [source] });
    c.update('gallery', 1, { tag_ids: [source] });
    c.update('performer', 1, { tag_ids: [source] });
    c.update('studio', 1, { tag_ids: [source] });
    c.update('group', 1, { tag_ids: [source] });
    const childTag = c.create('tag', { name: 'merge-child', parent_ids: [source] });
    const before = stamps(sim);
    c.advanceClock(3600);
    c.mergeTags([source], dest);

    expect(sim.library.tags.has(source)).toBe(false);
    expect(sim.library.scenes.get(1)?.tag_ids).toEqual([dest]);
    expect(sim.library.scenes.get(2)?.tag_ids).toEqual([dest]);
    for (const row of [
      sim.library.images.get(1),
      sim.library.galleries.get(1),
      sim.library.performers.get(1),
      sim.library.studios.get(1),
      sim.library.groups.get(1),
    ]) {
      expect(row?.tag_ids).toEqual([dest]);
    }
    expect(sim.library.tags.get(childTag)?.parent_ids).toEqual([dest]);
    expect(sim.library.tags.get(dest)?.aliases).toEqual(expect.arrayContaining(['merge-source', 'ms']));
    // Not even the destination is bumped (verified against v0.30.1: stash-notes.md).
    const after = stamps(sim);
    for (const [key, value] of after) expect(value, key).toBe(before.get(key));
  });

  it('the tagsMerge mutation does the same over GraphQL', async () => {
    const sim = fresh();
    const holder = Array.from(sim.library.scenes.values()).find((s) => s.tag_ids.includes(5) && !s.tag_ids.includes(6));
    expect(holder).toBeDefined();
    const stamp = holder?.updated_at;
    sim.control.advanceClock(3600);
    const reply = await gql<{ tagsMerge: { id: string; name: string } }>(
      sim,
      'mutation($i: TagsMergeInput!) { tagsMerge(input: $i) { id name } }',
      { i: { source: ['5'], destination: '6' } },
    );
    expect(reply.body.data?.tagsMerge.id).toBe('6');
    const scene = sim.library.scenes.get(holder?.id as number);
    expect(scene?.tag_ids).toContain(6);
    expect(scene?.tag_ids).not.toContain(5);
    expect(scene?.updated_at).toBe(stamp);
  });

  it('deleting a performer removes it from scenes, images and galleries without bumping them', () => {
    const sim = fresh();
    const holders = Array.from(sim.library.scenes.values()).filter((s) => s.performer_ids.includes(7));
    expect(holders.length).toBeGreaterThan(0);
    const before = stamps(sim);
    sim.control.advanceClock(3600);
    sim.control.remove('performer', 7);
    for (const table of [sim.library.scenes, sim.library.images, sim.library.galleries]) {
      for (const row of table.values()) expect(row.performer_ids).not.toContain(7);
    }
    const after = stamps(sim);
    for (const [key, value] of after) expect(value, key).toBe(before.get(key));
  });

  it('deleting a studio clears studio and parent links without bumping', () => {
    const sim = fresh();
    const studioId = Array.from(sim.library.studios.values()).find((s) =>
      Array.from(sim.library.studios.values()).some((child) => child.parent_id === s.id),
    )?.id as number;
    const scenes = Array.from(sim.library.scenes.values()).filter((s) => s.studio_id === studioId);
    expect(scenes.length).toBeGreaterThan(0);
    const before = stamps(sim);
    sim.control.advanceClock(3600);
    sim.control.remove('studio', studioId);
    for (const scene of scenes) expect(scene.studio_id).toBeNull();
    for (const table of [sim.library.galleries, sim.library.images, sim.library.groups]) {
      for (const row of table.values()) expect(row.studio_id).not.toBe(studioId);
    }
    for (const studio of sim.library.studios.values()) expect(studio.parent_id).not.toBe(studioId);
    const after = stamps(sim);
    for (const [key, value] of after) expect(value, key).toBe(before.get(key));
  });

  it('deleting a gallery unlinks images and scenes without bumping them; image_count tracks edits', async () => {
    const sim = fresh();
    const gallery = Array.from(sim.library.galleries.values()).find((g) => g.scene_ids.length > 0) as {
      id: number;
      scene_ids: number[];
    };
    const count = async (id: number) =>
      (await gql<{ findGallery: { image_count: number } }>(sim, `{ findGallery(id: "${id}") { image_count } }`)).body
        .data?.findGallery.image_count;
    const members = Array.from(sim.library.images.values()).filter((i) => i.gallery_ids.includes(gallery.id));
    expect(await count(gallery.id)).toBe(members.length);
    const newImage = sim.control.create('image', { gallery_ids: [gallery.id] });
    expect(await count(gallery.id)).toBe(members.length + 1);
    sim.control.update('image', newImage, { gallery_ids: [] });
    expect(await count(gallery.id)).toBe(members.length);

    const before = stamps(sim);
    sim.control.advanceClock(3600);
    sim.control.remove('gallery', gallery.id);
    for (const image of sim.library.images.values()) expect(image.gallery_ids).not.toContain(gallery.id);
    for (const scene of sim.library.scenes.values()) expect(scene.gallery_ids).not.toContain(gallery.id);
    const after = stamps(sim);
    for (const [key, value] of after) expect(value, key).toBe(before.get(key));
  });

  it('deleting a scene removes it from galleries; mergeScenes moves links and bumps only the destination', async () => {
    const sim = fresh();
    const c = sim.control;
    c.update('scene', 10, {
      performer_ids: [1],
      tag_ids: [1],
      gallery_ids: [1],
      groups: [{ group_id: 1, scene_index: 2 }],
    });
    c.update('scene', 11, { performer_ids: [2], tag_ids: [1, 2], gallery_ids: [2], groups: [] });
    c.advanceClock(120);
    const reply = await gql<{ sceneMerge: { id: string; tags: { id: string }[] } }>(
      sim,
      'mutation { sceneMerge(input: { source: ["10"], destination: "11" }) { id tags { id } } }',
    );
    expect(reply.body.data?.sceneMerge.id).toBe('11');
    const dest = sim.library.scenes.get(11);
    expect(sim.library.scenes.has(10)).toBe(false);
    expect(dest?.performer_ids).toEqual([2, 1]);
    expect(dest?.tag_ids).toEqual([1, 2]);
    expect(dest?.gallery_ids).toEqual([2, 1]);
    expect(dest?.groups).toEqual([{ group_id: 1, scene_index: 2 }]);
    expect(dest?.files.length).toBe(2);
    expect(dest?.updated_at).toBe(c.stamp());
    expect(sim.library.galleries.get(1)?.scene_ids).not.toContain(10);
    expect(sim.library.galleries.get(1)?.scene_ids).toContain(11);
  });

  it('create() hands out growing ids that are never reused; touch() stamps many rows with one second', () => {
    const sim = fresh();
    const a = sim.control.create('scene', { title: 'a' });
    sim.control.remove('scene', a);
    const b = sim.control.create('scene', { title: 'b' });
    expect(b).toBe(a + 1);
    sim.control.advanceClock(5);
    expect(sim.control.touch('image', 'all')).toBe(3000);
    expect(new Set(Array.from(sim.library.images.values(), (i) => i.updated_at))).toEqual(
      new Set([sim.control.stamp()]),
    );
    sim.control.advanceClock(5);
    sim.control.touch('scene', [1, '2']);
    expect(sim.library.scenes.get(2)?.updated_at).toBe(sim.control.stamp());
  });
});
