import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../simulator/index.js';
import { ENTITY_SPECS } from '../../stash/entities/index.js';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { diffMirror } from '../support/compare.js';
import { createTestStack, type TestStack } from '../support/stack.js';

/**
 * What real Stash changes WITHOUT bumping updated_at (stash-notes.md): deletions and merges that
 * re-point or drop links, gallery membership changed from the gallery's side, and writes after
 * the server's clock moved west. One smart sync must bring each of them into the mirror.
 */

const sortedIds = (simulator: Simulator, type: keyof Simulator['library']) =>
  [...simulator.library[type].keys()].sort((a, b) => a - b);

const unset = (value: string | null | undefined) =>
  value === null || value === undefined || value === '' ? null : value;

/** image → effective details/photographer/studio from the simulator's model: own value, else the lowest-id gallery's. */
function expectedEffective(simulator: Simulator): Map<number, [string | null, string | null, number | null]> {
  const { images, galleries } = simulator.library;
  const result = new Map<number, [string | null, string | null, number | null]>();
  for (const image of images.values()) {
    const own = [...image.gallery_ids].sort((a, b) => a - b).flatMap((id) => galleries.get(id) ?? []);
    const first = <T>(value: (gallery: (typeof own)[number]) => T | null): T | null =>
      own.map(value).find((candidate) => candidate !== null) ?? null;
    result.set(image.id, [
      unset(image.details) ?? first((g) => unset(g.details)),
      unset(image.photographer) ?? first((g) => unset(g.photographer)),
      image.studio_id ?? first((g) => g.studio_id),
    ]);
  }
  return result;
}

async function mirrorEffective(stack: TestStack): Promise<Map<number, [string | null, string | null, number | null]>> {
  const rows = await stack.db.sql`
    select e.image_id, e.details, e.photographer, e.studio_id
    from image_effective e join images i on i.id = e.image_id and i.deleted_at is null`;
  return new Map(
    rows.map((row) => [
      Number(row.image_id),
      [row.details ?? null, row.photographer ?? null, row.studio_id === null ? null : Number(row.studio_id)],
    ]),
  );
}

/** tag → sorted parent ids, for live tags (simulator) or live tags' link rows (mirror). */
function simulatorTagParents(simulator: Simulator): Record<number, number[]> {
  return Object.fromEntries(
    [...simulator.library.tags.values()]
      .filter((tag) => tag.parent_ids.length > 0)
      .map((tag) => [tag.id, [...tag.parent_ids].sort((a, b) => a - b)]),
  );
}

async function mirrorTagParents(stack: TestStack): Promise<Record<number, number[]>> {
  const rows = await stack.db.sql`
    select child_id, array_agg(parent_id order by parent_id) as parents from tag_parents group by child_id`;
  return Object.fromEntries(rows.map((row) => [Number(row.child_id), (row.parents as unknown[]).map(Number)]));
}

