import { z } from 'zod';
import { idRefs, optionalIdRef, optionalInt, optionalText, stampColumns, stamps, stringList } from './fields.js';
import { type EntitySpec, mapper, ownLink, toTargets } from './spec.js';

const rawStudio = z.object({
  ...stamps,
  name: z.string(),
  parent_studio: optionalIdRef,
  aliases: stringList,
  urls: stringList,
  tags: idRefs,
  rating100: optionalInt,
  favorite: z.boolean(),
  details: optionalText,
  ignore_auto_tag: z.boolean(),
});

export const studioSpec: EntitySpec = {
  type: 'studio',
  queryField: 'findStudios',
  listField: 'studios',
  filterArgument: 'studio_filter',
  filterInputType: 'StudioFilterType',
  table: 'studios',
  paging: 'updated_at',
  selection: `id name parent_studio { id } aliases urls tags { id } rating100 favorite details ignore_auto_tag created_at updated_at`,
  columns: [
    { name: 'name', type: 'text' },
    { name: 'parent_id', type: 'bigint', references: 'studio' },
    { name: 'aliases', type: 'text[]' },
    { name: 'urls', type: 'text[]' },
    { name: 'rating100', type: 'integer' },
    { name: 'favorite', type: 'boolean' },
    { name: 'details', type: 'text' },
    { name: 'ignore_auto_tag', type: 'boolean' },
  ],
  links: [ownLink('studio', 'tag')],
  map: mapper(rawStudio, (raw) => ({
    id: raw.id,
    row: {
      name: raw.name,
      parent_id: raw.parent_studio ?? null,
      aliases: raw.aliases,
      urls: raw.urls,
      rating100: raw.rating100,
      favorite: raw.favorite,
      details: raw.details,
      ignore_auto_tag: raw.ignore_auto_tag,
      ...stampColumns(raw),
    },
    links: { tags: toTargets(raw.tags) },
  })),
};
