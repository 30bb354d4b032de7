/**
 * The fetch-only walk: every entity of every type through the product's own page queries
 * (stash/queries.ts pageQuery, stash/paging.ts fetchPage), same page size, keyset order, rows
 * parsed (by the GraphQL client) and handed to `onRows` or dropped. With `concurrency` > 1 each
 * id-paged type (scenes, images, galleries) is cut into that many id ranges (idRanges, as the
 * sync cuts them) walked at once; the updated_at-paged types are one walk each. Types go one
 * after the other, in dependency order.
 */
import { performance } from 'node:perf_hooks';
import type { StashClient } from '../stash/client.js';
import { idRanges, initialCursor, type PageCursor } from '../stash/cursor.js';
import { ENTITY_SPECS, type EntitySpec } from '../stash/entities/index.js';
import { dependencyStages, type EntityType } from '../stash/entity-types.js';
import { fetchPage, newestId } from '../stash/paging.js';

export type RowsHandler = (spec: EntitySpec, rows: unknown[]) => void | Promise<void>;

export interface WalkOptions {
  pageSize: number;
  concurrency: number;
  onRows?: RowsHandler;
}

export interface WalkResult {
  seconds: number;
  entities: number;
  requests: number;
  byType: Partial<Record<EntityType, { entities: number; seconds: number }>>;
}

interface Tally {
  entities: number;
  requests: number;
}

/** Walks one type from `cursor` to its end (a range's upper bound, or the last page). */
async function walkFrom(
  stash: StashClient,
  spec: EntitySpec,
  start: PageCursor,
  options: WalkOptions,
  tally: Tally,
): Promise<void> {
  let cursor = start;
  for (let done = false; !done; ) {
    const page = await fetchPage(stash, spec, cursor, options.pageSize);
    tally.requests += page.requests;
    tally.entities += page.entities.length;
    await options.onRows?.(spec, page.entities);
    ({ next: cursor, done } = page);
  }
}

async function walkType(stash: StashClient, spec: EntitySpec, options: WalkOptions, tally: Tally): Promise<void> {
  if (spec.paging !== 'id' || options.concurrency <= 1) {
    return walkFrom(stash, spec, initialCursor(spec.paging, null), options, tally);
  }
  // The ranges the sync itself would walk (stash/cursor.ts idRanges), the last one open-ended.
  tally.requests += 1;
  const ranges = idRanges(await newestId(stash, spec), options.concurrency);
  await Promise.all(
    ranges.map(({ afterId, upTo }) =>
      walkFrom(stash, spec, { kind: 'id', afterId, upTo, since: null }, options, tally),
    ),
  );
}

export async function walkAll(stash: StashClient, options: WalkOptions): Promise<WalkResult> {
  const result: WalkResult = { seconds: 0, entities: 0, requests: 0, byType: {} };
  const started = performance.now();
  for (const type of dependencyStages().flat()) {
    const tally: Tally = { entities: 0, requests: 0 };
    const typeStarted = performance.now();
    await walkType(stash, ENTITY_SPECS[type], options, tally);
    result.byType[type] = { entities: tally.entities, seconds: (performance.now() - typeStarted) / 1000 };
    result.entities += tally.entities;
    result.requests += tally.requests;
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
