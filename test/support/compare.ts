import type { Sql } from '../../db/client.js';
import { diffEntity } from '../../db/diff.js';
import { liveIds, loadStored } from '../../db/entity-store.js';
import type { Simulator } from '../../simulator/index.js';
import { createStashClient } from '../../stash/client.js';
import { stashIdOf } from '../../stash/entities/fields.js';
import { ENTITY_SPECS, type MappedEntity } from '../../stash/entities/index.js';
import { mapForStorage } from '../../stash/entities/storable.js';
import { ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import { pageQuery } from '../../stash/queries.js';

export interface MirrorDifference {
  type: EntityType;
  missing: number[];
  extra: number[];
  different: Array<{ id: number; fields: string[] }>;
  /**
   * Entities Stash serves with an id that is not an id ("abc", "1e9"): the mirror cannot hold
   * them under any id. Present only when there are some (their served ids, as JSON).
   */
  unreadable?: string[];
}

/**
 * Compares the mirror's live rows and own links with everything the simulated Stash serves
 * right now (read in one per_page -1 request per type, so no paging of ours is involved).
 * Returns only the types that differ.
 */
export async function diffMirror(sql: Sql, simulator: Simulator, stashUrl: string): Promise<MirrorDifference[]> {
  const client = createStashClient({ url: stashUrl });
  const differences: MirrorDifference[] = [];
  for (const type of ENTITY_TYPES) {
    const spec = ENTITY_SPECS[type];
    const data = await client.request<Record<string, Record<string, unknown[]>>>(pageQuery(spec), {
      filter: { per_page: -1 },
      entity_filter: {},
    });
    const raws = data[spec.queryField]?.[spec.listField] ?? [];
    // What Stash serves but the mirror cannot store (stash/entities/storable.ts) is compared by
    // id only: the mirror must lack it (or a test's corruption would throw here).
    const mapped: MappedEntity[] = [];
    const unstorable: number[] = [];
    const unreadable: string[] = [];
    for (const raw of raws) {
      try {
        mapped.push(mapForStorage(spec, raw));
      } catch {
        const served = (raw as { id?: unknown } | null)?.id;
        const id = stashIdOf(served);
        if (id === null) unreadable.push(JSON.stringify(served));
        else unstorable.push(id);
      }
    }
    const stashIds = new Set([...mapped.map((entity) => entity.id), ...unstorable]);
    const live = new Set(await liveIds(sql, spec));
    const stored = await loadStored(sql, spec, [...stashIds]);
    const different: MirrorDifference['different'] = [];
    for (const entity of mapped) {
      const current = stored.get(entity.id);
      if (!current || current.deleted) continue;
      const { change, changedFields } = diffEntity(spec, entity, current);
      if (change !== 'unchanged') different.push({ id: entity.id, fields: changedFields });
    }
    const missing = [...stashIds].filter((id) => !live.has(id));
    const extra = [...live].filter((id) => !stashIds.has(id));
    if (missing.length + extra.length + different.length + unreadable.length > 0) {
      differences.push({ type, missing, extra, different, ...(unreadable.length > 0 ? { unreadable } : {}) });
    }
  }
  // Own links checked straight against the simulator's model as well (not through our mapper).
  const library = simulator.library;
  const sceneTags =
    await sql`select scene_id, array_agg(tag_id order by tag_id) as tags from scene_tags group by scene_id`;
  const mirrorSceneTags = new Map(sceneTags.map((row) => [Number(row.scene_id), (row.tags as number[]).map(Number)]));
  const wrongSceneTags = [...library.scenes.values()]
    .filter(
      (scene) =>
        JSON.stringify([...scene.tag_ids].sort((a, b) => a - b)) !==
        JSON.stringify(mirrorSceneTags.get(scene.id) ?? []),
    )
    .map((scene) => scene.id);
  if (wrongSceneTags.length > 0) {
    differences.push({
      type: 'scene',
      missing: [],
      extra: [],
      different: wrongSceneTags.map((id) => ({ id, fields: ['scene_tags (model)'] })),
    });
  }
  // galleries.image_count follows the images linked to the gallery, as Stash's own count does.
  const galleryCounts = new Map<number, number>();
  for (const image of library.images.values()) {
    for (const id of image.gallery_ids) galleryCounts.set(id, (galleryCounts.get(id) ?? 0) + 1);
  }
  const storedCounts = await sql`select id, image_count from galleries where deleted_at is null`;
  const wrongCounts = storedCounts
    .filter((row) => Number(row.image_count) !== (galleryCounts.get(Number(row.id)) ?? 0))
    .map((row) => ({ id: Number(row.id), fields: ['image_count'] }));
  if (wrongCounts.length > 0) differences.push({ type: 'gallery', missing: [], extra: [], different: wrongCounts });
  return differences;
}
