import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSimulator, findSeedScenario, type Library, SCALES, type Scale } from '../../simulator/index.js';
import { NOW } from './helpers.js';

function digest(library: Library): string {
  const plain = Object.fromEntries(
    Object.entries(library).map(([name, table]) => [name, [...(table as Map<number, unknown>).values()]]),
  );
  return createHash('sha256').update(JSON.stringify(plain)).digest('hex');
}

function largestTie(values: Iterable<string>): number {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return Math.max(...counts.values());
}

describe('generator', () => {
  it('is deterministic: same seed and scale give the same library, another seed a different one', () => {
    const a = digest(createSimulator({ seed: 7, scale: 'small', now: NOW }).library);
    const b = digest(createSimulator({ seed: 7, scale: 'small', now: NOW }).library);
    const c = digest(createSimulator({ seed: 8, scale: 'small', now: NOW }).library);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    // Without `now`, history ends at a fixed instant, so the library does not depend on the wall clock.
    expect(digest(createSimulator({ seed: 7 }).library)).toBe(digest(createSimulator({ seed: 7 }).library));
  });

  it('honours scale counts and overrides', () => {
    const sim = createSimulator({ scale: 'tiny', counts: { scenes: 40, images: 0 }, now: NOW });
    expect(sim.library.scenes.size).toBe(40);
    expect(sim.library.images.size).toBe(0);
    expect(sim.library.tags.size).toBe(SCALES.tiny.tags);
  });

  it.each(['tiny', 'small'] as Scale[])('guarantees the gallery-inheritance seed scenario (%s)', (scale) => {
    for (const seed of [1, 2, 3, 4, 5, 99, 12345]) {
      const { library } = createSimulator({ seed, scale, now: NOW });
      const scenario = findSeedScenario(library);
      expect(scenario, `seed ${seed}`).not.toBeNull();
      if (!scenario) continue;
      const gallery = library.galleries.get(scenario.galleryId);
      expect(gallery?.performer_ids).toContain(scenario.performerId);
      expect(scenario.imageIds.length).toBeGreaterThanOrEqual(2);
      for (const imageId of scenario.imageIds) {
        const image = library.images.get(imageId);
        expect(image?.gallery_ids).toContain(scenario.galleryId);
        expect(image?.performer_ids).toEqual([]);
      }
    }
  });

  it('clusters many rows on exactly one updated_at second', () => {
    const small = createSimulator({ seed: 1, scale: 'small', now: NOW }).library;
    expect(largestTie(Array.from(small.images.values(), (i) => i.updated_at))).toBeGreaterThan(500);
    expect(largestTie(Array.from(small.scenes.values(), (s) => s.updated_at))).toBeGreaterThan(100);
    const tiny = createSimulator({ seed: 1, scale: 'tiny', now: NOW }).library;
    expect(largestTie(Array.from(tiny.scenes.values(), (s) => s.updated_at))).toBeGreaterThanOrEqual(5);
  });

  it('keeps timestamps sane: created_at ascends with id, updated_at never precedes it, all before now', () => {
    const { library } = createSimulator({ seed: 1, scale: 'small', now: NOW });
    const toMs = (s: string) => Date.parse(s);
    let previous = 0;
    for (const scene of library.scenes.values()) {
      const created = toMs(scene.created_at);
      expect(created).toBeGreaterThanOrEqual(previous);
      expect(toMs(scene.updated_at)).toBeGreaterThanOrEqual(created);
      expect(toMs(scene.updated_at)).toBeLessThanOrEqual(NOW.getTime());
      expect(scene.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+10:00$/);
      previous = created;
    }
    expect(toMs(library.scenes.get(1)?.created_at as string)).toBeLessThan(NOW.getTime() - 600 * 86_400_000);
  });

  it("puts images in zero, one or several galleries, mostly without their gallery's metadata", () => {
    const { library } = createSimulator({ seed: 1, scale: 'small', now: NOW });
    const images = Array.from(library.images.values());
    const share = (p: (n: number) => boolean) => images.filter((i) => p(i.gallery_ids.length)).length / images.length;
    expect(share((n) => n === 0)).toBeGreaterThan(0.2);
    expect(share((n) => n === 0)).toBeLessThan(0.4);
    expect(share((n) => n === 1)).toBeGreaterThan(0.5);
    expect(share((n) => n > 1)).toBeGreaterThan(0.05);
    const inGalleries = images.filter((i) => i.gallery_ids.length > 0);
    expect(inGalleries.filter((i) => i.performer_ids.length > 0).length / inGalleries.length).toBeLessThan(0.15);
    expect(inGalleries.filter((i) => i.studio_id !== null).length / inGalleries.length).toBeLessThan(0.1);
  });

  it('has realistic relations: multi-parent tags, studio parents, duplicated titles, group nesting', () => {
    const { library } = createSimulator({ seed: 1, scale: 'small', now: NOW });
    expect(Array.from(library.tags.values()).some((t) => t.parent_ids.length > 1)).toBe(true);
    expect(Array.from(library.studios.values()).some((s) => s.parent_id !== null)).toBe(true);
    expect(Array.from(library.groups.values()).some((g) => g.containing_groups.some((c) => c.description))).toBe(true);
    const titles = Array.from(library.scenes.values(), (s) => s.title ?? '<null>');
    expect(largestTie(titles)).toBeGreaterThan(20);
    expect(titles).toContain('');
    expect(Array.from(library.scenes.values()).some((s) => s.groups.some((g) => g.scene_index !== null))).toBe(true);
    const galleries = Array.from(library.galleries.values());
    for (const gallery of galleries) {
      for (const sceneId of gallery.scene_ids) expect(library.scenes.get(sceneId)?.gallery_ids).toContain(gallery.id);
    }
    const names = Array.from(library.tags.values(), (t) => t.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
  });
});
