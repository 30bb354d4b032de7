import { ENTITY_TABLES, type EntityType } from '../stash/entity-types.js';
import type { Sql, TransactionSql } from './client.js';
import type { RestrictionMode, RestrictionType } from './user-vocabulary.js';

type Db = Sql | TransactionSql;

/**
 * What a user may see, as set through the API (own data): restrictions (user_restrictions) and
 * hidden entities (user_hidden_entities). What follows from them is computed by
 * postprocess/user-exclusions.ts.
 */

export interface Restriction {
  mode: RestrictionMode;
  ids: number[];
}
export type Restrictions = Partial<Record<RestrictionType, Restriction>>;

export async function readRestrictions(db: Db, userId: number): Promise<Restrictions> {
  const rows = await db<{ entity_type: RestrictionType; mode: RestrictionMode; entity_ids: number[] }[]>`
    select entity_type, mode, entity_ids from user_restrictions where user_id = ${userId} order by entity_type`;
  const restrictions: Restrictions = {};
  for (const row of rows) restrictions[row.entity_type] = { mode: row.mode, ids: row.entity_ids.map(Number) };
  return restrictions;
}

/** Replaces all of a user's restrictions (a dimension left out has none; an empty EXCLUDE list is none). */
export async function replaceRestrictions(tx: TransactionSql, userId: number, restrictions: Restrictions) {
  await tx`delete from user_restrictions where user_id = ${userId}`;
  for (const [type, restriction] of Object.entries(restrictions)) {
    if (!restriction || (restriction.mode === 'EXCLUDE' && restriction.ids.length === 0)) continue;
    const ids = [...new Set(restriction.ids)].sort((a, b) => a - b);
    await tx`
      insert into user_restrictions (user_id, entity_type, mode, entity_ids)
      values (${userId}, ${type}, ${restriction.mode}, ${ids}::bigint[])`;
  }
}

/** Which of `ids` are not live entities of `type` in the mirror (in the order given). */
export async function missingEntities(db: Db, type: EntityType, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db<{ id: number }[]>`
    select u.id from unnest(${[...ids]}::bigint[]) with ordinality as u(id, n)
    where not exists (select 1 from ${db(ENTITY_TABLES[type])} e where e.id = u.id and e.deleted_at is null)
    order by u.n`;
  return rows.map((row) => Number(row.id));
}

export interface HiddenEntity {
  entityType: EntityType;
  id: number;
  /** The entity's name or title (null once the entity is gone from the mirror). */
  name: string | null;
  hiddenAt: Date;
}

export async function listHidden(db: Db, userId: number): Promise<HiddenEntity[]> {
  const rows = await db<{ entity_type: EntityType; entity_id: number; hidden_at: Date }[]>`
    select entity_type, entity_id, hidden_at from user_hidden_entities
    where user_id = ${userId} order by entity_type, entity_id`;
  const names = new Map<string, string | null>();
  for (const type of new Set(rows.map((row) => row.entity_type))) {
    const ids = rows.filter((row) => row.entity_type === type).map((row) => row.entity_id);
    const label = type === 'scene' || type === 'image' || type === 'gallery' ? db`title` : db`name`;
    const found = await db<{ id: number; label: string | null }[]>`
      select id, ${label} as label from ${db(ENTITY_TABLES[type])} where id = any(${ids}::bigint[]) and deleted_at is null`;
    for (const row of found) names.set(`${type}:${row.id}`, row.label);
  }
  return rows.map((row) => ({
    entityType: row.entity_type,
    id: Number(row.entity_id),
    name: names.get(`${row.entity_type}:${row.entity_id}`) ?? null,
    hiddenAt: row.hidden_at,
  }));
}

/** true when newly hidden, false when it already was. */
export async function hideEntity(db: Db, userId: number, type: EntityType, id: number): Promise<boolean> {
  const inserted = await db`
    insert into user_hidden_entities (user_id, entity_type, entity_id) values (${userId}, ${type}, ${id})
    on conflict do nothing`;
  return inserted.count > 0;
}

/** false when it was not hidden. */
export async function unhideEntity(db: Db, userId: number, type: EntityType, id: number): Promise<boolean> {
  const deleted = await db`
    delete from user_hidden_entities where user_id = ${userId} and entity_type = ${type} and entity_id = ${id}`;
  return deleted.count > 0;
}
