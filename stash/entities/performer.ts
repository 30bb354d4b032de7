import { z } from 'zod';
import { idRefs, optionalInt, optionalText, stampColumns, stamps, stashDate, stringList } from './fields.js';
import { type EntitySpec, mapper, ownLink, toTargets } from './spec.js';

export const GENDERS = ['MALE', 'FEMALE', 'TRANSGENDER_MALE', 'TRANSGENDER_FEMALE', 'INTERSEX', 'NON_BINARY'] as const;

const rawPerformer = z.object({
  ...stamps,
  name: z.string(),
  disambiguation: optionalText,
  gender: z
    .enum(GENDERS)
    .nullable()
    .optional()
    .transform((value) => value ?? null),
  birthdate: stashDate,
  death_date: stashDate,
  country: optionalText,
  ethnicity: optionalText,
  height_cm: optionalInt,
  alias_list: stringList,
  favorite: z.boolean(),
  rating100: optionalInt,
  details: optionalText,
  urls: stringList,
  tags: idRefs,
  ignore_auto_tag: z.boolean(),
});

export const performerSpec: EntitySpec = {
  type: 'performer',
  queryField: 'findPerformers',
  listField: 'performers',
  filterArgument: 'performer_filter',
  filterInputType: 'PerformerFilterType',
  table: 'performers',
  paging: 'updated_at',
  selection: `id name disambiguation gender birthdate death_date country ethnicity height_cm alias_list favorite rating100 details urls tags { id } ignore_auto_tag created_at updated_at`,
  columns: [
    { name: 'name', type: 'text' },
    { name: 'disambiguation', type: 'text' },
    { name: 'gender', type: 'text' },
    { name: 'birthdate', type: 'date' },
    { name: 'death_date', type: 'date' },
    { name: 'country', type: 'text' },
    { name: 'ethnicity', type: 'text' },
    { name: 'height_cm', type: 'integer' },
    { name: 'alias_list', type: 'text[]' },
    { name: 'favorite', type: 'boolean' },
    { name: 'rating100', type: 'integer' },
    { name: 'details', type: 'text' },
    { name: 'urls', type: 'text[]' },
    { name: 'ignore_auto_tag', type: 'boolean' },
  ],
  links: [ownLink('performer', 'tag')],
  map: mapper(rawPerformer, (raw) => ({
    id: raw.id,
    row: {
      name: raw.name,
      disambiguation: raw.disambiguation,
      gender: raw.gender,
      birthdate: raw.birthdate,
      death_date: raw.death_date,
      country: raw.country,
      ethnicity: raw.ethnicity,
      height_cm: raw.height_cm,
      alias_list: raw.alias_list,
      favorite: raw.favorite,
      rating100: raw.rating100,
      details: raw.details,
      urls: raw.urls,
      ignore_auto_tag: raw.ignore_auto_tag,
      ...stampColumns(raw),
    },
    links: { tags: toTargets(raw.tags) },
  })),
};
