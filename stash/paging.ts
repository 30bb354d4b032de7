import type { StashClient, StashRequestOptions } from './client.js';
import type { PageCursor } from './cursor.js';
import type { EntitySpec } from './entities/index.js';
import { StashNotFoundError } from './errors.js';
import { byIdsQuery, countQuery, idsQuery, membersQuery, pageQuery, tagHierarchyQuery } from './queries.js';
import { LEXICAL_MAX_TIMESTAMP } from './timestamps.js';

type ListResult = { count: number } & Record<string, unknown[]>;
type IdRow = { id: string; updated_at: string };

export interface FetchedPage {
  /** Raw GraphQL objects, mapped (and validated) one by one by the caller. */
  entities: unknown[];
  next: PageCursor;
  done: boolean;
  requests: number;
}

const atOrAfter = (since: string) => ({ value: since, value2: LEXICAL_MAX_TIMESTAMP, modifier: 'BETWEEN' });

function rawUpdatedAt(entity: unknown): string {
  const value = (entity as { updated_at?: unknown } | null)?.updated_at;
  return typeof value === 'string' ? value : '';
}

function rawId(entity: unknown): number {
  const value = Number((entity as { id?: unknown } | null)?.id);
  return Number.isFinite(value) ? value : 0;
}

async function list(
  client: StashClient,
  spec: EntitySpec,
  query: string,
  variables: Record<string, unknown>,
  options: StashRequestOptions,
): Promise<{ count: number; rows: unknown[] }> {
  const data = await client.request<Record<string, ListResult>>(query, variables, options);
  const result = data[spec.queryField];
  return { count: result?.count ?? 0, rows: (result?.[spec.listField] as unknown[] | undefined) ?? [] };
}

/** Fetches the next page of a keyset walk (see cursor.ts); never uses OFFSET paging. */
export async function fetchPage(
  client: StashClient,
  spec: EntitySpec,
  cursor: PageCursor,
  pageSize: number,
  options: StashRequestOptions = {},
): Promise<FetchedPage> {
  const query = pageQuery(spec);
  if (cursor.kind === 'id') {
    const filter: Record<string, unknown> = {
      id:
        cursor.upTo == null
          ? { value: cursor.afterId, modifier: 'GREATER_THAN' }
          : { value: cursor.afterId + 1, value2: cursor.upTo, modifier: 'BETWEEN' },
    };
    if (cursor.since) filter.updated_at = atOrAfter(cursor.since);
    const { rows } = await list(
      client,
      spec,
      query,
      { filter: { page: 1, per_page: pageSize, sort: 'id', direction: 'ASC' }, entity_filter: filter },
      options,
    );
    const lastId = rows.reduce<number>((max, row) => Math.max(max, rawId(row)), cursor.afterId);
    return { entities: rows, next: { ...cursor, afterId: lastId }, done: rows.length < pageSize, requests: 1 };
  }

  const filter: Record<string, unknown> = {};
  if (cursor.after !== null) filter.updated_at = { value: cursor.after, modifier: 'GREATER_THAN' };
  else if (cursor.since) filter.updated_at = atOrAfter(cursor.since);
  const { rows } = await list(
    client,
    spec,
    query,
    { filter: { page: 1, per_page: pageSize, sort: 'updated_at', direction: 'ASC' }, entity_filter: filter },
    options,
  );
  if (rows.length < pageSize) {
    const newest = rows.reduce<string | null>((max, row) => {
      const raw = rawUpdatedAt(row);
      return max === null || raw > max ? raw : max;
    }, cursor.after);
    return { entities: rows, next: { ...cursor, after: newest }, done: true, requests: 1 };
  }
  // The page may end inside a second whose other rows Stash would order arbitrarily: keep the
  // rows before that second and read the whole second in one request.
  const boundary = rawUpdatedAt(rows[rows.length - 1]);
  const before = rows.filter((row) => rawUpdatedAt(row) < boundary);
  const { rows: wholeSecond } = await list(
    client,
    spec,
    query,
    { filter: { page: 1, per_page: -1 }, entity_filter: { updated_at: { value: boundary, modifier: 'EQUALS' } } },
    options,
  );
  return {
    entities: [...before, ...wholeSecond],
    next: { ...cursor, after: boundary },
    done: false,
    requests: 2,
  };
}

