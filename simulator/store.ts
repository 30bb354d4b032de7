import type { SimClock } from './clock.js';
import { type AnyEntity, type EntityOf, type EntityPatch, type EntityType, parseId, tableOf } from './entities.js';
import type {
  Library,
  SimGallery,
  SimGroup,
  SimGroupDescription,
  SimImage,
  SimPerformer,
  SimScene,
  SimStudio,
  SimTag,
} from './model.js';
import { parsePatch } from './patches.js';

const TYPES: readonly EntityType[] = ['studio', 'tag', 'performer', 'group', 'gallery', 'scene', 'image'];
const TAGGED: readonly EntityType[] = ['studio', 'performer', 'group', 'gallery', 'scene', 'image'];

export interface SceneMergeOptions {
  /** Add the sources' play counts/durations to the destination (sceneMerge's play_history). */
  playHistory?: boolean;
  /** Add the sources' o-counters to the destination (sceneMerge's o_history). */
  oHistory?: boolean;
}

interface Derived {
  version: number;
  tagChildren: Map<number, number[]>;
  studioChildren: Map<number, number[]>;
  subGroups: Map<number, SimGroupDescription[]>;
}

/**
 * The live library plus the indexes that keep listing cheap at 500k rows: per-type id-sorted
 * arrays (for O(log n) keyset pages) and per-gallery image counts. Every change goes through here
 * so the indexes and Stash's "what bumps updated_at" rules stay in one place.
 */
export class Store {
  /** Bumped by every change; listing caches key on it. */
  version = 0;
  private readonly ids: Record<EntityType, number[]>;
  private readonly nextIds: Record<EntityType, number>;
  private readonly imageCounts = new Map<number, number>();
  private derived: Derived | null = null;

  constructor(
    readonly library: Library,
    readonly clock: SimClock,
  ) {
    this.ids = {} as Record<EntityType, number[]>;
    this.nextIds = {} as Record<EntityType, number>;
    for (const type of TYPES) {
      const keys = [...tableOf(library, type).keys()].sort((a, b) => a - b);
      this.ids[type] = keys;
      this.nextIds[type] = (keys[keys.length - 1] ?? 0) + 1;
    }
    for (const image of library.images.values()) this.countImage(image.gallery_ids, 1);
  }

  get<T extends EntityType>(type: T, id: number): EntityOf<T> | undefined {
    return tableOf(this.library, type).get(id);
  }

  /** Throws Stash's own message for a missing id. */
  require<T extends EntityType>(type: T, id: number | string): EntityOf<T> {
    const parsed = parseId(id);
    const entity = this.get(type, parsed);
    if (!entity) throw new Error(`${type} with id ${parsed} not found`);
    return entity;
  }

  /** Ids of a type in ascending order. Callers must not mutate it. */
  sortedIds(type: EntityType): readonly number[] {
    return this.ids[type];
  }

  size(type: EntityType): number {
    return this.ids[type].length;
  }

  imageCount(galleryId: number): number {
    return this.imageCounts.get(galleryId) ?? 0;
  }

  tagChildren(tagId: number): readonly number[] {
    return this.derivedIndexes().tagChildren.get(tagId) ?? [];
  }

  studioChildren(studioId: number): readonly number[] {
    return this.derivedIndexes().studioChildren.get(studioId) ?? [];
  }

  subGroups(groupId: number): readonly SimGroupDescription[] {
    return this.derivedIndexes().subGroups.get(groupId) ?? [];
  }

  // ---- writes -------------------------------------------------------------------------------

  /**
   * Edits fields and the entity's own links and bumps its updated_at (unless the patch sets
   * updated_at itself, which tests use to build exact timestamp layouts).
   */
  update<T extends EntityType>(
    type: T,
    id: number | string,
    rawPatch: EntityPatch<T> | Record<string, unknown>,
  ): EntityOf<T> {
    const entity = this.require(type, id);
    const patch = parsePatch(type, rawPatch);
    this.checkLinks(type, entity.id, patch);
    this.applyLinkSideEffects(type, entity, patch);
    Object.assign(entity, patch);
    if (patch.updated_at === undefined) entity.updated_at = this.clock.stamp();
    this.changed();
    return entity;
  }

