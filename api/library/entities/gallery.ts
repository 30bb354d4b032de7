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

/** Galleries as `view`'s reader sees them (library/view.ts). */
export const galleryEntityFor = (view: View): LibraryEntity => {
  const imageCount = view.count('gallery', 'image_count', 't.image_count');
  return {
    type: 'gallery',
    path: 'galleries',
    queryField: 'findGalleries',
    listField: 'galleries',
    singleField: 'findGallery',
    filterKey: 'gallery_filter',
    from: 'galleries t',
    search: ['t.title', 't.code'],
    sorts: {
      ...COMMON_SORTS,
      title: 'lower(t.title)',
      date: 't.date',
      rating: 't.rating100',
      rating100: 't.rating100',
      images_count: imageCount,
      image_count: imageCount,
    },
    defaultSort: 'id',
    criteria: {
      ...COMMON_CRITERIA,
      rating100: { kind: 'int', expression: 't.rating100' },
      image_count: { kind: 'int', expression: imageCount },
      date: { kind: 'date', expression: 't.date' },
      organized: { kind: 'boolean', expression: 't.organized' },
      performers: {
        kind: 'multi',
        sources: [{ table: 'gallery_performers', owner: 'gallery_id', target: 'performer_id' }],
      },
      tags: {
        kind: 'multi',
        sources: [{ table: 'gallery_tags', owner: 'gallery_id', target: 'tag_id' }],
        hierarchy: TAG_HIERARCHY,
      },
      studios: { kind: 'multi', sources: [{ column: 't.studio_id' }], hierarchy: STUDIO_HIERARCHY },
      scenes: { kind: 'multi', sources: [{ table: 'scene_galleries', owner: 'gallery_id', target: 'scene_id' }] },
    },
    select: `json_build_object(
    'id', t.id::text, 'title', t.title, 'code', t.code, 'date', t.date, 'details', t.details,
    'photographer', t.photographer, 'rating100', t.rating100, 'organized', t.organized, 'urls', t.urls,
    'image_count', ${imageCount},
    'studio', ${ref(view, 'studios', 't.studio_id')},
    'performers', ${refs(view, 'gallery_performers', 'gallery_id', 'performer_id', 'performers')},
    'tags', ${refs(view, 'gallery_tags', 'gallery_id', 'tag_id', 'tags')},
    'scenes', ${refs(view, 'scene_galleries', 'gallery_id', 'scene_id', 'scenes', 'title')},
    'created_at', t.stash_created_at, 'updated_at', t.stash_updated_at_raw)`,
  };
};
