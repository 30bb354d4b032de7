import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSyncTransaction } from '../../db/client.js';
import type { Library } from '../../simulator/index.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { imageLinks } from './oracle.js';
import { type ApiServer, startApi } from './support.js';

/**
 * Stash's paging at scale `medium` (50,000 images): per_page 0 answers only the count, and
 * per_page -1 answers every match, streamed with bounded memory, its count equal to its rows.
 */

setFlagsFromString('--expose-gc');
/** V8's collector, exposed at run time (vitest starts the fork without --expose-gc). */
const gc = runInNewContext('gc') as () => void;

interface Image {
  id: string;
  updated_at: string;
}

type Found = { findImages: { count: number; images: Image[] } };

/** The start of a streamed answer (at least `bytes` of it), and a reader positioned after it. */
async function firstChunk(response: Response, bytes = 1) {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  while (text.length < bytes) {
    const next = await reader.read();
    expect(next.done).toBe(false);
    text += Buffer.from(next.value as Uint8Array).toString();
  }
  return { reader, text };
}

/** Reads the rest of a stream: all the text that came, and the error that ended it, if one did. */
async function readRest({ reader, text }: Awaited<ReturnType<typeof firstChunk>>) {
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) text += Buffer.from(next.value);
    return { text, error: null };
  } catch (error) {
    return { text, error };
  }
}

