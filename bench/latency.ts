/**
 * Latency mode: the simulated Stash waits `latencyMs` before every GraphQL answer (a remote
 * Stash). At each concurrency: the fetch-only walk with that many id ranges at once, and a full
 * sync into a fresh database by a worker started with SYNC_WALK_CONCURRENCY set to it.
 */
import { type FetchMeasure, measureFetch } from './fetch-floor.js';
import { type FullSyncMeasure, measureFullSync } from './measure-full.js';
import type { BenchStack } from './stack.js';

export interface LatencyPoint {
  latencyMs: number;
  concurrency: number;
  fetch: FetchMeasure;
  full: Pick<FullSyncMeasure, 'seconds' | 'entities' | 'pages' | 'temporalEvents' | 'workerPeakRssMiB' | 'cpuSeconds'>;
  /** Full sync over fetch-only at the same concurrency. */
  ratio: number;
}

/** One concurrency under `latencyMs` per request; the simulator's faults are cleared afterwards. */
export async function measureLatencyPoint(
  stack: BenchStack,
  latencyMs: number,
  concurrency: number,
): Promise<LatencyPoint> {
  await stack.control({ action: 'setFaults', latencyMs });
  const database = await stack.createDatabase(`bench_latency_c${concurrency}`);
  try {
    const fetch = await measureFetch(stack, concurrency);
    await stack.restartWorker({ DATABASE_URL: database.url, SYNC_WALK_CONCURRENCY: String(concurrency) });
    const { seconds, entities, pages, temporalEvents, workerPeakRssMiB, cpuSeconds } = await measureFullSync(
      stack,
      database.sql,
    );
    return {
      latencyMs,
      concurrency,
      fetch,
      full: { seconds, entities, pages, temporalEvents, workerPeakRssMiB, cpuSeconds },
      ratio: seconds / fetch.seconds,
    };
  } finally {
    await stack.control({ action: 'clearFaults' });
    await stack.restartWorker();
    await database.drop();
  }
}