  /** Creates an entity with Stash-like defaults; ids only ever grow. */
  create<T extends EntityType>(type: T, rawFields: EntityPatch<T> | Record<string, unknown> = {}): EntityOf<T> {
    const fields = parsePatch(type, rawFields);
    const id = this.nextIds[type]++;
    const now = this.clock.stamp();
    const entity = { ...defaults(type), id, created_at: now, updated_at: now } as EntityOf<T>;
    if ((type === 'studio' || type === 'tag' || type === 'performer' || type === 'group') && !('name' in fields)) {
      throw new Error(`${type} needs a name`);
    }
    this.checkLinks(type, id, fields);
    this.applyLinkSideEffects(type, entity, fields);
    Object.assign(entity, fields);
    tableOf(this.library, type).set(id, entity);
    this.ids[type].push(id);
    if (type === 'image') this.countImage((entity as SimImage).gallery_ids, 1);
    this.changed();
    return entity;
  }

  /**
   * Deletes an entity. Links pointing at it disappear (or studio/parent are cleared) WITHOUT
   * bumping the entities that held them: that is what real Stash does and why an updated_at-only
   * sync misses deletions.
   */
  remove(type: EntityType, id: number | string): void {
    const entity = this.require(type, id);
    const gone = entity.id;
    const lib = this.library;
    switch (type) {
      case 'studio':
        for (const row of [
          ...lib.scenes.values(),
          ...lib.images.values(),
          ...lib.galleries.values(),
          ...lib.groups.values(),
        ]) {
          if (row.studio_id === gone) row.studio_id = null;
        }
        for (const studio of lib.studios.values()) if (studio.parent_id === gone) studio.parent_id = null;
        break;
      case 'tag':
        for (const t of TAGGED) {
          for (const row of tableOf(lib, t).values()) {
            const tagged = row as { tag_ids: number[] };
            if (tagged.tag_ids.includes(gone)) tagged.tag_ids = tagged.tag_ids.filter((x) => x !== gone);
          }
        }
        for (const tag of lib.tags.values()) {
          if (tag.parent_ids.includes(gone)) tag.parent_ids = tag.parent_ids.filter((x) => x !== gone);
        }
        break;
      case 'performer':
        for (const row of [...lib.scenes.values(), ...lib.images.values(), ...lib.galleries.values()]) {
          if (row.performer_ids.includes(gone)) row.performer_ids = row.performer_ids.filter((x) => x !== gone);
        }
        break;
      case 'group':
        for (const scene of lib.scenes.values()) {
          if (scene.groups.some((g) => g.group_id === gone))
            scene.groups = scene.groups.filter((g) => g.group_id !== gone);
        }
        for (const group of lib.groups.values()) {
          if (group.containing_groups.some((g) => g.group_id === gone)) {
            group.containing_groups = group.containing_groups.filter((g) => g.group_id !== gone);
          }
        }
        break;
      case 'gallery':
        for (const image of lib.images.values()) {
          if (image.gallery_ids.includes(gone)) image.gallery_ids = image.gallery_ids.filter((x) => x !== gone);
        }
        for (const scene of lib.scenes.values()) {
          if (scene.gallery_ids.includes(gone)) scene.gallery_ids = scene.gallery_ids.filter((x) => x !== gone);
        }
        this.imageCounts.delete(gone);
        break;
      case 'scene':
        for (const galleryId of (entity as SimScene).gallery_ids) {
          const gallery = lib.galleries.get(galleryId);
          if (gallery) gallery.scene_ids = gallery.scene_ids.filter((x) => x !== gone);
        }
        break;
      case 'image':
        this.countImage((entity as SimImage).gallery_ids, -1);
        break;
    }
    tableOf(lib, type).delete(gone);
    const list = this.ids[type];
    const at = lowerBound(list, gone);
    if (list[at] === gone) list.splice(at, 1);
    this.changed();
  }