describe('library paging like Stash (scale medium)', () => {
  let stack: TestStack;
  let api: ApiServer;
  let library: Library;

  const images = (filter: Record<string, unknown>, imageFilter?: unknown, signal = AbortSignal.timeout(120_000)) =>
    fetch(`${api.url}/api/library/images`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filter, ...(imageFilter ? { image_filter: imageFilter } : {}) }),
      signal,
    });
  const liveCount = async () => ((await (await images({ per_page: 0 })).json()) as Found).findImages.count;

  beforeAll(async () => {
    stack = await createTestStack({ seed: 61, scale: 'medium' });
    library = stack.simulator.library;
    await stack.startWorker({ pageSize: 1000 });
    const started = Date.now();
    await (await stack.startFull()).result();
    console.log(`medium full sync: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Nothing writes the mirror from here on but the tests themselves.
    await stack.stopWorker();
    // Fresh statistics, as autovacuum would gather soon after a bulk load: without them the planner
    // takes 1,000-row tables for 3-row ones and builds each image's lists by scanning them.
    await stack.db.sql`analyze`;
    api = await startApi(stack);
  }, 300_000);
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it('answers per_page 0 with the count and no rows, for all images and for a filtered query', async () => {
    const all = await images({ per_page: 0, page: 7 });
    expect(all.status).toBe(200);
    expect(await all.json()).toEqual({ findImages: { count: library.images.size, images: [] } });

    // A performer on many images, some only through a gallery: the oracle reads the simulator's data.
    const performer = [...library.galleries.values()].find((gallery) => gallery.performer_ids.length > 0)
      ?.performer_ids[0] as number;
    const criterion = { performers: { value: [String(performer)], modifier: 'INCLUDES' } };
    const expected = [...library.images.keys()].filter((id) => imageLinks(library, id, 'performer_ids').has(performer));
    expect(expected.length).toBeGreaterThan(0);
    const filtered = await images({ per_page: 0 }, criterion);
    expect(await filtered.json()).toEqual({ findImages: { count: expected.length, images: [] } });
    const rows = (await (await images({ per_page: -1 }, criterion)).json()) as Found;
    expect(rows.findImages.count).toBe(expected.length);
    expect(rows.findImages.images.map((image) => Number(image.id)).sort((a, b) => a - b)).toEqual(
      expected.sort((a, b) => a - b),
    );
  });

  it('streams every image with per_page -1: the count, each once, in the requested order', async () => {
    const started = performance.now();
    const response = await images({ per_page: -1, page: 4, sort: 'updated_at', direction: 'DESC' });
    const headersAfter = performance.now() - started;
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('transfer-encoding')).toBe('chunked');
    const text = await response.text();
    const seconds = (performance.now() - started) / 1000;
    const body = JSON.parse(text) as Found;
    console.log(
      `per_page -1: ${body.findImages.images.length} images, ${(Buffer.byteLength(text) / 2 ** 20).toFixed(1)} MiB in ` +
        `${seconds.toFixed(2)} s (headers after ${headersAfter.toFixed(0)} ms)`,
    );

    expect(Object.keys(body)).toEqual(['findImages']);
    expect(Object.keys(body.findImages)).toEqual(['count', 'images']);
    const { count, images: list } = body.findImages;
    expect(count).toBe(library.images.size);
    expect(list).toHaveLength(count);
    const ids = list.map((image) => Number(image.id));
    expect(new Set(ids).size).toBe(count);
    expect([...ids].sort((a, b) => a - b)).toEqual([...library.images.keys()].sort((a, b) => a - b));
    // updated_at descending, ties by id descending: each image strictly after the one before it.
    const stamps = list.map((image) => Date.parse(image.updated_at));
    const outOfOrder = list.findIndex(
      (_, i) =>
        i > 0 &&
        !(
          (stamps[i] as number) < (stamps[i - 1] as number) ||
          (stamps[i] === stamps[i - 1] && (ids[i] as number) < (ids[i - 1] as number))
        ),
    );
    expect(outOfOrder).toBe(-1);
    // The same JSON a page answers, item for item.
    const page = (await (
      await images({ per_page: 1000, page: 3, sort: 'updated_at', direction: 'DESC' })
    ).json()) as Found;
    expect(list.slice(2000, 3000)).toEqual(page.findImages.images);
  });

  it('holds a batch or two in memory while streaming, not the answer', async () => {
    // JS heap plus Buffers and ArrayBuffers; after a full collection, so what is live, not garbage.
    const used = () => {
      const { heapUsed, external } = process.memoryUsage();
      return heapUsed + external;
    };
    const settle = async () => {
      // Twice, with a pause: ArrayBuffers' memory is given back after the collection that frees them.
      gc();
      await new Promise((resolve) => setTimeout(resolve, 100));
      gc();
    };
    await settle();
    const baseline = used();
    let peak = 0;
    let peakWithGarbage = 0;
    const samples: number[] = [];
    const sample = () => {
      peakWithGarbage = Math.max(peakWithGarbage, used() - baseline);
      gc();
      samples.push(used() - baseline);
      peak = Math.max(peak, used() - baseline);
    };
    const timer = setInterval(sample, 200);
    let bytes = 0;
    let chunks = 0;
    let tail = '';
    const started = performance.now();
    try {
      const response = await images({ per_page: -1 });
      // Read and drop: the client in this process keeps nothing but the byte count and the end.
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        chunks++;
        tail = (tail + Buffer.from(chunk.subarray(-8)).toString('latin1')).slice(-8);
      }
    } finally {
      clearInterval(timer);
    }
    const seconds = (performance.now() - started) / 1000;
    sample();
    console.log(
      `per_page -1 memory: ${(bytes / 2 ** 20).toFixed(1)} MiB streamed in ${chunks} chunks, ${seconds.toFixed(2)} s; ` +
        `memory growth peak ${(peak / 2 ** 20).toFixed(1)} MiB live, ${(peakWithGarbage / 2 ** 20).toFixed(1)} MiB with garbage`,
    );
    expect(tail.endsWith(']}}')).toBe(true);
    expect(bytes).toBeGreaterThan(20 * 2 ** 20);
    // Measured while the answer was on its way, not only before and after it.
    expect(samples.length).toBeGreaterThanOrEqual(5);
    // Holding the answer would take its size as a string alone, several times that as objects;
    // streamed, the growth is a few batches plus the process's own noise (~5-9 MiB measured).
    expect(peak).toBeLessThan(bytes / 2);
  });

  it('keeps count and rows in agreement while a sync commits underneath', async () => {
    // The last ids of the default order: the stream reaches them long after the update below.
    const gone = [...library.images.keys()].sort((a, b) => b - a).slice(0, 300);
    const started = await firstChunk(await images({ per_page: -1 }));
    // After the count went out: soft-delete 300 images, as a sync would.
    await withSyncTransaction(stack.db.sql, (tx) => tx`update images set deleted_at = now() where id in ${tx(gone)}`);
    try {
      const { text, error } = await readRest(started);
      expect(error).toBeNull();
      const body = JSON.parse(text) as Found;
      expect(body.findImages.count).toBe(library.images.size);
      expect(body.findImages.images).toHaveLength(library.images.size);
      expect(body.findImages.images.map((image) => Number(image.id))).toEqual(expect.arrayContaining(gone));
      expect(await liveCount()).toBe(library.images.size - gone.length);
    } finally {
      await withSyncTransaction(stack.db.sql, (tx) => tx`update images set deleted_at = null where id in ${tx(gone)}`);
    }
  });

  it('stops quietly when the client goes away mid-stream', async () => {
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      await firstChunk(await images({ per_page: -1 }, undefined, controller.signal));
      controller.abort();
    }
    expect(await liveCount()).toBe(library.images.size);
    expect(api.logs.filter((line) => line.includes('library stream failed'))).toEqual([]);
  });

  it('aborts the response when PostgreSQL fails mid-stream, never ending it like a complete answer', async () => {
    // Some rows went out (the first chunk alone is the head) …
    const started = await firstChunk(await images({ per_page: -1 }), 10_000);
    // … and the next batch's query fails: a table it reads is gone (for a moment).
    await stack.db.sql`alter table image_effective rename to image_effective_away`;
    const { text, error } = await readRest(started).finally(
      () => stack.db.sql`alter table image_effective_away rename to image_effective`,
    );
    expect(error, 'the response ended cleanly').toBeInstanceOf(Error);
    expect(text.startsWith(`{"findImages":{"count":${library.images.size},"images":[{`)).toBe(true);
    expect(() => JSON.parse(text)).toThrow();
    expect(api.logs.some((line) => line.includes('library stream failed'))).toBe(true);
    expect(await liveCount()).toBe(library.images.size);
  });
});
