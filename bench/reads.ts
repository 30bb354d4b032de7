/**
 * Library API reads on the synced mirror: the API served in this process over HTTP (the worker
 * is idle), `requests` 40-row pages of each kind, each with another id, p50/p95 per kind:
 * - images by performer and by tag (effective links: own plus inherited from galleries);
 * - scenes by a tag that some of them have only through performers, studios or groups
 *   (scene_inherited_tags, not scene_tags).
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { createApiApp, createApiLogger } from '../api/app.js';
import type { Sql } from '../db/client.js';
import type { BenchStack } from './stack.js';
import { TASK_QUEUE, WORKFLOW_ID } from './stack.js';
import { median, percentile } from './stats.js';

export interface ReadKind {
  name: string;
  path: string;
  ids: number[];
  ms: number[];
}

export interface ReadMeasure {
  kinds: Array<Omit<ReadKind, 'ms' | 'ids'> & { requests: number; p50: number; p95: number; max: number }>;
}

const PAGE = 40;

/** Ids spread over a link table's targets (by a hash, so neighbours in id order are not favoured). */
async function pickIds(sql: Sql, query: string, count: number): Promise<number[]> {
  const rows = await sql.unsafe(query, [count]);
  return rows.map((row) => Number(row.id));
}

async function readKinds(sql: Sql, count: number): Promise<ReadKind[]> {
  const performers = await pickIds(
    sql,
    'select performer_id as id from image_effective_performers group by 1 order by md5(performer_id::text) limit $1',
    count,
  );
  const tags = await pickIds(
    sql,
    'select tag_id as id from image_effective_tags group by 1 order by md5(tag_id::text) limit $1',
    count,
  );
  // Tags some scenes have only through their performers, studio or groups (not as their own tag).
  const inherited = await pickIds(
    sql,
    `select tag_id as id from scene_inherited_tags i
     where not exists (select 1 from scene_tags s where s.scene_id = i.scene_id and s.tag_id = i.tag_id)
     group by 1 order by md5(tag_id::text) limit $1`,
    count,
  );
  return [
    { name: 'images by performer', path: 'images', ids: performers, ms: [] },
    { name: 'images by tag', path: 'images', ids: tags, ms: [] },
    { name: 'scenes by inherited tag', path: 'scenes', ids: inherited, ms: [] },
  ];
}

function body(kind: ReadKind, id: number): Record<string, unknown> {
  const criterion = { value: [String(id)], modifier: 'INCLUDES' };
  if (kind.path === 'scenes') return { filter: { per_page: PAGE }, scene_filter: { tags: criterion } };
  const field = kind.name.endsWith('performer') ? 'performers' : 'tags';
  return { filter: { per_page: PAGE }, image_filter: { [field]: criterion } };
}

export async function measureReads(stack: BenchStack, requests: number): Promise<ReadMeasure> {
  const app = createApiApp({
    sql: stack.sql,
    temporal: stack.client,
    taskQueue: TASK_QUEUE,
    workflowId: WORKFLOW_ID,
    logger: createApiLogger('silent'),
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/library`;
  try {
    const kinds = await readKinds(stack.sql, requests);
    for (const kind of kinds) {
      if (kind.ids.length === 0) continue;
      const ask = async (index: number) => {
        const id = kind.ids[index % kind.ids.length] as number;
        const started = performance.now();
        const response = await fetch(`${base}/${kind.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body(kind, id)),
        });
        const text = await response.text();
        if (!response.ok) throw new Error(`${kind.name} ${id}: HTTP ${response.status} ${text.slice(0, 300)}`);
        return performance.now() - started;
      };
      for (let index = 0; index < 3; index += 1) await ask(index); // warm-up: connections, plans
      for (let index = 0; index < requests; index += 1) kind.ms.push(await ask(index));
    }
    return {
      kinds: kinds.map(({ ms, ids: _ids, ...kind }) => ({
        ...kind,
        requests: ms.length,
        p50: median(ms),
        p95: percentile(ms, 0.95),
        max: Math.max(...ms),
      })),
    };
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