  /**
   * tagsMerge: every link to a source now points at the destination, the sources are deleted,
   * and no linked entity's updated_at moves. The destination absorbs the sources' names as aliases.
   */
  mergeTags(sourceIds: readonly (number | string)[], destinationId: number | string): SimTag {
    const dest = this.require('tag', destinationId);
    const sources = sourceIds.map((s) => this.require('tag', s).id).filter((s) => s !== dest.id);
    if (sources.length === 0) return dest;
    const isSource = new Set(sources);
    const relink = (list: number[]): number[] | null => {
      if (!list.some((x) => isSource.has(x))) return null;
      const out = list.filter((x) => !isSource.has(x));
      if (!out.includes(dest.id)) out.push(dest.id);
      return out;
    };
    for (const t of TAGGED) {
      for (const row of tableOf(this.library, t).values()) {
        const tagged = row as { tag_ids: number[] };
        const next = relink(tagged.tag_ids);
        if (next) tagged.tag_ids = next;
      }
    }
    const aliases = new Set(dest.aliases);
    for (const sourceId of sources) {
      const source = this.library.tags.get(sourceId) as SimTag;
      aliases.add(source.name);
      for (const alias of source.aliases) aliases.add(alias);
      // The sources' own parents become the destination's parents.
      for (const parent of source.parent_ids)
        if (!isSource.has(parent)) dest.parent_ids = union(dest.parent_ids, [parent]);
    }
    for (const tag of this.library.tags.values()) {
      const next = relink(tag.parent_ids);
      if (next) tag.parent_ids = next;
      if (tag.parent_ids.includes(tag.id)) tag.parent_ids = tag.parent_ids.filter((x) => x !== tag.id);
    }
    aliases.delete(dest.name);
    dest.aliases = [...aliases];
    for (const sourceId of sources) {
      this.library.tags.delete(sourceId);
      const at = lowerBound(this.ids.tag, sourceId);
      this.ids.tag.splice(at, 1);
    }
    // Real Stash (v0.30.1) bumps no one on a tag merge, not even the destination, although its
    // aliases, parents and children just changed: only comparing ids shows that anything happened.
    this.changed();
    return dest;
  }

  /** sceneMerge: the destination takes the sources' links and files; the sources are deleted. */
  mergeScenes(
    sourceIds: readonly (number | string)[],
    destinationId: number | string,
    options: SceneMergeOptions = {},
  ): SimScene {
    const dest = this.require('scene', destinationId);
    const sources = sourceIds.map((s) => this.require('scene', s)).filter((s) => s.id !== dest.id);
    for (const source of sources) {
      dest.performer_ids = union(dest.performer_ids, source.performer_ids);
      dest.tag_ids = union(dest.tag_ids, source.tag_ids);
      for (const galleryId of source.gallery_ids) {
        if (dest.gallery_ids.includes(galleryId)) continue;
        dest.gallery_ids = [...dest.gallery_ids, galleryId];
        const gallery = this.library.galleries.get(galleryId);
        if (gallery) gallery.scene_ids = union(gallery.scene_ids, [dest.id]);
      }
      for (const link of source.groups) {
        if (!dest.groups.some((g) => g.group_id === link.group_id)) dest.groups = [...dest.groups, { ...link }];
      }
      if (dest.studio_id === null) dest.studio_id = source.studio_id;
      dest.files = [...dest.files, ...source.files];
      if (options.oHistory) dest.o_counter += source.o_counter;
      if (options.playHistory) {
        dest.play_count += source.play_count;
        dest.play_duration += source.play_duration;
      }
    }
    for (const source of sources) {
      source.files = [];
      this.remove('scene', source.id);
    }
    dest.updated_at = this.clock.stamp();
    this.changed();
    return dest;
  }

  /**
   * addGalleryImages / removeGalleryImages (the gallery page's "add/remove images"): the images'
   * `galleries` lists change, but only the GALLERY is bumped; the images keep their updated_at.
   */
  changeGalleryImages(galleryId: number | string, imageIds: readonly (number | string)[], add: boolean): SimGallery {
    const gallery = this.require('gallery', galleryId);
    const images = imageIds.map((id) => this.require('image', id));
    for (const image of images) {
      const has = image.gallery_ids.includes(gallery.id);
      if (add === has) continue;
      image.gallery_ids = add ? [...image.gallery_ids, gallery.id] : image.gallery_ids.filter((x) => x !== gallery.id);
      this.countImage([gallery.id], add ? 1 : -1);
    }
    gallery.updated_at = this.clock.stamp();
    this.changed();
    return gallery;
  }

  /** Stamps many rows with the same second, like a scan or a bulk edit. Returns how many. */
  touch(type: EntityType, which: readonly (number | string)[] | 'all'): number {
    const stamp = this.clock.stamp();
    const table = tableOf(this.library, type);
    let touched = 0;
    if (which === 'all') {
      for (const row of table.values()) {
        (row as AnyEntity).updated_at = stamp;
        touched++;
      }
    } else {
      for (const id of which) {
        this.require(type, id).updated_at = stamp;
        touched++;
      }
    }
    this.changed();
    return touched;
  }

  // ---- internals ----------------------------------------------------------------------------

  private changed(): void {
    this.version++;
  }