describe('silent changes in Stash, one smart sync later', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 31, scale: 'small' });
    await stack.startWorker({ pageSize: 200 });
    await (await stack.startFull()).result();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('leaves no link row naming or belonging to a deleted scene, performer, studio or tag', async () => {
    const sim = stack.simulator;
    const { control } = sim;
    // Well-linked victims, so there are rows to lose on both sides.
    const scene = [...sim.library.scenes.values()].find((s) => s.tag_ids.length > 0 && s.performer_ids.length > 0);
    const performer = [...sim.library.performers.values()].find((p) => p.tag_ids.length > 0);
    const studio = [...sim.library.studios.values()].find((s) => s.tag_ids.length > 0);
    const tag = [...sim.library.tags.values()].find(
      (t) => t.parent_ids.length > 0 && [...sim.library.tags.values()].some((c) => c.parent_ids.includes(t.id)),
    );
    expect(scene && performer && studio && tag).toBeTruthy();
    const victims = { scene: scene?.id, performer: performer?.id, studio: studio?.id, tag: tag?.id } as Record<
      'scene' | 'performer' | 'studio' | 'tag',
      number
    >;
    for (const [type, id] of Object.entries(victims)) control.remove(type as keyof typeof victims, id);

    const summary = await (await stack.start('smart')).result();
    expect(summary.deleted).toBeGreaterThanOrEqual(4);
    expect(await diffMirror(stack.db.sql, sim, stack.stashUrl)).toEqual([]);

    for (const type of ENTITY_TYPES) {
      for (const link of ENTITY_SPECS[type].links) {
        for (const [victimType, id] of Object.entries(victims)) {
          if (victimType === type) {
            const owned = await stack.db.sql.unsafe(
              `select count(*)::int as n from ${link.table} where ${link.ownerColumn} = $1`,
              [id],
            );
            expect(owned[0]?.n, `${link.table} rows owned by ${type} ${id}`).toBe(0);
          }
          if (link.targetType === victimType) {
            const naming = await stack.db.sql.unsafe(
              `select count(*)::int as n from ${link.table} where ${link.targetColumn} = $1`,
              [id],
            );
            expect(naming[0]?.n, `${link.table} rows naming ${victimType} ${id}`).toBe(0);
          }
        }
      }
    }
    // The deleted scene's log row keeps what it linked to.
    const [logged] = await stack.db.sql`
      select details from sync_log where run_id = ${summary.runId} and entity_type = 'scene'
        and entity_id = ${victims.scene} and change_type = 'deleted'`;
    expect((logged?.details as { links: { tags: number[] } } | undefined)?.links.tags).toEqual(
      [...(scene?.tag_ids ?? [])].sort((a, b) => a - b),
    );
  });

  it('moves parents and children of merged tags to the destination after one smart sync', async () => {
    const sim = stack.simulator;
    const { control } = sim;
    const tags = sortedIds(sim, 'tags');
    const childrenOf = (id: number) => [...sim.library.tags.values()].filter((t) => t.parent_ids.includes(id));
    // Two sources with parents and children, and a destination unrelated to both.
    const [first, second] = tags.filter((id) => {
      const tag = sim.library.tags.get(id);
      return tag && tag.parent_ids.length > 0 && childrenOf(id).length > 0;
    });
    if (first === undefined || second === undefined) {
      // Give two tags a parent and a child each (edits bump them; the merge itself bumps no one).
      const [a, b, pa, pb, ca, cb] = tags.slice(-6) as [number, number, number, number, number, number];
      control.update('tag', a, { parent_ids: [pa] });
      control.update('tag', b, { parent_ids: [pb] });
      control.update('tag', ca, { parent_ids: [a] });
      control.update('tag', cb, { parent_ids: [b] });
      await (await stack.start('smart')).result();
    }
    const sources = tags.filter((id) => {
      const tag = sim.library.tags.get(id);
      return tag && tag.parent_ids.length > 0 && childrenOf(id).length > 0;
    });
    const [sourceA, sourceB] = sources as [number, number];
    const related = new Set([sourceA, sourceB, ...sources.flatMap((id) => sim.library.tags.get(id)?.parent_ids ?? [])]);
    for (const id of [sourceA, sourceB]) for (const child of childrenOf(id)) related.add(child.id);
    const destination = tags.find((id) => !related.has(id) && childrenOf(id).length === 0) as number;
    const before = sim.library.tags.get(destination)?.updated_at;

    control.mergeTags([sourceA, sourceB], destination);
    expect(sim.library.tags.get(destination)?.updated_at).toBe(before); // Stash bumps no one
    expect(sim.library.tags.get(destination)?.parent_ids.length).toBeGreaterThan(0);

    await (await stack.start('smart')).result();
    expect(await mirrorTagParents(stack)).toEqual(simulatorTagParents(sim));
    const ghosts = await stack.db.sql`
      select count(*)::int as n from tag_parents where child_id in (${sourceA}, ${sourceB}) or parent_id in (${sourceA}, ${sourceB})`;
    expect(ghosts[0]?.n).toBe(0);
    const [aliases] = await stack.db.sql`select aliases from tags where id = ${destination}`;
    expect([...((aliases?.aliases as string[] | undefined) ?? [])].sort()).toEqual(
      [...(sim.library.tags.get(destination)?.aliases ?? [])].sort(),
    );
    expect(await diffMirror(stack.db.sql, sim, stack.stashUrl)).toEqual([]);
  });

  it('follows gallery membership changed from the gallery side, where only the gallery is bumped', async () => {
    const sim = stack.simulator;
    const { control } = sim;
    const galleries = [...sim.library.galleries.values()].filter(
      (g) => (g.details ?? '') !== '' && (g.photographer ?? '') !== '',
    );
    const target = galleries[0] ?? [...sim.library.galleries.values()][0];
    if (!target) throw new Error('no gallery');
    if ((target.details ?? '') === '' || (target.photographer ?? '') === '') {
      control.update('gallery', target.id, { details: 'gallery details', photographer: 'gallery photographer' });
    }
    // Images without their own details/photographer and outside the target: they will inherit.
    const joining = [...sim.library.images.values()]
      .filter((i) => !i.gallery_ids.includes(target.id) && (i.details ?? '') === '' && (i.photographer ?? '') === '')
      .slice(0, 5)
      .map((i) => i.id);
    const leaving = [...sim.library.images.values()]
      .filter((i) => i.gallery_ids.includes(target.id))
      .slice(0, 3)
      .map((i) => i.id);
    const scene = [...sim.library.scenes.values()].find((s) => !s.gallery_ids.includes(target.id)) as { id: number };
    await (await stack.start('smart')).result();

    const stamps = () =>
      [...joining, ...leaving]
        .map((id) => sim.library.images.get(id)?.updated_at)
        .concat(sim.library.scenes.get(scene.id)?.updated_at);
    const before = stamps();
    control.addGalleryImages(target.id, joining);
    control.removeGalleryImages(target.id, leaving);
    control.update('gallery', target.id, { scene_ids: [...target.scene_ids, scene.id] });
    expect(stamps()).toEqual(before); // only the gallery was bumped

    await (await stack.start('smart')).result();
    expect(await diffMirror(stack.db.sql, sim, stack.stashUrl)).toEqual([]);
    const members = await stack.db
      .sql`select image_id from image_galleries where gallery_id = ${target.id} order by image_id`;
    expect(members.map((row) => Number(row.image_id))).toEqual(
      [...sim.library.images.values()]
        .filter((i) => i.gallery_ids.includes(target.id))
        .map((i) => i.id)
        .sort((a, b) => a - b),
    );
    const [linked] = await stack.db
      .sql`select count(*)::int as n from scene_galleries where scene_id = ${scene.id} and gallery_id = ${target.id}`;
    expect(linked?.n).toBe(1);
    const [count] = await stack.db.sql`select image_count from galleries where id = ${target.id}`;
    expect(count?.image_count).toBe(
      [...sim.library.images.values()].filter((i) => i.gallery_ids.includes(target.id)).length,
    );
    expect(await mirrorEffective(stack)).toEqual(expectedEffective(sim));
    for (const id of joining) {
      const [row] = await stack.db.sql`select details, photographer from image_effective where image_id = ${id}`;
      expect(row?.details, `image ${id} details`).not.toBeNull();
    }
  });
});

