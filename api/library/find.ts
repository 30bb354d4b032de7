import type { Sql } from '../../db/client.js';
import { type FindBody, MAX_PER_PAGE } from '../schemas/library.js';
import type { LibraryEntity } from './definition.js';
import { whereClause } from './where.js';

const DEFAULT_PER_PAGE = 25;

export interface FindResult {
  count: number;
  items: Record<string, unknown>[];
}

function orderBy(
  sql: Sql,
  entity: LibraryEntity,
  sort: string | null | undefined,
  direction: string | null | undefined,
) {
  // The sort name was checked against the allow-list by the schema; the expression is the definition's.
  const expression = entity.sorts[sort ?? entity.defaultSort] ?? entity.sorts[entity.defaultSort] ?? 't.id';
  const descending = direction?.toUpperCase() === 'DESC';
  const way = sql.unsafe(descending ? 'desc nulls last' : 'asc nulls last');
  const tie = sql.unsafe(descending ? 'desc' : 'asc');
  return sql`${sql.unsafe(expression)} ${way}, t.id ${tie}`;
}

/** find<Types>: the count of all matches and one page of Stash-shaped objects. */
export async function findEntities(sql: Sql, entity: LibraryEntity, body: FindBody): Promise<FindResult> {
  const filter = body.filter ?? {};
  const criteria = body[entity.filterKey] as Record<string, unknown> | null | undefined;
  const perPage = filter.per_page == null ? DEFAULT_PER_PAGE : filter.per_page === -1 ? MAX_PER_PAGE : filter.per_page;
  const offset = ((filter.page ?? 1) - 1) * perPage;
  const from = () => sql.unsafe(entity.from);
  const where = () => whereClause(sql, entity, criteria, filter.q);
  const order = () => orderBy(sql, entity, filter.sort, filter.direction);

  const [total] = await sql`select count(*)::int as count from ${from()} where ${where()}`;
  const count = (total?.count as number | undefined) ?? 0;
  if (count <= offset) return { count, items: [] };
  const rows = await sql`
    with page as (select t.id from ${from()} where ${where()} order by ${order()} limit ${perPage} offset ${offset})
    select ${sql.unsafe(entity.select)} as o from ${from()} where t.id in (select id from page) order by ${order()}`;
  return { count, items: rows.map((row) => row.o as Record<string, unknown>) };
}

/** find<Type>(id): one live entity, or null. */
export async function findEntity(sql: Sql, entity: LibraryEntity, id: number): Promise<Record<string, unknown> | null> {
  const [row] = await sql`
    select ${sql.unsafe(entity.select)} as o from ${sql.unsafe(entity.from)} where t.id = ${id} and t.deleted_at is null`;
  return (row?.o as Record<string, unknown> | undefined) ?? null;
}
