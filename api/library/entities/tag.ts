import { COMMON_CRITERIA, COMMON_SORTS, counted, type LibraryEntity, refs, TAG_HIERARCHY } from '../definition.js';
import type { View } from '../view.js';

/** Tags as `view`'s reader sees them (library/view.ts). */
export const tagEntityFor = (view: View): LibraryEntity => ({
  type: 'tag',
  path: 'tags',
  queryField: 'findTags',
  listField: 'tags',
  singleField: 'findTag',
  filterKey: 'tag_filter',
  from: 'tags t',
  search: ['t.name', 't.sort_name'],
  sorts: {
    ...COMMON_SORTS,
    name: 'lower(t.name)',
    sort_name: "lower(coalesce(nullif(t.sort_name, ''), t.name))",
    scenes_count: counted(view, 'tag', 'scene_count'),
    images_count: counted(view, 'tag', 'image_count'),
  },
  defaultSort: 'name',
  criteria: {
    ...COMMON_CRITERIA,
    scene_count: { kind: 'int', expression: counted(view, 'tag', 'scene_count') },
    image_count: { kind: 'int', expression: counted(view, 'tag', 'image_count') },
    favorite: { kind: 'boolean', expression: 't.favorite' },
    // Tags with a parent among the values (or, with depth, among their descendants): the values' descendants.
    parents: {
      kind: 'multi',
      sources: [{ table: 'tag_parents', owner: 'child_id', target: 'parent_id' }],
      hierarchy: TAG_HIERARCHY,
    },
    // Tags with a child among the values (or their ancestors): the values' ancestors.
    children: {
      kind: 'multi',
      sources: [{ table: 'tag_parents', owner: 'parent_id', target: 'child_id' }],
      hierarchy: { ...TAG_HIERARCHY, direction: 'up' },
    },
  },
  select: `json_build_object(
    'id', t.id::text, 'name', t.name, 'sort_name', t.sort_name, 'description', t.description,
    'aliases', t.aliases, 'favorite', t.favorite, 'ignore_auto_tag', t.ignore_auto_tag,
    'parents', ${refs(view, 'tag_parents', 'child_id', 'parent_id', 'tags')},
    'children', ${refs(view, 'tag_parents', 'parent_id', 'child_id', 'tags')},
    'scene_count', ${counted(view, 'tag', 'scene_count')}, 'image_count', ${counted(view, 'tag', 'image_count')},
    'created_at', t.stash_created_at, 'updated_at', t.stash_updated_at_raw)`,
});
