import type { EntityType } from '../../stash/entity-types.js';
import type { TransactionSql } from '../client.js';
import type { Fragment } from './shared.js';

/**
 * The links along which a user's exclusions travel, declared once: user-exclusion-sets.ts
 * computes scenes' and images' exclusions over them, user-scope.ts finds the users a run can
 * affect over the same ones.
 */

/** A link from an owner to a target: a link table, or a column of the owner's row (owner column `id`). */
export interface Edge {
  owner: EntityType;
  table: string;
  ownerColumn: string;
  targetColumn: string;
  target: EntityType;
}
const edge = (
  owner: EntityType,
  table: string,
  ownerColumn: string,
  targetColumn: string,
  target: EntityType,
): Edge => ({
  owner,
  table,
  ownerColumn,
  targetColumn,
  target,
});

/** Links from scenes and images to what counts them (entity_counts' links), own and effective. */
export const CONTENT_EDGES: readonly Edge[] = [
  edge('scene', 'scene_tags', 'scene_id', 'tag_id', 'tag'),
  edge('scene', 'scene_inherited_tags', 'scene_id', 'tag_id', 'tag'),
  edge('scene', 'scene_performers', 'scene_id', 'performer_id', 'performer'),
  edge('scene', 'scene_groups', 'scene_id', 'group_id', 'group'),
  edge('scene', 'scenes', 'id', 'studio_id', 'studio'),
  edge('image', 'image_effective_tags', 'image_id', 'tag_id', 'tag'),
  edge('image', 'image_effective_performers', 'image_id', 'performer_id', 'performer'),
  edge('image', 'image_galleries', 'image_id', 'gallery_id', 'gallery'),
  edge('image', 'image_effective', 'image_id', 'studio_id', 'studio'),
];

/** Every link an exclusion cascades over. */
export const CASCADE_EDGES: readonly Edge[] = [
  ...CONTENT_EDGES,
  edge('gallery', 'gallery_tags', 'gallery_id', 'tag_id', 'tag'),
  edge('gallery', 'galleries', 'id', 'studio_id', 'studio'),
  edge('performer', 'performer_tags', 'performer_id', 'tag_id', 'tag'),
  edge('studio', 'studio_tags', 'studio_id', 'tag_id', 'tag'),
  edge('studio', 'studios', 'id', 'parent_id', 'studio'),
  edge('group', 'group_tags', 'group_id', 'tag_id', 'tag'),
  edge('group', 'groups', 'id', 'studio_id', 'studio'),
  edge('group', 'group_relations', 'sub_group_id', 'containing_group_id', 'group'),
  edge('tag', 'tag_parents', 'child_id', 'parent_id', 'tag'),
];

/** Links that count a scene for a gallery too (entity_counts), though no exclusion cascades over them. */
export const COUNTED_EDGES: readonly Edge[] = [
  ...CONTENT_EDGES,
  edge('scene', 'scene_galleries', 'scene_id', 'gallery_id', 'gallery'),
];

/** `edges` from `owner`, optionally only those to `target`. */
export function edgesFrom(edges: readonly Edge[], owner: EntityType, target?: EntityType): Edge[] {
  return edges.filter((e) => e.owner === owner && (target === undefined || e.target === target));
}

/** Owners linked along `e` to one of `targets` (one id column, duplicates allowed). */
export function ownersLinkedTo(tx: TransactionSql, e: Edge, targets: Fragment): Fragment {
  return tx`select ${tx(e.ownerColumn)} from ${tx(e.table)} where ${tx(e.targetColumn)} in (${targets})`;
}
