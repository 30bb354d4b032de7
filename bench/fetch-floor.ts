/**
 * The fetch floor (the product's page queries, rows parsed and dropped) and, with several
 * fetchers at once, the simulated Stash's own serving rate, each with the simulator's CPU time:
 * a simulator busy close to 100% of the wall time is the limit, not the mirror.
 */
import type { EntityType } from '../stash/entity-types.js';
import { trackCpu } from './proc.js';
import type { BenchStack } from './stack.js';
import { walkAll } from './walker.js';

export interface FetchMeasure {
  concurrency: number;
  seconds: number;
  entities: number;
  requests: number;
  perSecond: number;
  byType: Partial<Record<EntityType, { entities: number; seconds: number }>>;
  /** CPU seconds of the simulator and of this process (the fetcher) during the walk. */
  simulatorCpuSeconds: number | null;
  fetcherCpuSeconds: number | null;
  /** Simulator CPU seconds per wall second (1 = one core fully busy: it is single-threaded). */
  simulatorBusy: number | null;
  /** Entities per simulator CPU second: what it could serve with a core to itself. */
  simulatorCapacity: number | null;
  /** CPU seconds the rest of the machine (not the bench's processes) used meanwhile. */
  othersCpuSeconds: number | null;
}

export async function measureFetch(stack: BenchStack, concurrency: number): Promise<FetchMeasure> {
  const cpu = trackCpu({ simulator: stack.pids().simulator });
  const walk = await walkAll(stack.stash, { pageSize: stack.pageSize, concurrency });
  const used = cpu.stop();
  const simulator = used.simulator ?? null;
  return {
    concurrency,
    seconds: walk.seconds,
    entities: walk.entities,
    requests: walk.requests,
    perSecond: walk.entities / walk.seconds,
    byType: walk.byType,
    simulatorCpuSeconds: simulator,
    fetcherCpuSeconds: used.bench ?? null,
    simulatorBusy: simulator === null ? null : simulator / walk.seconds,
    simulatorCapacity: simulator ? walk.entities / simulator : null,
    othersCpuSeconds: used.others ?? null,
  };
}
