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

const query = `query Page($filter: FindFilterType, $image_filter: ImageFilterType) {
  findImages(filter: $filter, image_filter: $image_filter) {
    count
    images {
      id title code date details photographer rating100 organized o_counter urls created_at updated_at
      studio { id } performers { id } tags { id } galleries { id }
      visual_files { ... on ImageFile { id path basename size width height format mod_time created_at updated_at } }
    }
  }
}`;

async function page(after: number, perPage: number): Promise<{ ms: number; lastId: number; rows: number }> {
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

for (const perPage of [100, 1000]) {
  const latencies: number[] = [];
  let after = 0;
  for (let i = 0; i < 200; i++) {
    const result = await page(after, perPage);
    latencies.push(result.ms);
    after = result.lastId;
    if (result.rows < perPage) after = 0;
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => (latencies[Math.floor((latencies.length - 1) * p)] as number).toFixed(2);
  console.log(
    `keyset pages of ${perPage} images (200 requests): median ${pct(0.5)} ms, p95 ${pct(0.95)} ms, max ${pct(1)} ms`,
  );
}
console.log(`peak rss after paging: ${mb(process.resourceUsage().maxRSS * 1024)}`);
