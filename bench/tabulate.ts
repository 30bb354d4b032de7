/** Each measurement as rows of the table (keys stable across runs, for --compare). */
import type { StepResult } from '../db/postprocess/plan.js';
import { ENTITY_TYPES } from '../stash/entity-types.js';
import type { FetchMeasure } from './fetch-floor.js';
import type { LatencyPoint } from './latency.js';
import type { FullSyncMeasure } from './measure-full.js';
import type { ReadMeasure } from './reads.js';
import type { Metrics } from './report.js';
import type { SmartMeasure } from './smart.js';
import { median } from './stats.js';
import type { WriteFloor } from './write-floor.js';

const slug = (text: string) => text.replace(/[^a-z0-9]+/gi, '-').toLowerCase();

const postProcessSeconds = (results: StepResult[]) => results.reduce((sum, step) => sum + step.ms, 0) / 1000;

function steps(metrics: Metrics, prefix: string, results: StepResult[]): void {
  for (const step of results)
    metrics.add(`${prefix}.step.${step.step}`, `  step ${step.step} (${step.affected} affected)`, step.ms / 1000, 's');
  metrics.add(`${prefix}.postprocess`, 'post-processing, all steps', postProcessSeconds(results), 's');
}

export function fullSyncRows(metrics: Metrics, full: FullSyncMeasure): void {
  metrics.begin('full sync (worker in its own process)');
  metrics.add('full.seconds', 'wall time, client start → result', full.seconds, 's');
  metrics.add('full.entities', 'entities (created)', full.entities, '');
  metrics.add('full.fetched', 'entities fetched (re-reads included)', full.fetched, '');
  metrics.add('full.perSecond', 'entities/s overall', full.entities / full.seconds, '/s');
  for (const type of ENTITY_TYPES) {
    const rate = full.byType[type];
    if (rate)
      metrics.add(`full.type.${type}.perSecond`, `  ${type} (${rate.entities}), first→last page`, rate.perSecond, '/s');
  }
  metrics.add('full.pages', 'pages (workflow summary)', full.pages, '');
  metrics.add('full.workerPeakRss', 'worker peak RSS during the sync (VmHWM)', full.workerPeakRssMiB, 'MiB');
  metrics.add(
    'full.workerStartupPeakRss',
    'worker peak RSS at start-up (bundling)',
    full.workerStartupPeakRssMiB,
    'MiB',
  );
  metrics.add('full.databaseSize', 'PostgreSQL database size', full.databaseMiB, 'MiB');
  metrics.add('full.temporalEvents', 'Temporal history events (all executions)', full.temporalEvents, '');
  metrics.add('full.executions', 'workflow executions (continue-as-new + 1)', full.executions, '');
  metrics.add('full.syncLogRows', 'sync_log rows written', full.syncLogRows, '');
  for (const [name, seconds] of Object.entries(full.cpuSeconds)) {
    const label = name === 'others' ? 'other work on the machine' : name;
    metrics.add(`full.cpu.${name}`, `CPU: ${label}`, seconds, 'cpu-s');
  }
  steps(metrics, 'full', full.steps);
}

export function floorRows(
  metrics: Metrics,
  full: FullSyncMeasure | null,
  fetch: FetchMeasure,
  write: WriteFloor | null,
): void {
  metrics.begin('floor on the same data');
  metrics.add('floor.fetch.seconds', `(a) fetch only, ${fetch.requests} requests`, fetch.seconds, 's');
  metrics.add('floor.fetch.perSecond', '    entities/s', fetch.perSecond, '/s');
  metrics.add('floor.fetch.simulatorBusy', '    simulator CPU busy (1 = a whole core)', fetch.simulatorBusy, '');
  metrics.add('floor.fetch.othersCpu', '    CPU used by other work on the machine', fetch.othersCpuSeconds, 'cpu-s');
  if (write) {
    metrics.add(
      'floor.write.seconds',
      `(b) write only: COPY ${write.entities} rows + ${write.linkRows} links`,
      write.seconds,
      's',
    );
    metrics.add('floor.write.databaseSize', '    its database size', write.databaseMiB, 'MiB');
    metrics.add('floor.sum', 'a + b', fetch.seconds + write.seconds, 's');
  }
  if (!full) return;
  metrics.add('ratio.fullOverFetch', 'full / fetch only', full.seconds / fetch.seconds, '×');
  if (!write) return;
  metrics.add('ratio.fullOverSum', 'full / (a + b)', full.seconds / (fetch.seconds + write.seconds), '×');
  metrics.add('ratio.fullOverMax', 'full / max(a, b)', full.seconds / Math.max(fetch.seconds, write.seconds), '×');
  // The floor writes no derived data: the sync without its post-processing, against the same floor.
  const walk = full.seconds - postProcessSeconds(full.steps);
  metrics.add('ratio.syncOverSum', '(full − post-processing) / (a + b)', walk / (fetch.seconds + write.seconds), '×');
}

