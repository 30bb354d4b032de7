import type { StashClient, StashRequestOptions } from './client.js';
import type { PageCursor } from './cursor.js';
import { stashIdOf } from './entities/fields.js';
import type { EntitySpec } from './entities/index.js';
import { StashNotFoundError } from './errors.js';
import { byIdsQuery, countQuery, idsQuery, membersQuery, pageQuery, tagHierarchyQuery } from './queries.js';
import { LEXICAL_MAX_TIMESTAMP, lexicalMax, parseStashTime } from './timestamps.js';

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

/**
 * An entity's served updated_at when it is a real Stash time, else null. Cursors and bounds use
 * only real ones: a malformed stamp ("zzzz", "0000", a number) compares lexically anywhere, and
 * as a cursor it would end a walk early or send it back to its start forever.
 */
function rawUpdatedAt(entity: unknown): string | null {
  const value = (entity as { updated_at?: unknown } | null)?.updated_at;
  return typeof value === 'string' && parseStashTime(value) ? value : null;
}

/** An entity's served id when it is a real id, else null ("1e9" must not move a cursor to 1000000000). */
function rawId(entity: unknown): number | null {
  return stashIdOf((entity as { id?: unknown } | null)?.id);
}

/** The real ids among rows (an unreadable one is the mapper's to report, as a failed entity). */
const realIds = (rows: unknown[]): number[] => rows.flatMap((row) => rawId(row) ?? []);

/**
 * A row read twice in one page (before the boundary second with a malformed stamp, and again in
 * that second) is kept once, its later copy, as the upsert would keep it.
 */
function once(rows: unknown[]): unknown[] {
  const byId = new Map<string, unknown>();
  const unkeyed: unknown[] = [];
  for (const row of rows) {
    const id = (row as { id?: unknown } | null)?.id;
    if (id === undefined || id === null) unkeyed.push(row);
    else byId.set(JSON.stringify(id), row);
  }
  return [...byId.values(), ...unkeyed];
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
    const lastId = realIds(rows).reduce((max, id) => Math.max(max, id), cursor.afterId);
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
  const newest = rows.reduce<string | null>((max, row) => lexicalMax(max, rawUpdatedAt(row)), cursor.after);
  if (rows.length < pageSize) {
    return { entities: rows, next: { ...cursor, after: newest }, done: true, requests: 1 };
  }
  // The page may end inside a second whose other rows Stash would order arbitrarily: keep the
  // rows before that second and read the whole second in one request. The boundary is the
  // newest real stamp on the page (the last row's, unless that one is malformed).
  const boundary = newest;
  if (boundary === null || boundary === cursor.after) {
    throw new Error(
      `a page of ${rows.length} ${spec.listField} carries no readable updated_at past ${cursor.after ?? 'the start'}: the walk cannot move on`,
    );
  }
  // Rows with a malformed stamp stay (the mapper logs them failed); Stash sorted them by their
  // real stamp, so one at the page's end is read again on the next page and logged once per run.
  const before = rows.filter((row) => rawUpdatedAt(row) !== boundary);
  const { rows: wholeSecond } = await list(
    client,
    spec,
    query,
    { filter: { page: 1, per_page: -1 }, entity_filter: { updated_at: { value: boundary, modifier: 'EQUALS' } } },
    options,
  );
  return {
    entities: once([...before, ...wholeSecond]),
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
  // The newest row's id unreadable: the mirror's own newest id and open-ended ranges cover it.
  return rows[0] ? (rawId(rows[0]) ?? 0) : 0;
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
  // A malformed newest stamp: null, as for an empty type (a catch-up then reads from the start).
  return rows[0] ? rawUpdatedAt(rows[0]) : null;
}

/**
 * The ids an id scan read, and how many rows it could not read an id from: such a row is some
 * entity of the mirror's, so a scan with any is no proof that an entity has vanished.
 */
export interface IdScan {
  ids: number[];
  unreadable: number;
}

/**
 * Every id Stash has for a type. Keyset by id where Stash allows it; otherwise one request for
 * all ids (a single snapshot cannot skip or repeat rows, and ids alone are small).
 */
export async function scanIds(
  client: StashClient,
  spec: EntitySpec,
  options: StashRequestOptions & { batchSize?: number; onBatch?: () => void } = {},
): Promise<IdScan & { requests: number }> {
  const query = idsQuery(spec);
  if (spec.paging !== 'id') {
    const { rows } = await list(client, spec, query, { filter: { page: 1, per_page: -1 }, entity_filter: {} }, options);
    const ids = realIds(rows);
    return { ids, unreadable: rows.length - ids.length, requests: 1 };
  }
  const batchSize = options.batchSize ?? 10_000;
  const ids: number[] = [];
  let unreadable = 0;
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
    const batch = realIds(rows);
    ids.push(...batch);
    unreadable += rows.length - batch.length;
    options.onBatch?.();
    if (rows.length < batchSize) return { ids, unreadable, requests };
    // The last real id: a malformed last one would restart the scan (0) or end it early (1e9).
    afterId = batch.reduce((max, id) => Math.max(max, id), afterId);
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
  return new Map(
    (rows as IdRow[]).flatMap((row) => {
      const id = rawId(row);
      return id === null ? [] : [[id, row.updated_at] as const];
    }),
  );
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
): Promise<IdScan> {
  const batchSize = options.batchSize ?? 10_000;
  const ids: number[] = [];
  let unreadable = 0;
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
    const real = realIds(rows);
    unreadable += rows.length - real.length;
    const batch = real.filter((id) => id > afterId);
    ids.push(...batch);
    if (rows.length < batchSize) return { ids, unreadable };
    afterId = batch.reduce((max, id) => Math.max(max, id), afterId);
  }
}

type LinkedRow = { id: string } & Record<string, unknown>;

const idsOf = (refs: unknown): number[] => realIds(Array.isArray(refs) ? refs : []).sort((a, b) => a - b);

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
  // An owner whose id is unreadable cannot be compared with the mirror: its mapping fails it anyway.
  return new Map(
    (rows as LinkedRow[]).flatMap((row) => {
      const id = rawId(row);
      return id === null ? [] : [[id, idsOf(row[linkName]).filter((target) => wanted.has(target))] as const];
    }),
  );
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
    (data.findTags?.tags ?? []).flatMap((tag) => {
      const id = rawId(tag);
      if (id === null) return [];
      const aliases = Array.isArray(tag.aliases) ? tag.aliases.filter((a): a is string => typeof a === 'string') : [];
      return [[id, { aliases, parents: idsOf(tag.parents) }] as const];
    }),
  );
}
