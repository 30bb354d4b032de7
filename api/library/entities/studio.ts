import { COMMON_CRITERIA, COMMON_SORTS, counted, type LibraryEntity, ref, refs, TAG_HIERARCHY } from '../definition.js';
import type { View } from '../view.js';

const children = (
  view: View,
) => `coalesce((select json_agg(json_build_object('id', x.id::text, 'name', x.name) order by x.name, x.id)
  from studios x where x.parent_id = t.id and x.deleted_at is null${view.visible('studios', 'x')}), '[]'::json)`;

/** Studios as `view`'s reader sees them (library/view.ts). */
export const studioEntityFor = (view: View): LibraryEntity => ({
  type: 'studio',
  path: 'studios',
  queryField: 'findStudios',
  listField: 'studios',
  singleField: 'findStudio',
  filterKey: 'studio_filter',
  from: 'studios t',
  search: ['t.name'],
  sorts: {
    ...COMMON_SORTS,
    name: 'lower(t.name)',
    rating: 't.rating100',
    rating100: 't.rating100',
    scenes_count: counted(view, 'studio', 'scene_count'),
    images_count: counted(view, 'studio', 'image_count'),
  },
  defaultSort: 'name',
  criteria: {
    ...COMMON_CRITERIA,
    rating100: { kind: 'int', expression: 't.rating100' },
    scene_count: { kind: 'int', expression: counted(view, 'studio', 'scene_count') },
    image_count: { kind: 'int', expression: counted(view, 'studio', 'image_count') },
    favorite: { kind: 'boolean', expression: 't.favorite' },
    tags: {
      kind: 'multi',
      sources: [{ table: 'studio_tags', owner: 'studio_id', target: 'tag_id' }],
      hierarchy: TAG_HIERARCHY,
    },
    parents: { kind: 'multi', sources: [{ column: 't.parent_id' }] },
  },
  select: `json_build_object(
    'id', t.id::text, 'name', t.name, 'parent_studio', ${ref(view, 'studios', 't.parent_id')},
    'child_studios', ${children(view)}, 'aliases', t.aliases, 'urls', t.urls, 'rating100', t.rating100,
    'favorite', t.favorite, 'details', t.details, 'ignore_auto_tag', t.ignore_auto_tag,
    'tags', ${refs(view, 'studio_tags', 'studio_id', 'tag_id', 'tags')},
    'scene_count', ${counted(view, 'studio', 'scene_count')}, 'image_count', ${counted(view, 'studio', 'image_count')},
    'created_at', t.stash_created_at, 'updated_at', t.stash_updated_at_raw)`,
});
