import type { EntityType } from '../../stash/entity-types.js';
import type { CountedType, View } from './view.js';

/**
 * How an entity links to the targets of a criterion: a link table (owner → target) or a column
 * of the entity itself. Several sources are OR'ed (a scene's tags are its own and its inherited).
 * Table and column names here are constants of this module, never user input.
 */
export type LinkSource = { table: string; owner: string; target: string } | { column: string };

/** A hierarchy to expand criterion values along (`depth`): tags' parents, studios' parents, groups' containers. */
export interface Hierarchy {
  table: string;
  child: string;
  parent: string;
  /** `down`: the values and their descendants; `up`: the values and their ancestors. */
  direction: 'down' | 'up';
}

export type CriterionDef =
  | { kind: 'multi'; sources: readonly LinkSource[]; hierarchy?: Hierarchy }
  | { kind: 'int' | 'date' | 'timestamp' | 'boolean'; expression: string };

/** One entity type of the library API: how to filter, sort and shape it. */
export interface LibraryEntity {
  type: EntityType;
  /** The URL segment: /api/library/<path>. */
  path: string;
  /** Stash's root fields: findScenes { count scenes } and findScene. */
  queryField: string;
  listField: string;
  singleField: string;
  /** The body key of the type's criteria, as in Stash: scene_filter. */
  filterKey: string;
  /** FROM clause; the entity's alias is always `t`. */
  from: string;
  /** Columns `q` matches (case-insensitive substring). */
  search: readonly string[];
  /** Stash sort names → SQL expressions (the allow-list). */
  sorts: Readonly<Record<string, string>>;
  defaultSort: string;
  criteria: Readonly<Record<string, CriterionDef>>;
  /** A SQL expression building one answer object (json) from `t`. */
  select: string;
}

// ------------------------------------------------------------------ SQL snippet builders (constants only)

/** `{ id, <label> }` of one live entity the reader may see, or null. */
export function ref(view: View, table: string, idExpression: string, label = 'name'): string {
  return `(select json_build_object('id', x.id::text, '${label}', x.${label}) from ${table} x
    where x.id = ${idExpression} and x.deleted_at is null${view.visible(table, 'x')})`;
}

/** `[{ id, <label> }]` of the live entities linked to `t` through a link table (those the reader may see), ordered by label. */
export function refs(view: View, link: string, owner: string, target: string, table: string, label = 'name'): string {
  return `coalesce((select json_agg(json_build_object('id', x.id::text, '${label}', x.${label}) order by x.${label}, x.id)
    from ${link} l join ${table} x on x.id = l.${target} and x.deleted_at is null${view.visible(table, 'x')} where l.${owner} = t.id), '[]'::json)`;
}

/** An entity_counts column of `t` (0 before post-processing has run), as the reader counts it. */
export function counted(view: View, entityType: CountedType, column: 'scene_count' | 'image_count'): string {
  return view.count(
    entityType,
    column,
    `coalesce((select c.${column} from entity_counts c where c.entity_type = '${entityType}' and c.entity_id = t.id), 0)`,
  );
}

/** Criteria every type has. */
export const COMMON_CRITERIA = {
  id: { kind: 'int', expression: 't.id' },
  created_at: { kind: 'timestamp', expression: 't.stash_created_at' },
  updated_at: { kind: 'timestamp', expression: 't.stash_updated_at' },
} as const satisfies Record<string, CriterionDef>;

export const COMMON_SORTS = {
  id: 't.id',
  created_at: 't.stash_created_at',
  updated_at: 't.stash_updated_at',
} as const;

export const TAG_HIERARCHY: Hierarchy = {
  table: 'tag_parents',
  child: 'child_id',
  parent: 'parent_id',
  direction: 'down',
};
export const STUDIO_HIERARCHY: Hierarchy = { table: 'studios', child: 'id', parent: 'parent_id', direction: 'down' };
export const GROUP_HIERARCHY: Hierarchy = {
  table: 'group_relations',
  child: 'sub_group_id',
  parent: 'containing_group_id',
  direction: 'down',
};