describe('a server whose time zone changes', () => {
  let stack: TestStack;
  beforeAll(async () => {
    // The server's clock runs well behind the worker's, so every mark is long past the
    // daylight-saving margin and only the count over the range below the mark can notice.
    stack = await createTestStack({
      seed: 32,
      scale: 'tiny',
      utcOffsetMinutes: -300,
      now: new Date(Date.now() - 20 * 3600_000),
    });
    await stack.startWorker({ pageSize: 50 });
    await (await stack.startFull()).result();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('mirrors edits made hours after the server moved 5 hours west, and later back east', async () => {
    const sim = stack.simulator;
    const { control } = sim;
    control.setUtcOffset(-300);
    const scenes = sortedIds(sim, 'scenes');
    const images = sortedIds(sim, 'images');
    for (const type of ['scene', 'image', 'gallery', 'performer', 'studio', 'tag', 'group'] as const) {
      const table = sortedIds(sim, ENTITY_SPECS[type].table as keyof Simulator['library']);
      control.touch(type, [table[0] as number]);
    }
    await (await stack.start('smart')).result();
    const [mark] = await stack.db.sql`select high_water_mark_raw from sync_state where entity_type = 'scene'`;
    expect(mark?.high_water_mark_raw).toMatch(/-05:00$/);

    // A restart under a zone 5 hours further west; edits 3 hours later print BELOW the mark.
    control.setUtcOffset(-600);
    control.advanceClock(3 * 3600);
    control.update('scene', scenes[5] as number, { title: 'edited 3 h after moving west' });
    control.update('image', images[7] as number, { title: 'image edited 3 h after moving west' });
    control.update('performer', sortedIds(sim, 'performers')[3] as number, { name: 'renamed after moving west' });
    const raw = sim.library.scenes.get(scenes[5] as number)?.updated_at as string;
    expect(raw < (mark?.high_water_mark_raw as string)).toBe(true);

    const west = await (await stack.start('smart')).result();
    expect(await diffMirror(stack.db.sql, sim, stack.stashUrl)).toEqual([]);
    const [progress] = await stack.db.sql`select progress from sync_runs where id = ${west.runId}`;
    expect(JSON.stringify(progress?.progress)).toContain('-10:00');

    // Back east (the 5 hours return), edits 3 hours later.
    control.setUtcOffset(-300);
    control.advanceClock(3 * 3600);
    control.update('scene', scenes[6] as number, { title: 'edited 3 h after moving back east' });
    control.update('image', images[8] as number, { title: 'image edited after moving back east' });
    await (await stack.start('smart')).result();
    expect(await diffMirror(stack.db.sql, sim, stack.stashUrl)).toEqual([]);

    // And west again, with a row edited that the previous runs wrote into the range below the mark.
    control.setUtcOffset(-600);
    control.advanceClock(3 * 3600);
    control.update('scene', scenes[9] as number, { title: 'west again' });
    await (await stack.start('smart')).result();
    expect(await diffMirror(stack.db.sql, sim, stack.stashUrl)).toEqual([]);
  });
});