/**
 * Entities by id, surviving ids deleted in the meantime: Stash fails the whole query on one
 * missing id, so that id is set aside and the rest asked again.
 */
export async function fetchByIds(
  client: StashClient,
  spec: EntitySpec,
  ids: number[],
  options: StashRequestOptions = {},
): Promise<{ entities: unknown[]; missing: number[]; requests: number }> {
  let remaining = [...new Set(ids)];
  const missing: number[] = [];
  let requests = 0;
  while (remaining.length > 0) {
    try {
      requests += 1;
      const data = await client.request<Record<string, Record<string, unknown[]>>>(
        byIdsQuery(spec),
        { ids: remaining.map(String) },
        options,
      );
      return { entities: data[spec.queryField]?.[spec.listField] ?? [], missing, requests };
    } catch (error) {
      if (!(error instanceof StashNotFoundError)) throw error;
      const gone = error.missingId;
      if (gone === null || !remaining.includes(gone)) throw error;
      missing.push(gone);
      remaining = remaining.filter((id) => id !== gone);
    }
  }
  return { entities: [], missing, requests };
}

/** How many entities match a filter, without fetching any (per_page 0). */
export async function countEntities(
  client: StashClient,
  spec: EntitySpec,
  entityFilter: Record<string, unknown> = {},
  options: StashRequestOptions = {},
): Promise<number> {
  const data = await client.request<Record<string, { count: number }>>(
    countQuery(spec),
    { entity_filter: entityFilter },
    options,
  );
  return data[spec.queryField]?.count ?? 0;
}

/** The highest id Stash has for a type (scenes, images, galleries; 0 when it has none). */
export async function newestId(
  client: StashClient,
  spec: EntitySpec,
  options: StashRequestOptions = {},
): Promise<number> {
  const { rows } = await list(
    client,
    spec,
    idsQuery(spec),
    { filter: { page: 1, per_page: 1, sort: 'id', direction: 'DESC' }, entity_filter: {} },
    options,
  );
  return rows[0] ? rawId(rows[0]) : 0;
}

/** The lexically newest updated_at string Stash has for a type (null when it has none). */
export async function newestUpdatedAt(
  client: StashClient,
  spec: EntitySpec,
  options: StashRequestOptions = {},
): Promise<string | null> {
  const { rows } = await list(
    client,
    spec,
    idsQuery(spec),
    { filter: { page: 1, per_page: 1, sort: 'updated_at', direction: 'DESC' }, entity_filter: {} },
    options,
  );
  const raw = rows[0] ? rawUpdatedAt(rows[0]) : '';
  return raw === '' ? null : raw;
}

/**
 * Every id Stash has for a type. Keyset by id where Stash allows it; otherwise one request for
 * all ids (a single snapshot cannot skip or repeat rows, and ids alone are small).
 */
export async function scanIds(
  client: StashClient,
  spec: EntitySpec,
  options: StashRequestOptions & { batchSize?: number; onBatch?: () => void } = {},
): Promise<{ ids: number[]; requests: number }> {
  const query = idsQuery(spec);
  if (spec.paging !== 'id') {
    const { rows } = await list(client, spec, query, { filter: { page: 1, per_page: -1 }, entity_filter: {} }, options);
    return { ids: (rows as IdRow[]).map(rawId), requests: 1 };
  }
  const batchSize = options.batchSize ?? 10_000;
  const ids: number[] = [];
  let afterId = 0;
  let requests = 0;
  for (;;) {
    requests += 1;
    const { rows } = await list(
      client,
      spec,
      query,
      {
        filter: { page: 1, per_page: batchSize, sort: 'id', direction: 'ASC' },
        entity_filter: { id: { value: afterId, modifier: 'GREATER_THAN' } },
      },
      options,
    );
    for (const row of rows) ids.push(rawId(row));
    options.onBatch?.();
    if (rows.length < batchSize) return { ids, requests };
    afterId = rawId(rows[rows.length - 1]);
  }
}

