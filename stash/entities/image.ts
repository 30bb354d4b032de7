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

// visual_files is a union (ImageFile | VideoFile); both carry these fields.
const rawVisualFile = z.object({
  path: z.string(),
  size: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  format: z.string(),
});

const rawImage = z.object({
  ...stamps,
  title: optionalText,
  code: optionalText,
  date: stashDate,
  details: optionalText,
  photographer: optionalText,
  rating100: optionalInt,
  organized: z.boolean(),
  o_counter: optionalInt,
  urls: stringList,
  studio: optionalIdRef,
  performers: idRefs,
  tags: idRefs,
  galleries: idRefs,
  visual_files: z.array(rawVisualFile),
});

export const imageSpec: EntitySpec = {
  type: 'image',
  queryField: 'findImages',
  listField: 'images',
  filterArgument: 'image_filter',
  filterInputType: 'ImageFilterType',
  table: 'images',
  paging: 'id',
  selection: `id title code date details photographer rating100 organized o_counter urls studio { id } performers { id } tags { id } galleries { id } visual_files { ... on ImageFile { path size width height format } ... on VideoFile { path size width height format } } created_at updated_at`,
  columns: [
    { name: 'title', type: 'text' },
    { name: 'code', type: 'text' },
    { name: 'date', type: 'date' },
    { name: 'details', type: 'text' },
    { name: 'photographer', type: 'text' },
    { name: 'studio_id', type: 'bigint', references: 'studio' },
    { name: 'rating100', type: 'integer' },
    { name: 'organized', type: 'boolean' },
    { name: 'o_counter', type: 'integer' },
    { name: 'urls', type: 'text[]' },
    { name: 'width', type: 'integer' },
    { name: 'height', type: 'integer' },
    { name: 'filesize', type: 'bigint' },
    { name: 'format', type: 'text' },
    { name: 'path', type: 'text' },
  ],
  links: [ownLink('image', 'gallery'), ownLink('image', 'performer'), ownLink('image', 'tag')],
  map: mapper(rawImage, (raw) => {
    const file = raw.visual_files[0];
    return {
      id: raw.id,
      row: {
        title: raw.title,
        code: raw.code,
        date: raw.date,
        details: raw.details,
        photographer: raw.photographer,
        studio_id: raw.studio ?? null,
        rating100: raw.rating100,
        organized: raw.organized,
        o_counter: raw.o_counter ?? 0,
        urls: raw.urls,
        width: file?.width ?? null,
        height: file?.height ?? null,
        filesize: file?.size ?? null,
        format: file?.format ?? null,
        path: file?.path ?? null,
        ...stampColumns(raw),
      },
      links: {
        galleries: toTargets(raw.galleries),
        performers: toTargets(raw.performers),
        tags: toTargets(raw.tags),
      },
    };
  }),
};
