import type { Sql } from '../../db/client.js';
import type { FindBody, FindFilter } from '../schemas/library.js';
import type { LibraryEntity } from './definition.js';
import { userViewOf } from './entities/index.js';
import { fromAs, type Viewer, visibleAs } from './view.js';
import { whereClause } from './where.js';

const DEFAULT_PER_PAGE = 25;
/** Rows read (and sent) at a time when a find answers every match. */
const STREAM_BATCH = 500;

export interface FindResult {
  count: number;
  items: Record<string, unknown>[];
}

/**
 * Every match of a find, read batch by batch. The ordered ids of all matches are read first, in
 * one statement: `count` is their number. Each batch then builds the objects of its ids, however
 * they changed since (rows are never physically deleted, and a row deleted since still comes
 * back), so a sync committing meanwhile cannot make the rows disagree with `count`. Only the ids
 * are held (8 bytes a match); no connection or transaction stays open between batches.
 */
export interface AllRows {
  count: number;
  /** The next batch of Stash-shaped objects in order, or null after the last. */
  next(): Promise<Record<string, unknown>[] | null>;
}

/** What `per_page` asks for, as in Stash: 0 only counts, any negative means every match (no paging). */
export function pagingOf(filter: FindFilter): 'count' | 'all' | { limit: number; offset: number } {
  const perPage = filter.per_page ?? DEFAULT_PER_PAGE;
  if (perPage === 0) return 'count';
  if (perPage < 0) return 'all';
  return { limit: perPage, offset: ((filter.page ?? 1) - 1) * perPage };
}

function orderBy(sql: Sql, entity: LibraryEntity, filter: FindFilter) {
  // The sort name was checked against the allow-list by the schema; the expression is the definition's.
  const { sort, direction } = filter;
  const expression = entity.sorts[sort ?? entity.defaultSort] ?? entity.sorts[entity.defaultSort] ?? 't.id';
  const descending = direction?.toUpperCase() === 'DESC';
  const way = sql.unsafe(descending ? 'desc nulls last' : 'asc nulls last');
  const tie = sql.unsafe(descending ? 'desc' : 'asc');
  return sql`${sql.unsafe(expression)} ${way}, t.id ${tie}`;
}

/**
 * The SQL pieces of one find, as functions: a fragment is built afresh for each query using it.
 * A viewer (a user with a view of their own, view.ts) reads the type's user view: their excluded
 * rows left out, counts corrected; without one, the SQL is the plain library's.
 */
function clauses(sql: Sql, entity: LibraryEntity, body: FindBody, viewer: Viewer | null) {
  const filter = body.filter ?? {};
  const criteria = body[entity.filterKey] as Record<string, unknown> | null | undefined;
  const shown = viewer ? userViewOf(entity) : entity;
  return {
    select: () => sql.unsafe(shown.select),
    from: () => fromAs(sql, shown.from, viewer),
    where: () => sql`${whereClause(sql, shown, criteria, filter.q)}${visibleAs(sql, entity.type, viewer)}`,
    order: () => orderBy(sql, shown, filter),
  };
}

/** find<Types> with `per_page` 0 or positive: the count of all matches and one page (no rows for 0). */
export async function findEntities(
  sql: Sql,
  entity: LibraryEntity,
  body: FindBody,
  viewer: Viewer | null = null,
): Promise<FindResult> {
  const paging = pagingOf(body.filter ?? {});
  if (paging === 'all') throw new Error('a negative per_page is answered by findAll');
  const { select, from, where, order } = clauses(sql, entity, body, viewer);
  const [total] = await sql`select count(*)::int as count from ${from()} where ${where()}`;
  const count = (total?.count as number | undefined) ?? 0;
  if (paging === 'count' || count <= paging.offset) return { count, items: [] };
  const rows = await sql`
    with page as (
      select t.id from ${from()} where ${where()} order by ${order()} limit ${paging.limit} offset ${paging.offset})
    select ${select()} as o from ${from()} where t.id in (select id from page) order by ${order()}`;
  return { count, items: rows.map((row) => row.o as Record<string, unknown>) };
}

/** find<Types> with a negative `per_page`: every match, unpaged (see AllRows). */
export async function findAll(
  sql: Sql,
  entity: LibraryEntity,
  body: FindBody,
  viewer: Viewer | null = null,
): Promise<AllRows> {
  const { select, from, where, order } = clauses(sql, entity, body, viewer);
  const [matches] = await sql`
    select coalesce(array_agg(t.id order by ${order()}), '{}') as ids from ${from()} where ${where()}`;
  const ids = (matches?.ids as number[] | undefined) ?? [];
  let read = 0;
  return {
    count: ids.length,
    async next() {
      if (read >= ids.length) return null;
      const batch = ids.slice(read, read + STREAM_BATCH);
      read += batch.length;
      // By id, in the order read above, and whatever became of each row since (no live filter).
      const rows = await sql`
        select x.o from unnest(${batch}::bigint[]) with ordinality as u(id, n)
        cross join lateral (select ${select()} as o from ${from()} where t.id = u.id) x
        order by u.n`;
      // Rows are never physically deleted, so this cannot happen; if it did, the answer must not look whole.
      if (rows.length !== batch.length) throw new Error(`${batch.length - rows.length} of a batch's rows are gone`);
      return rows.map((row) => row.o as Record<string, unknown>);
    },
  };
}

/** find<Type>(id): one live entity (that the viewer may see), or null. */
export async function findEntity(
  sql: Sql,
  entity: LibraryEntity,
  id: number,
  viewer: Viewer | null = null,
): Promise<Record<string, unknown> | null> {
  const { select, from } = clauses(sql, entity, {}, viewer);
  const [row] = await sql`
    select ${select()} as o from ${from()}
    where t.id = ${id} and t.deleted_at is null${visibleAs(sql, entity.type, viewer)}`;
  return (row?.o as Record<string, unknown> | undefined) ?? null;
}
