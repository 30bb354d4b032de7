import { z } from 'zod';
import {
  idRefs,
  optionalIdRef,
  optionalInt,
  optionalText,
  stampColumns,
  stamps,
  stashDate,
  stringList,
} from './fields.js';
import { type EntitySpec, mapper, ownLink, toTargets } from './spec.js';

const rawGallery = z.object({
  ...stamps,
  title: optionalText,
  code: optionalText,
  date: stashDate,
  details: optionalText,
  photographer: optionalText,
  rating100: optionalInt,
  organized: z.boolean(),
  urls: stringList,
  studio: optionalIdRef,
  performers: idRefs,
  tags: idRefs,
});

export const gallerySpec: EntitySpec = {
  type: 'gallery',
  queryField: 'findGalleries',
  listField: 'galleries',
  filterArgument: 'gallery_filter',
  filterInputType: 'GalleryFilterType',
  table: 'galleries',
  paging: 'id',
  // A gallery's scenes are the scene's own link (scene_galleries), synced from the scene side.
  // image_count is not read: Stash changes it when an IMAGE joins or leaves the gallery without
  // bumping the gallery, so a copy would go stale; post-processing keeps galleries.image_count
  // equal to the live images linked in image_galleries (which is what Stash counts).
  selection: `id title code date details photographer rating100 organized urls studio { id } performers { id } tags { id } created_at updated_at`,
  columns: [
    { name: 'title', type: 'text' },
    { name: 'code', type: 'text' },
    { name: 'date', type: 'date' },
    { name: 'details', type: 'text' },
    { name: 'photographer', type: 'text' },
    { name: 'rating100', type: 'integer' },
    { name: 'organized', type: 'boolean' },
    { name: 'urls', type: 'text[]' },
    { name: 'studio_id', type: 'bigint', references: 'studio' },
  ],
  links: [ownLink('gallery', 'performer'), ownLink('gallery', 'tag')],
  map: mapper(rawGallery, (raw) => ({
    id: raw.id,
    row: {
      title: raw.title,
      code: raw.code,
      date: raw.date,
      details: raw.details,
      photographer: raw.photographer,
      rating100: raw.rating100,
      organized: raw.organized,
      urls: raw.urls,
      studio_id: raw.studio ?? null,
      ...stampColumns(raw),
    },
    links: {
      performers: toTargets(raw.performers),
      tags: toTargets(raw.tags),
    },
  })),
};