  private countImage(galleryIds: readonly number[], delta: 1 | -1): void {
    for (const galleryId of galleryIds) {
      this.imageCounts.set(galleryId, (this.imageCounts.get(galleryId) ?? 0) + delta);
    }
  }

  private derivedIndexes(): Derived {
    if (this.derived && this.derived.version === this.version) return this.derived;
    const tagChildren = new Map<number, number[]>();
    for (const tag of this.library.tags.values()) {
      for (const parent of tag.parent_ids) push(tagChildren, parent, tag.id);
    }
    const studioChildren = new Map<number, number[]>();
    for (const studio of this.library.studios.values()) {
      if (studio.parent_id !== null) push(studioChildren, studio.parent_id, studio.id);
    }
    const subGroups = new Map<number, SimGroupDescription[]>();
    for (const group of this.library.groups.values()) {
      for (const link of group.containing_groups)
        push(subGroups, link.group_id, { group_id: group.id, description: link.description });
    }
    this.derived = { version: this.version, tagChildren, studioChildren, subGroups };
    return this.derived;
  }

  /** Linked ids must exist and hierarchies must stay acyclic, as Stash's own checks enforce. */
  private checkLinks<T extends EntityType>(type: T, selfId: number, patch: EntityPatch<T>): void {
    const p = patch as Record<string, unknown>;
    const must = (t: EntityType, list: unknown): void => {
      for (const x of (list as number[] | undefined) ?? []) this.require(t, x);
    };
    if (p.studio_id != null) this.require('studio', p.studio_id as number);
    must('tag', p.tag_ids);
    must('performer', p.performer_ids);
    must('gallery', p.gallery_ids);
    must('scene', p.scene_ids);
    if (Array.isArray(p.groups))
      must(
        'group',
        (p.groups as SimScene['groups']).map((g) => g.group_id),
      );
    if (type === 'studio' && p.parent_id != null) {
      const parent = p.parent_id as number;
      this.require('studio', parent);
      for (let at: number | null = parent; at !== null; at = this.library.studios.get(at)?.parent_id ?? null) {
        if (at === selfId) throw new Error('studio cannot be its own ancestor');
      }
    }
    if (type === 'tag' && p.parent_ids) {
      const parents = p.parent_ids as number[];
      must('tag', parents);
      if (this.reachesTag(parents, selfId)) throw new Error('tag cannot be its own ancestor');
    }
    if (type === 'group' && p.containing_groups) {
      const containing = (p.containing_groups as SimGroup['containing_groups']).map((g) => g.group_id);
      must('group', containing);
      if (this.reachesGroup(containing, selfId)) throw new Error('group cannot contain itself');
    }
  }

  private reachesTag(start: readonly number[], target: number): boolean {
    const seen = new Set<number>();
    const stack = [...start];
    while (stack.length > 0) {
      const id = stack.pop() as number;
      if (id === target) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(this.library.tags.get(id)?.parent_ids ?? []));
    }
    return false;
  }

  private reachesGroup(start: readonly number[], target: number): boolean {
    const seen = new Set<number>();
    const stack = [...start];
    while (stack.length > 0) {
      const id = stack.pop() as number;
      if (id === target) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      stack.push(...(this.library.groups.get(id)?.containing_groups.map((g) => g.group_id) ?? []));
    }
    return false;
  }

  /** Keeps the two views of scenes_galleries in step and gallery image counts current. */
  private applyLinkSideEffects<T extends EntityType>(type: T, entity: EntityOf<T>, patch: EntityPatch<T>): void {
    const p = patch as Record<string, unknown>;
    if (type === 'scene' && Array.isArray(p.gallery_ids)) {
      const scene = entity as SimScene;
      const next = dedupe(p.gallery_ids as number[]);
      p.gallery_ids = next;
      for (const galleryId of scene.gallery_ids) {
        const gallery = this.library.galleries.get(galleryId);
        if (gallery && !next.includes(galleryId)) gallery.scene_ids = gallery.scene_ids.filter((x) => x !== scene.id);
      }
      for (const galleryId of next) {
        const gallery = this.library.galleries.get(galleryId);
        if (gallery) gallery.scene_ids = union(gallery.scene_ids, [scene.id]);
      }
    }
    if (type === 'gallery' && Array.isArray(p.scene_ids)) {
      const gallery = entity as SimGallery;
      const next = dedupe(p.scene_ids as number[]);
      p.scene_ids = next;
      for (const sceneId of gallery.scene_ids) {
        const scene = this.library.scenes.get(sceneId);
        if (scene && !next.includes(sceneId)) scene.gallery_ids = scene.gallery_ids.filter((x) => x !== gallery.id);
      }
      for (const sceneId of next) {
        const scene = this.library.scenes.get(sceneId);
        if (scene) scene.gallery_ids = union(scene.gallery_ids, [gallery.id]);
      }
    }
    if (type === 'image' && Array.isArray(p.gallery_ids)) {
      const image = entity as SimImage;
      const next = dedupe(p.gallery_ids as number[]);
      p.gallery_ids = next;
      // create() counts a new image once it is stored; only an existing one is re-counted here.
      if (this.library.images.get(image.id) === image) {
        this.countImage(image.gallery_ids, -1);
        this.countImage(next, 1);
        // imageUpdate / bulkImageUpdate with gallery ids bump the galleries joined or left too.
        const before = image.gallery_ids;
        const moved = [...next.filter((x) => !before.includes(x)), ...before.filter((x) => !next.includes(x))];
        const stamp = this.clock.stamp();
        for (const galleryId of moved) {
          const gallery = this.library.galleries.get(galleryId);
          if (gallery) gallery.updated_at = stamp;
        }
      }
    }
    for (const key of ['tag_ids', 'performer_ids', 'parent_ids', 'aliases', 'alias_list', 'urls'] as const) {
      if (Array.isArray(p[key])) p[key] = [...(p[key] as unknown[])];
    }
  }
}

