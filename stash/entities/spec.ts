import type { z } from 'zod';
import { ENTITY_TABLES, type EntityType } from '../entity-types.js';

/** Postgres column types the generic upsert and diff understand. */
export type ColumnType = 'text' | 'bigint' | 'integer' | 'double' | 'boolean' | 'date' | 'timestamptz' | 'text[]';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** A link held on the row itself (scenes.studio_id, studios.parent_id): the type it points at. */
  references?: EntityType;
}

/** One own-link table of an entity: rows (owner id, target id, extra columns). */
export interface LinkSpec {
  /** Name of the link in the entity's mapped form and in changed_fields (e.g. 'tags'). */
  name: string;
  table: string;
  ownerColumn: string;
  targetColumn: string;
  targetType: EntityType;
  extraColumns?: ColumnSpec[];
}

export type ColumnValue = string | number | boolean | null | string[];
export type LinkRow = { target: number } & Record<string, ColumnValue>;

/** An entity as the mirror stores it: its row (without bookkeeping columns) and its own links. */
export interface MappedEntity {
  id: number;
  row: Record<string, ColumnValue>;
  links: Record<string, LinkRow[]>;
}

/**
 * Everything the generic pipeline needs to know about one Stash entity type: the page loop,
 * upsert, diff, log, id scans and link repair are shared (docs/architecture.md, "Where does X go",
 * lists what else an eighth type needs).
 */
export interface EntitySpec {
  type: EntityType;
  /** Query root field (findScenes) and the list field in its result (scenes). */
  queryField: string;
  listField: string;
  /** Argument name and GraphQL input type of the type-specific filter. */
  filterArgument: string;
  filterInputType: string;
  table: string;
  /** Stash offers an `id` IntCriterion only on scenes, images and galleries: keyset paging by id. */
  paging: 'id' | 'updated_at';
  /** GraphQL selection set for one entity. */
  selection: string;
  columns: ColumnSpec[];
  links: LinkSpec[];
  /** Validates and maps one raw GraphQL object; throws (with a readable message) on bad data. */
  map(raw: unknown): MappedEntity;
}

/** Builds a spec's `map` from a zod schema of the raw object and a mapping function. */
export function mapper<S extends z.ZodType>(
  schema: S,
  toEntity: (raw: z.output<S>) => MappedEntity,
): (raw: unknown) => MappedEntity {
  return (raw) => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : 'entity';
      throw new EntityMappingError(`${where}: ${issue?.message ?? 'invalid'}`);
    }
    return toEntity(parsed.data);
  };
}

/** One entity's data is not what the mirror can store: the entity is logged `failed`, the run goes on. */
export class EntityMappingError extends Error {
  override readonly name = 'EntityMappingError';
  readonly retryable = false;
}

/** The bookkeeping columns every entity table has, set by the pipeline (not by specs). */
export const STAMP_COLUMNS: ColumnSpec[] = [
  { name: 'stash_created_at', type: 'timestamptz' },
  { name: 'stash_updated_at', type: 'timestamptz' },
  { name: 'stash_updated_at_raw', type: 'text' },
];

/**
 * The usual own link: table `<owner>_<targets>` with `<owner>_id` and `<target>_id`, named after
 * the Stash field (`tags`, `performers`, ...). The two irregular ones (tag_parents,
 * group_relations) are spelled out in their specs.
 */
export function ownLink(owner: EntityType, target: EntityType, extraColumns?: ColumnSpec[]): LinkSpec {
  const name = ENTITY_TABLES[target];
  return {
    name,
    table: `${owner}_${name}`,
    ownerColumn: `${owner}_id`,
    targetColumn: `${target}_id`,
    targetType: target,
    ...(extraColumns ? { extraColumns } : {}),
  };
}

/** Link rows for plain id lists. */
export const toTargets = (ids: number[]): LinkRow[] => ids.map((target) => ({ target }));
