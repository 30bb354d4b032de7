import type { Sql, TransactionSql } from '../../db/client.js';
import { withSyncTransaction } from '../../db/client.js';
import { ENTITY_TABLES, type EntityType } from '../../stash/entity-types.js';

/**
 * Fixture helpers for the post-processing tests: entity and link rows as plain SQL with defaults
 * for the NOT NULL columns, written inside a sync transaction (the read-only trigger refuses
 * anything else).
 */

export { ENTITY_TABLES };

/** Tables whose `name` column is NOT NULL. */
const NAMED: ReadonlySet<EntityType> = new Set(['studio', 'tag', 'performer', 'group']);

export type FixtureValue = string | number | boolean | null;
export type EntityFixture = { id: number; deleted?: boolean } & Record<string, FixtureValue | undefined>;

const STASH_TIME = '2024-01-01T00:00:00Z';

/** Inserts entities of one type; `deleted: true` soft-deletes. Other keys are column values. */
export async function insertEntities(tx: TransactionSql, type: EntityType, entities: EntityFixture[]): Promise<void> {
  if (entities.length === 0) return;
  const rows = entities.map(({ deleted, ...columns }) => {
    const row: Record<string, FixtureValue> = {
      stash_created_at: STASH_TIME,
      stash_updated_at: STASH_TIME,
      stash_updated_at_raw: STASH_TIME,
      deleted_at: deleted ? STASH_TIME : null,
    };
    if (NAMED.has(type)) row.name = `${type} ${columns.id}`;
    for (const [key, value] of Object.entries(columns)) if (value !== undefined) row[key] = value;
    return row;
  });
  // Same column set for every row: postgres.js takes the columns from the first one.
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const filled = rows.map((row) => Object.fromEntries(columns.map((column) => [column, row[column] ?? null])));
  await tx`insert into ${tx(ENTITY_TABLES[type])} ${tx(filled, columns)}`;
}

/** Link tables, their (owner, target) columns, and the owner/target entity types. */
export const LINK_TABLES = {
  image_galleries: { owner: 'image', target: 'gallery', columns: ['image_id', 'gallery_id'], field: 'galleries' },
  image_performers: { owner: 'image', target: 'performer', columns: ['image_id', 'performer_id'], field: 'performers' },
  image_tags: { owner: 'image', target: 'tag', columns: ['image_id', 'tag_id'], field: 'tags' },
  gallery_performers: {
    owner: 'gallery',
    target: 'performer',
    columns: ['gallery_id', 'performer_id'],
    field: 'performers',
  },
  gallery_tags: { owner: 'gallery', target: 'tag', columns: ['gallery_id', 'tag_id'], field: 'tags' },
  scene_performers: { owner: 'scene', target: 'performer', columns: ['scene_id', 'performer_id'], field: 'performers' },
  scene_tags: { owner: 'scene', target: 'tag', columns: ['scene_id', 'tag_id'], field: 'tags' },
  scene_galleries: { owner: 'scene', target: 'gallery', columns: ['scene_id', 'gallery_id'], field: 'galleries' },
  scene_groups: { owner: 'scene', target: 'group', columns: ['scene_id', 'group_id'], field: 'groups' },
  performer_tags: { owner: 'performer', target: 'tag', columns: ['performer_id', 'tag_id'], field: 'tags' },
  studio_tags: { owner: 'studio', target: 'tag', columns: ['studio_id', 'tag_id'], field: 'tags' },
  group_tags: { owner: 'group', target: 'tag', columns: ['group_id', 'tag_id'], field: 'tags' },
} as const satisfies Record<
  string,
  { owner: EntityType; target: EntityType; columns: readonly [string, string]; field: string }
>;
export type LinkTable = keyof typeof LINK_TABLES;
export const LINK_TABLE_NAMES = Object.keys(LINK_TABLES) as LinkTable[];