function defaults(type: EntityType): Omit<AnyEntity, 'id' | 'created_at' | 'updated_at'> {
  switch (type) {
    case 'studio':
      return {
        name: '',
        parent_id: null,
        aliases: [],
        tag_ids: [],
        rating100: null,
        favorite: false,
        details: null,
        urls: [],
        ignore_auto_tag: false,
      } satisfies Omit<SimStudio, 'id' | 'created_at' | 'updated_at'>;
    case 'tag':
      return {
        name: '',
        sort_name: null,
        description: null,
        aliases: [],
        favorite: false,
        ignore_auto_tag: false,
        parent_ids: [],
      } satisfies Omit<SimTag, 'id' | 'created_at' | 'updated_at'>;
    case 'performer':
      return {
        name: '',
        disambiguation: null,
        gender: null,
        birthdate: null,
        death_date: null,
        country: null,
        ethnicity: null,
        height_cm: null,
        alias_list: [],
        favorite: false,
        rating100: null,
        details: null,
        urls: [],
        tag_ids: [],
        ignore_auto_tag: false,
      } satisfies Omit<SimPerformer, 'id' | 'created_at' | 'updated_at'>;
    case 'group':
      return {
        name: '',
        aliases: null,
        duration: null,
        date: null,
        rating100: null,
        studio_id: null,
        director: null,
        synopsis: null,
        urls: [],
        tag_ids: [],
        containing_groups: [],
      } satisfies Omit<SimGroup, 'id' | 'created_at' | 'updated_at'>;
    case 'gallery':
      return {
        title: null,
        code: null,
        date: null,
        details: null,
        photographer: null,
        rating100: null,
        organized: false,
        studio_id: null,
        urls: [],
        performer_ids: [],
        tag_ids: [],
        scene_ids: [],
      } satisfies Omit<SimGallery, 'id' | 'created_at' | 'updated_at'>;
    case 'scene':
      return {
        title: null,
        code: null,
        details: null,
        director: null,
        urls: [],
        date: null,
        rating100: null,
        organized: false,
        o_counter: 0,
        play_count: 0,
        play_duration: 0,
        resume_time: 0,
        last_played_at: null,
        interactive: false,
        studio_id: null,
        performer_ids: [],
        tag_ids: [],
        gallery_ids: [],
        groups: [],
        files: [],
      } satisfies Omit<SimScene, 'id' | 'created_at' | 'updated_at'>;
    case 'image':
      return {
        title: null,
        code: null,
        date: null,
        details: null,
        photographer: null,
        rating100: null,
        organized: false,
        o_counter: 0,
        urls: [],
        studio_id: null,
        performer_ids: [],
        tag_ids: [],
        gallery_ids: [],
        visual_files: [],
      } satisfies Omit<SimImage, 'id' | 'created_at' | 'updated_at'>;
  }
}

function union(list: readonly number[], more: readonly number[]): number[] {
  const out = [...list];
  for (const x of more) if (!out.includes(x)) out.push(x);
  return out;
}

function dedupe(list: readonly number[]): number[] {
  return [...new Set(list)];
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