/** id → updated_at string of every entity updated at or after a lexical bound (one request, ids only). */
export async function stampsSince(
  client: StashClient,
  spec: EntitySpec,
  bound: string,
  options: StashRequestOptions = {},
): Promise<Map<number, string>> {
  const { rows } = await list(
    client,
    spec,
    idsQuery(spec),
    { filter: { page: 1, per_page: -1 }, entity_filter: { updated_at: atOrAfter(bound) } },
    options,
  );
  return new Map((rows as IdRow[]).map((row) => [rawId(row), row.updated_at]));
}

/** How many entities updated lexically after `raw` (count only). */
export function countUpdatedAfter(
  client: StashClient,
  spec: EntitySpec,
  raw: string,
  options: StashRequestOptions = {},
) {
  return countEntities(client, spec, { updated_at: { value: raw, modifier: 'GREATER_THAN' } }, options);
}

/**
 * How many entities have `field` within [low, high] (count only): ids (scenes, images, galleries
 * only) or updated_at strings, which Stash compares lexically.
 */
export function countBetween<F extends 'id' | 'updated_at'>(
  client: StashClient,
  spec: EntitySpec,
  field: F,
  low: F extends 'id' ? number : string,
  high: F extends 'id' ? number : string,
  options: StashRequestOptions = {},
) {
  return countEntities(client, spec, { [field]: { value: low, value2: high, modifier: 'BETWEEN' } }, options);
}

/** Every id in [low, high] by id keyset (scenes, images, galleries only). */
export async function scanIdRange(
  client: StashClient,
  spec: EntitySpec,
  low: number,
  high: number,
  options: StashRequestOptions & { batchSize?: number } = {},
): Promise<number[]> {
  const batchSize = options.batchSize ?? 10_000;
  const ids: number[] = [];
  let afterId = low - 1;
  for (;;) {
    const { rows } = await list(
      client,
      spec,
      idsQuery(spec),
      {
        filter: { page: 1, per_page: batchSize, sort: 'id', direction: 'ASC' },
        entity_filter: { id: { value: afterId, value2: high, modifier: 'BETWEEN' } },
      },
      options,
    );
    for (const row of rows) {
      const id = rawId(row);
      if (id > afterId) ids.push(id);
    }
    if (rows.length < batchSize) return ids;
    afterId = rawId(rows[rows.length - 1]);
  }
}

type LinkedRow = { id: string } & Record<string, unknown>;

const idsOf = (refs: unknown): number[] =>
  (Array.isArray(refs) ? refs : []).map((ref) => rawId(ref)).sort((a, b) => a - b);

/**
 * Owner id → the ids of `targetIds` it links to through `linkName`, for every owner linked to any
 * of them (images or scenes in some galleries; one request, ids only).
 */
export async function linkedOwners(
  client: StashClient,
  spec: EntitySpec,
  linkName: string,
  targetIds: number[],
  options: StashRequestOptions = {},
): Promise<Map<number, number[]>> {
  const wanted = new Set(targetIds);
  const { rows } = await list(
    client,
    spec,
    membersQuery(spec, linkName),
    {
      filter: { page: 1, per_page: -1 },
      entity_filter: { [linkName]: { value: targetIds.map(String), modifier: 'INCLUDES' } },
    },
    options,
  );
  return new Map((rows as LinkedRow[]).map((row) => [rawId(row), idsOf(row[linkName]).filter((id) => wanted.has(id))]));
}

export interface TagHierarchyEntry {
  aliases: string[];
  parents: number[];
}

/** Every tag's aliases and parent ids (one request): what a tag merge changes silently. */
export async function tagHierarchy(
  client: StashClient,
  options: StashRequestOptions = {},
): Promise<Map<number, TagHierarchyEntry>> {
  const data = await client.request<{
    findTags?: { tags?: Array<{ id: string; aliases?: unknown; parents?: unknown }> };
  }>(tagHierarchyQuery(), { filter: { page: 1, per_page: -1 } }, options);
  return new Map(
    (data.findTags?.tags ?? []).map((tag) => [
      rawId(tag),
      {
        aliases: Array.isArray(tag.aliases) ? tag.aliases.filter((a): a is string => typeof a === 'string') : [],
        parents: idsOf(tag.parents),
      },
    ]),
  );
}
