import {
  COMMON_CRITERIA,
  COMMON_SORTS,
  type LibraryEntity,
  ref,
  refs,
  STUDIO_HIERARCHY,
  TAG_HIERARCHY,
} from '../definition.js';
import type { View } from '../view.js';

/** Effective performers/tags: own plus inherited from the image's galleries (image_effective_*). */
function effective(view: View, table: string, column: string, target: string): string {
  return `coalesce((select json_agg(json_build_object('id', x.id::text, 'name', x.name, 'inherited', l.inherited)
    order by x.name, x.id) from ${table} l join ${target} x on x.id = l.${column} and x.deleted_at is null${view.visible(target, 'x')}
    where l.image_id = t.id), '[]'::json)`;
}

/** Images as `view`'s reader sees them (library/view.ts). */
export const imageEntityFor = (view: View): LibraryEntity => ({
  type: 'image',
  path: 'images',
  queryField: 'findImages',
  listField: 'images',
  singleField: 'findImage',
  filterKey: 'image_filter',
  from: 'images t left join image_effective e on e.image_id = t.id',
  search: ['t.title', 't.code', 't.path'],
  sorts: {
    ...COMMON_SORTS,
    title: 'lower(t.title)',
    date: 'coalesce(t.date, e.date)',
    rating: 't.rating100',
    rating100: 't.rating100',
    o_counter: 't.o_counter',
    filesize: 't.filesize',
    path: 't.path',
  },
  defaultSort: 'id',
  // Images match their EFFECTIVE studio, date, performers and tags (gallery-inherited included);
  // the own links are OR'ed in so an image is found even before post-processing has run.
  criteria: {
    ...COMMON_CRITERIA,
    rating100: { kind: 'int', expression: 't.rating100' },
    o_counter: { kind: 'int', expression: 't.o_counter' },
    date: { kind: 'date', expression: 'coalesce(t.date, e.date)' },
    organized: { kind: 'boolean', expression: 't.organized' },
    performers: {
      kind: 'multi',
      sources: [
        { table: 'image_effective_performers', owner: 'image_id', target: 'performer_id' },
        { table: 'image_performers', owner: 'image_id', target: 'performer_id' },
      ],
    },
    tags: {
      kind: 'multi',
      sources: [
        { table: 'image_effective_tags', owner: 'image_id', target: 'tag_id' },
        { table: 'image_tags', owner: 'image_id', target: 'tag_id' },
      ],
      hierarchy: TAG_HIERARCHY,
    },
    studios: {
      kind: 'multi',
      sources: [{ column: 't.studio_id' }, { column: 'e.studio_id' }],
      hierarchy: STUDIO_HIERARCHY,
    },
    galleries: { kind: 'multi', sources: [{ table: 'image_galleries', owner: 'image_id', target: 'gallery_id' }] },
  },
  // Unset text is null, as in the mirror (docs/api.md); the effective values also take '' for
  // unset, should a row written before Stash's "" was normalised still hold one.
  select: `json_build_object(
    'id', t.id::text, 'title', t.title, 'code', t.code, 'details', t.details, 'photographer', t.photographer,
    'urls', t.urls, 'date', t.date, 'rating100', t.rating100, 'organized', t.organized, 'o_counter', t.o_counter,
    'visual_files', case when t.path is null then '[]'::json else json_build_array(json_build_object(
      'path', t.path, 'size', t.filesize, 'width', t.width, 'height', t.height, 'format', t.format)) end,
    'studio', ${ref(view, 'studios', 't.studio_id')},
    'performers', ${refs(view, 'image_performers', 'image_id', 'performer_id', 'performers')},
    'tags', ${refs(view, 'image_tags', 'image_id', 'tag_id', 'tags')},
    'galleries', ${refs(view, 'image_galleries', 'image_id', 'gallery_id', 'galleries', 'title')},
    'effective', json_build_object(
      'studio', ${ref(view, 'studios', 'coalesce(t.studio_id, e.studio_id)')},
      'date', coalesce(t.date, e.date),
      'photographer', coalesce(nullif(t.photographer, ''), nullif(e.photographer, '')),
      'details', coalesce(nullif(t.details, ''), nullif(e.details, '')),
      'performers', ${effective(view, 'image_effective_performers', 'performer_id', 'performers')},
      'tags', ${effective(view, 'image_effective_tags', 'tag_id', 'tags')}),
    'created_at', t.stash_created_at, 'updated_at', t.stash_updated_at_raw)`,
});
