/**
 * Times generating the `large` simulated library and serving keyset pages from it.
 * Run: npx tsx bench/simulator-generate.ts [scale]
 */
import { performance } from 'node:perf_hooks';
import { createSimulator, describeLibrary, isScale, type Scale } from '../simulator/index.js';

const arg = process.argv[2] ?? 'large';
if (!isScale(arg)) throw new Error(`unknown scale ${arg}`);
const scale: Scale = arg;

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

const started = performance.now();
const sim = createSimulator({ scale, seed: 1, now: new Date('2025-06-01T00:00:00Z') });
const generatedMs = performance.now() - started;
global.gc?.();
console.log(`scale=${scale}: ${describeLibrary(sim.library)}`);
console.log(`generate: ${(generatedMs / 1000).toFixed(2)} s`);
console.log(`rss now: ${mb(process.memoryUsage().rss)}, heap used: ${mb(process.memoryUsage().heapUsed)}`);
console.log(`peak rss: ${mb(process.resourceUsage().maxRSS * 1024)}`);

const fullQuery = `query Page($filter: FindFilterType, $image_filter: ImageFilterType) {
  findImages(filter: $filter, image_filter: $image_filter) {
    count
    images {
      id title code date details photographer rating100 organized o_counter urls created_at updated_at
      studio { id } performers { id } tags { id } galleries { id }
      visual_files { ... on ImageFile { id path basename size width height format mod_time created_at updated_at } }
    }
  }
}`;

// Only what an id walk needs: separates the listing cost from graphql-js's per-field cost.
const leanQuery = `query Page($filter: FindFilterType, $image_filter: ImageFilterType) {
  findImages(filter: $filter, image_filter: $image_filter) { count images { id updated_at } }
}`;

async function page(
  query: string,
  after: number,
  perPage: number,
): Promise<{ ms: number; lastId: number; rows: number }> {
  const t0 = performance.now();
  const response = await sim.fetch(
    new Request('http://sim/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query,
        variables: {
          filter: { per_page: perPage, sort: 'id', direction: 'ASC' },
          image_filter: { id: { value: after, modifier: 'GREATER_THAN' } },
        },
      }),
    }),
  );
  const body = (await response.json()) as { data: { findImages: { images: { id: string }[] } } };
  const images = body.data.findImages.images;
  return { ms: performance.now() - t0, lastId: Number(images.at(-1)?.id ?? after), rows: images.length };
}

for (const [label, query, perPage] of [
  ['full selection', fullQuery, 100],
  ['full selection', fullQuery, 1000],
  ['id + updated_at', leanQuery, 100],
  ['id + updated_at', leanQuery, 1000],
] as const) {
  const latencies: number[] = [];
  let after = 0;
  for (let i = 0; i < 200; i++) {
    const result = await page(query, after, perPage);
    latencies.push(result.ms);
    after = result.lastId;
    if (result.rows < perPage) after = 0;
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => (latencies[Math.floor((latencies.length - 1) * p)] as number).toFixed(2);
  console.log(
    `keyset pages of ${perPage} images, ${label} (200 requests): median ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${pct(1)} ms`,
  );
}
// The incremental-sync shape: updated_at > X sorted by updated_at. The first request sorts the
// table (once per data version); later pages are binary searches into that order.
{
  const byTime = `query($filter: FindFilterType, $image_filter: ImageFilterType) {
    findImages(filter: $filter, image_filter: $image_filter) { count images { id updated_at } } }`;
  const latencies: number[] = [];
  let after = '';
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    const response = await sim.fetch(
      new Request('http://sim/graphql', {
        method: 'POST',
        body: JSON.stringify({
          query: byTime,
          variables: {
            filter: { per_page: 1000, sort: 'updated_at', direction: 'ASC' },
            image_filter: { updated_at: { value: after, modifier: 'GREATER_THAN' } },
          },
        }),
      }),
    );
    const body = (await response.json()) as { data: { findImages: { images: { updated_at: string }[] } } };
    latencies.push(performance.now() - t0);
    after = body.data.findImages.images.at(-1)?.updated_at ?? after;
  }
  const first = latencies[0] as number;
  const rest = latencies.slice(1).sort((a, b) => a - b);
  console.log(
    `updated_at pages of 1000 images: first (sorts 500k) ${first.toFixed(0)} ms, then median ${(rest[Math.floor(rest.length / 2)] as number).toFixed(2)} ms`,
  );
}
console.log(`peak rss after paging: ${mb(process.resourceUsage().maxRSS * 1024)}`);
