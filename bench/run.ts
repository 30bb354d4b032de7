/**
 * The benchmark: one run on the real stack measures a full sync, its floor on the same data
 * (fetch only, write only), the simulator's serving rate, everyday smart syncs, post-processing,
 * library reads and (with --latency-ms) latency mode; prints a table and writes
 * bench/results/<date>-<scale>.json. docs/performance.md says what each number means.
 *   npm run bench -- --scale medium|large [--compare FILE] [--latency-ms 50 --concurrency 1,4]
 *   [--only full,floor,serving,smart,reads,latency]
 */
import os from 'node:os';
import { type FetchMeasure, measureFetch } from './fetch-floor.js';
import { measureLatencyPoint } from './latency.js';
import { type FullSyncMeasure, measureFullSync } from './measure-full.js';
import { parseOptions } from './options.js';
import { measureReads } from './reads.js';
import { type BenchReport, describeRun, Metrics, readReport, renderTable, writeReport } from './report.js';
import { measureSmart } from './smart.js';
import { startStack } from './stack.js';
import { floorRows, fullSyncRows, latencyRows, readRows, servingRows, smartRows } from './tabulate.js';
import { measureWriteFloor, type WriteFloor } from './write-floor.js';

const options = parseOptions(process.argv.slice(2));
const old = options.compare ? readReport(options.compare) : undefined;
const metrics = new Metrics();
const details: Record<string, unknown> = {};
const errors: BenchReport['errors'] = [];
const say = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** Runs one phase; a failure is reported and recorded, and the other phases still run. */
async function phase<T>(name: string, work: () => Promise<T>): Promise<T | null> {
  const started = Date.now();
  say(`${name}…`);
  try {
    const result = await work();
    details[name] = result;
    say(`${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    say(`${name} FAILED: ${message}`);
    errors.push({ phase: name, message });
    return null;
  }
}

const run = describeRun();
say(`scale ${options.scale}, page size ${options.pageSize}: starting the stack (generating the library)…`);
const stack = await startStack({ scale: options.scale, pageSize: options.pageSize });
try {
  const { only, latencyMs } = options;
  const full: FullSyncMeasure | null = only.has('full') ? await phase('fullSync', () => measureFullSync(stack)) : null;
  if (full) fullSyncRows(metrics, full);
  if (only.has('floor')) {
    const fetch: FetchMeasure | null = await phase('fetchFloor', () => measureFetch(stack, 1));
    const write: WriteFloor | null = await phase('writeFloor', () => measureWriteFloor(stack));
    if (fetch) floorRows(metrics, full, fetch, write);
  }
  if (only.has('serving')) {
    const serving = await phase('simulatorServing', () => measureFetch(stack, options.servingConcurrency));
    if (serving) servingRows(metrics, serving, full);
  }
  // Everyday syncs and reads need a synced mirror.
  if ((only.has('smart') || only.has('reads')) && !full) await phase('fullSync', () => measureFullSync(stack));
  if (only.has('smart')) {
    const smart = await phase('smartSyncs', () => measureSmart(stack, options.repeats));
    if (smart) smartRows(metrics, smart, full);
  }
  if (only.has('reads')) {
    const reads = await phase('libraryReads', () => measureReads(stack, options.reads));
    if (reads) readRows(metrics, reads);
  }
  for (const concurrency of latencyMs !== null && only.has('latency') ? options.concurrency : []) {
    const point = await phase(`latency${latencyMs}c${concurrency}`, () =>
      measureLatencyPoint(stack, latencyMs ?? 0, concurrency),
    );
    if (point) latencyRows(metrics, point);
  }
} finally {
  await stack.close();
}

const report: BenchReport = {
  ...run,
  load: { ...run.load, end: os.loadavg()[0] ?? 0 },
  scale: options.scale,
  options: { ...options, only: [...options.only] },
  metrics: metrics.list,
  details,
  errors,
};
const file = writeReport(report);
const { machine, git } = report;
process.stdout.write(
  `\nstash-mirror bench, scale ${report.scale}, ${report.date}\n` +
    `${machine.cores} cores (${machine.cpu}), ${machine.memoryMiB} MiB, node ${machine.node}, ` +
    `HEAD ${git.head?.slice(0, 10) ?? '?'}${git.dirtyFiles ? ` + ${git.dirtyFiles} changed files` : ''}, ` +
    `load average ${report.load.start.toFixed(1)} → ${report.load.end?.toFixed(1)}\n\n` +
    `${renderTable(metrics.list, old)}\n\n` +
    (old ? `compared with ${options.compare} (${old.date}, HEAD ${old.git.head?.slice(0, 10) ?? '?'})\n` : '') +
    (errors.length ? `${errors.length} phase(s) failed: ${errors.map((error) => error.phase).join(', ')}\n` : '') +
    `JSON: ${file}\n`,
);
if (errors.length) process.exitCode = 1;
