/**
 * Full sync benchmark: wall time, entities per second, worker peak RSS, Temporal events used.
 *   npm run bench -- [--scale tiny|small|medium|large] [--page-size 500]
 *   (positional `[scale] [pageSize]` also works: npx tsx bench/full-sync.ts large 500)
 */
import { parseArgs } from 'node:util';
import { logRowCount } from '../db/runs.js';
import { startBenchStack } from './harness.js';

const { values, positionals } = parseArgs({
  options: { scale: { type: 'string' }, 'page-size': { type: 'string' } },
  allowPositionals: true,
});
const scale = values.scale ?? positionals[0] ?? 'medium';
const pageSize = Number(values['page-size'] ?? positionals[1] ?? 500);
const stack = await startBenchStack(scale, pageSize);
const { summary, seconds } = await stack.run('full');
const entities = Object.values(summary.counts).reduce((sum, counts) => sum + (counts?.created ?? 0), 0);
const { events, executions } = await stack.temporalEvents();
const logRows = await logRowCount(stack.sql);
console.log(
  JSON.stringify(
    {
      scale,
      pageSize,
      wallSeconds: +seconds.toFixed(1),
      entities,
      entitiesPerSecond: Math.round(entities / seconds),
      pages: summary.pages,
      workerPeakRssMiB: Math.round(stack.peakRss() / 2 ** 20),
      temporalEvents: events,
      executions,
      continuedAsNew: summary.continuedAsNew,
      syncLogRows: logRows,
    },
    null,
    2,
  ),
);
await stack.close();
