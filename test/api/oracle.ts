import type { Library, SimImage } from '../../simulator/index.js';

/**
 * What the library filters should answer, computed from the simulated Stash's own data (not from
 * the mirror's SQL), so the API's queries are checked against an independent reading.
 */
export type Modifier = 'INCLUDES' | 'INCLUDES_ALL' | 'EXCLUDES' | 'IS_NULL' | 'NOT_NULL';

export interface MultiInput {
  value: number[];
  modifier: Modifier;
  depth?: number;
  excludes?: number[];
}

type Children = (id: number) => number[];

/** The ids and `depth` levels below them (-1: all levels). */
export function expand(ids: number[], depth: number, children: Children): Set<number> {
  const found = new Set(ids);
  let frontier = ids;
  for (let level = 0; frontier.length > 0 && (depth < 0 || level < depth); level++) {
    const next: number[] = [];
    for (const id of frontier) {
      for (const child of children(id)) {
        if (!found.has(child)) {
          found.add(child);
          next.push(child);
        }
      }
    }
    frontier = next;
  }
  return found;
}

export function matches(linked: Set<number>, input: MultiInput, children: Children = () => []): boolean {
  const depth = input.depth ?? 0;
  const hits = (ids: number[]) => [...expand(ids, depth, children)].some((id) => linked.has(id));
  let ok = true;
  switch (input.modifier) {
    case 'IS_NULL':
      ok = linked.size === 0;
      break;
    case 'NOT_NULL':
      ok = linked.size > 0;
      break;
    case 'INCLUDES':
      ok = input.value.length === 0 || hits(input.value);
      break;
    case 'INCLUDES_ALL':
      ok = input.value.every((value) => hits([value]));
      break;
    case 'EXCLUDES':
      ok = input.value.length === 0 || !hits(input.value);
      break;
  }
  if (input.excludes?.length && hits(input.excludes)) ok = false;
  return ok;
}

export function hierarchies(library: Library) {
  const tagChildren = new Map<number, number[]>();
  for (const tag of library.tags.values()) {
    for (const parent of tag.parent_ids) tagChildren.set(parent, [...(tagChildren.get(parent) ?? []), tag.id]);
  }
  const studioChildren = new Map<number, number[]>();
  for (const studio of library.studios.values()) {
    if (studio.parent_id !== null) {
      studioChildren.set(studio.parent_id, [...(studioChildren.get(studio.parent_id) ?? []), studio.id]);
    }
  }
  const groupChildren = new Map<number, number[]>();
  for (const group of library.groups.values()) {
    for (const { group_id } of group.containing_groups) {
      groupChildren.set(group_id, [...(groupChildren.get(group_id) ?? []), group.id]);
    }
  }
  return {
    tags: (id: number) => tagChildren.get(id) ?? [],
    studios: (id: number) => studioChildren.get(id) ?? [],
    groups: (id: number) => groupChildren.get(id) ?? [],
  };
}

/** A scene's tags: its own and those inherited from its performers, studio and groups. */
export function sceneTags(library: Library, sceneId: number): Set<number> {
  const scene = library.scenes.get(sceneId);
  if (!scene) return new Set();
  const tags = new Set(scene.tag_ids);
  for (const id of scene.performer_ids) for (const tag of library.performers.get(id)?.tag_ids ?? []) tags.add(tag);
  if (scene.studio_id !== null) for (const tag of library.studios.get(scene.studio_id)?.tag_ids ?? []) tags.add(tag);
  for (const { group_id } of scene.groups) for (const tag of library.groups.get(group_id)?.tag_ids ?? []) tags.add(tag);
  return keepLive(tags, library.tags);
}

/** An image's effective performers or tags: its own and those of all its galleries. */
export function imageLinks(library: Library, imageId: number, kind: 'performer_ids' | 'tag_ids'): Set<number> {
  const image = library.images.get(imageId);
  if (!image) return new Set();
  const ids = new Set(image[kind]);
  for (const galleryId of image.gallery_ids)
    for (const id of library.galleries.get(galleryId)?.[kind] ?? []) ids.add(id);
  return keepLive(ids, kind === 'tag_ids' ? library.tags : library.performers);
}

/**
 * A text value as the mirror and its API hold it: Stash's database has NULL or '' for "unset"
 * (served as ""), the mirror has NULL only.
 */
export function text(value: string | null | undefined): string | null {
  return value || null;
}

type Inherited = 'studio_id' | 'photographer' | 'details';

/**
 * An image's effective studio, photographer or details: its own, else that of its first gallery
 * (by id) that has one; an empty text is no value.
 */
export function imageEffective<F extends Inherited>(library: Library, imageId: number, field: F): SimImage[F] | null {
  const image = library.images.get(imageId);
  if (!image) return null;
  const valueIn = (row: Pick<SimImage, Inherited>): SimImage[F] | null => (row[field] === '' ? null : row[field]);
  const own = valueIn(image);
  if (own !== null) return own;
  for (const galleryId of [...image.gallery_ids].sort((a, b) => a - b)) {
    const gallery = library.galleries.get(galleryId);
    const value = gallery ? valueIn(gallery) : null;
    if (value !== null) return value;
  }
  return null;
}

function keepLive(ids: Set<number>, live: Map<number, unknown>): Set<number> {
  return new Set([...ids].filter((id) => live.has(id)));
}

export function stashIds(ids: number[]): string[] {
  return ids.map(String);
}
