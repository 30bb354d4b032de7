import { z } from 'zod';
import { idRefs, optionalText, stampColumns, stamps, stringList } from './fields.js';
import { type EntitySpec, mapper, toTargets } from './spec.js';

const rawTag = z.object({
  ...stamps,
  name: z.string(),
  sort_name: optionalText,
  description: optionalText,
  aliases: stringList,
  favorite: z.boolean(),
  ignore_auto_tag: z.boolean(),
  parents: idRefs,
});

export const tagSpec: EntitySpec = {
  type: 'tag',
  queryField: 'findTags',
  listField: 'tags',
  filterArgument: 'tag_filter',
  filterInputType: 'TagFilterType',
  table: 'tags',
  paging: 'updated_at',
  selection: `id name sort_name description aliases favorite ignore_auto_tag parents { id } created_at updated_at`,
  columns: [
    { name: 'name', type: 'text' },
    { name: 'sort_name', type: 'text' },
    { name: 'description', type: 'text' },
    { name: 'aliases', type: 'text[]' },
    { name: 'favorite', type: 'boolean' },
    { name: 'ignore_auto_tag', type: 'boolean' },
  ],
  links: [
    { name: 'parents', table: 'tag_parents', ownerColumn: 'child_id', targetColumn: 'parent_id', targetType: 'tag' },
  ],
  map: mapper(rawTag, (raw) => ({
    id: raw.id,
    row: {
      name: raw.name,
      sort_name: raw.sort_name,
      description: raw.description,
      aliases: raw.aliases,
      favorite: raw.favorite,
      ignore_auto_tag: raw.ignore_auto_tag,
      ...stampColumns(raw),
    },
    links: { parents: toTargets(raw.parents) },
  })),
};