export function servingRows(metrics: Metrics, serving: FetchMeasure, full: FullSyncMeasure | null): void {
  metrics.begin(`simulated Stash, mirror idle (${serving.concurrency} fetchers)`);
  metrics.add('simulator.servingPerSecond', 'serving rate, same page queries', serving.perSecond, '/s');
  metrics.add('simulator.servingBusy', 'simulator CPU busy meanwhile', serving.simulatorBusy, '');
  metrics.add('simulator.capacity', 'entities per simulator CPU-second', serving.simulatorCapacity, '/cpu-s');
  metrics.add('simulator.othersCpu', 'CPU used by other work on the machine', serving.othersCpuSeconds, 'cpu-s');
  if (full && full.cpuSeconds.simulator != null) {
    metrics.add(
      'simulator.busyDuringFull',
      'simulator CPU busy during the full sync',
      full.cpuSeconds.simulator / full.seconds,
      '',
    );
  }
}

export function smartRows(metrics: Metrics, smart: SmartMeasure, full: FullSyncMeasure | null): void {
  metrics.begin(`everyday syncs (medians of ${smart.noopInProcess.length})`);
  metrics.add('smart.noop.inProcess', 'no-op smart sync, client start → result', median(smart.noopInProcess), 's');
  metrics.add('smart.noop.cli', 'no-op `stash-mirror sync smart --wait` (whole command)', median(smart.noopCli), 's');
  for (const changed of smart.changed) {
    const label = `${changed.share * 100}%`;
    const key = `smart.changed.${changed.share * 100}pct`;
    const what = `smart sync after ${label} edited (${changed.edited.scene} scenes, ${changed.edited.image} images)`;
    metrics.add(key, what, median(changed.seconds), 's');
    if (full) metrics.add(`${key}.ofFull`, '    / full sync', median(changed.seconds) / full.seconds, '×');
  }
  metrics.add(
    'smart.oneScene',
    'one scene edited, smart sync incl. post-processing',
    median(smart.oneScene.seconds),
    's',
  );
  steps(metrics, 'oneScene', smart.oneScene.steps);
}

export function readRows(metrics: Metrics, reads: ReadMeasure): void {
  metrics.begin('library API reads (40-row pages, varied ids)');
  for (const kind of reads.kinds) {
    metrics.add(`reads.${slug(kind.name)}.p50`, `${kind.name} p50`, kind.p50, 'ms');
    metrics.add(`reads.${slug(kind.name)}.p95`, `${kind.name} p95 (${kind.requests} requests)`, kind.p95, 'ms');
  }
}

export function latencyRows(metrics: Metrics, point: LatencyPoint): void {
  metrics.begin(`latency mode: ${point.latencyMs} ms per Stash request`);
  const key = `latency.c${point.concurrency}`;
  const what = `fetch only, concurrency ${point.concurrency} (${point.fetch.requests} requests)`;
  metrics.add(`${key}.fetch`, what, point.fetch.seconds, 's');
  metrics.add(`${key}.full`, `full sync, SYNC_WALK_CONCURRENCY=${point.concurrency}`, point.full.seconds, 's');
  metrics.add(`${key}.ratio`, '    full / fetch only', point.ratio, '×');
}
