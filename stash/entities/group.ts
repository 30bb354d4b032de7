import { z } from 'zod';
import {
  idRef,
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

const rawGroup = z.object({
  ...stamps,
  name: z.string(),
  aliases: optionalText,
  duration: optionalInt,
  date: stashDate,
  rating100: optionalInt,
  studio: optionalIdRef,
  director: optionalText,
  synopsis: optionalText,
  urls: stringList,
  tags: idRefs,
  containing_groups: z.array(z.object({ group: idRef, description: optionalText })),
});

export const groupSpec: EntitySpec = {
  type: 'group',
  queryField: 'findGroups',
  listField: 'groups',
  filterArgument: 'group_filter',
  filterInputType: 'GroupFilterType',
  table: 'groups',
  paging: 'updated_at',
  selection: `id name aliases duration date rating100 studio { id } director synopsis urls tags { id } containing_groups { group { id } description } created_at updated_at`,
  columns: [
    { name: 'name', type: 'text' },
    { name: 'aliases', type: 'text' },
    { name: 'duration', type: 'integer' },
    { name: 'date', type: 'date' },
    { name: 'rating100', type: 'integer' },
    { name: 'studio_id', type: 'bigint', references: 'studio' },
    { name: 'director', type: 'text' },
    { name: 'synopsis', type: 'text' },
    { name: 'urls', type: 'text[]' },
  ],
  links: [
    ownLink('group', 'tag'),
    {
      name: 'containing_groups',
      table: 'group_relations',
      ownerColumn: 'sub_group_id',
      targetColumn: 'containing_group_id',
      targetType: 'group',
      extraColumns: [{ name: 'description', type: 'text' }],
    },
  ],
  map: mapper(rawGroup, (raw) => ({
    id: raw.id,
    row: {
      name: raw.name,
      aliases: raw.aliases,
      duration: raw.duration,
      date: raw.date,
      rating100: raw.rating100,
      studio_id: raw.studio ?? null,
      director: raw.director,
      synopsis: raw.synopsis,
      urls: raw.urls,
      ...stampColumns(raw),
    },
    links: {
      tags: toTargets(raw.tags),
      containing_groups: raw.containing_groups.map((relation) => ({
        target: relation.group,
        description: relation.description,
      })),
    },
  })),
};
