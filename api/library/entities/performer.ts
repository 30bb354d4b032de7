import { COMMON_CRITERIA, COMMON_SORTS, counted, type LibraryEntity, refs, TAG_HIERARCHY } from '../definition.js';
import type { View } from '../view.js';

/** Performers as `view`'s reader sees them (library/view.ts). */
export const performerEntityFor = (view: View): LibraryEntity => ({
  type: 'performer',
  path: 'performers',
  queryField: 'findPerformers',
  listField: 'performers',
  singleField: 'findPerformer',
  filterKey: 'performer_filter',
  from: 'performers t',
  search: ['t.name', 't.disambiguation'],
  sorts: {
    ...COMMON_SORTS,
    name: 'lower(t.name)',
    rating: 't.rating100',
    rating100: 't.rating100',
    birthdate: 't.birthdate',
    height: 't.height_cm',
    scenes_count: counted(view, 'performer', 'scene_count'),
    images_count: counted(view, 'performer', 'image_count'),
  },
  defaultSort: 'name',
  criteria: {
    ...COMMON_CRITERIA,
    rating100: { kind: 'int', expression: 't.rating100' },
    scene_count: { kind: 'int', expression: counted(view, 'performer', 'scene_count') },
    image_count: { kind: 'int', expression: counted(view, 'performer', 'image_count') },
    birthdate: { kind: 'date', expression: 't.birthdate' },
    filter_favorites: { kind: 'boolean', expression: 't.favorite' },
    tags: {
      kind: 'multi',
      sources: [{ table: 'performer_tags', owner: 'performer_id', target: 'tag_id' }],
      hierarchy: TAG_HIERARCHY,
    },
  },
  select: `json_build_object(
    'id', t.id::text, 'name', t.name, 'disambiguation', t.disambiguation, 'gender', t.gender,
    'birthdate', t.birthdate, 'death_date', t.death_date, 'country', t.country, 'ethnicity', t.ethnicity,
    'height_cm', t.height_cm, 'alias_list', t.alias_list, 'favorite', t.favorite, 'rating100', t.rating100,
    'details', t.details, 'urls', t.urls, 'ignore_auto_tag', t.ignore_auto_tag,
    'tags', ${refs(view, 'performer_tags', 'performer_id', 'tag_id', 'tags')},
    'scene_count', ${counted(view, 'performer', 'scene_count')}, 'image_count', ${counted(view, 'performer', 'image_count')},
    'created_at', t.stash_created_at, 'updated_at', t.stash_updated_at_raw)`,
});