/** Inserts [owner id, target id] pairs into a link table. */
export async function insertLinks(tx: TransactionSql, table: LinkTable, pairs: Array<[number, number]>): Promise<void> {
  if (pairs.length === 0) return;
  const [ownerColumn, targetColumn] = LINK_TABLES[table].columns;
  const rows = pairs.map(([owner, target]) => ({ [ownerColumn]: owner, [targetColumn]: target }));
  await tx`insert into ${tx(table)} ${tx(rows, ownerColumn, targetColumn)}`;
}

export type ChangeType = 'created' | 'updated' | 'unchanged' | 'failed' | 'deleted' | 'revived';
export interface LogEntry {
  type: EntityType;
  id: number;
  change?: ChangeType;
  /** undefined → NULL ("unknown"). */
  fields?: string[];
}

/** Writes sync_log rows for a run, as the sync would after changing those entities. */
export async function logChanges(tx: TransactionSql, runId: string, entries: LogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((entry) => ({
    run_id: runId,
    entity_type: entry.type,
    entity_id: entry.id,
    sync_type: 'incremental',
    change_type: entry.change ?? 'updated',
    changed_fields: entry.fields ?? null,
  }));
  await tx`insert into sync_log ${tx(rows, 'run_id', 'entity_type', 'entity_id', 'sync_type', 'change_type', 'changed_fields')}`;
}

export const OWN_TABLES = [...Object.values(ENTITY_TABLES), ...LINK_TABLE_NAMES];
export const DERIVED_TABLES = [
  'image_effective',
  'image_effective_performers',
  'image_effective_tags',
  'scene_inherited_tags',
  'entity_counts',
  'user_excluded_entities',
  'user_entity_counts',
  'user_stats',
];

/**
 * Empties tables with DELETE: for these few rows it is far cheaper than TRUNCATE, which swaps
 * (and fsyncs) a new file per table.
 */
export async function clearTables(tx: TransactionSql, tables: readonly string[]): Promise<void> {
  for (const table of tables) await tx.unsafe(`delete from ${table}`);
}

/** Empties own, derived and log tables (between scenarios sharing one database). */
export async function resetMirror(sql: Sql): Promise<void> {
  await withSyncTransaction(sql, (tx) => clearTables(tx, [...OWN_TABLES, ...DERIVED_TABLES, 'sync_log']));
}

/** The derived tables as sorted plain rows, without computed_at (it differs between recomputes). */
export interface DerivedSnapshot {
  image_effective: unknown[];
  image_effective_performers: unknown[];
  image_effective_tags: unknown[];
  scene_inherited_tags: unknown[];
  entity_counts: unknown[];
  user_excluded_entities: unknown[];
  user_entity_counts: unknown[];
  user_stats: unknown[];
}

export async function snapshotDerived(sql: Sql): Promise<DerivedSnapshot> {
  // Dates as text: a JS Date would compare fine, but text makes a failure diff readable.
  const plain = (rows: Iterable<unknown>) => [...rows].map((row) => ({ ...(row as Record<string, unknown>) }));
  return {
    image_effective: plain(
      await sql`select image_id, studio_id, date::text as date, photographer, details from image_effective order by image_id`,
    ),
    image_effective_performers: plain(
      await sql`select image_id, performer_id, inherited from image_effective_performers order by 1, 2`,
    ),
    image_effective_tags: plain(await sql`select image_id, tag_id, inherited from image_effective_tags order by 1, 2`),
    scene_inherited_tags: plain(await sql`select scene_id, tag_id, source from scene_inherited_tags order by 1, 2, 3`),
    entity_counts: plain(
      await sql`select entity_type, entity_id, image_count, scene_count from entity_counts order by 1, 2`,
    ),
    user_excluded_entities: plain(await sql`select * from user_excluded_entities order by 1, 2, 3`),
    user_entity_counts: plain(await sql`select * from user_entity_counts order by 1, 2, 3`),
    user_stats: plain(await sql`select * from user_stats order by 1, 2, 3`),
  };
}
