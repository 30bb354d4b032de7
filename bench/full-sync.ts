/**
 * Full sync benchmark: wall time, entities per second, worker peak RSS, Temporal events used.
 *   npx tsx bench/full-sync.ts [tiny|small|medium|large] [pageSize]
 */
import { startBenchStack } from './harness.js';

const scale = process.argv[2] ?? 'medium';
const pageSize = Number(process.argv[3] ?? 500);
const stack = await startBenchStack(scale, pageSize);
const { summary, seconds } = await stack.run('full');
const entities = Object.values(summary.counts).reduce((sum, counts) => sum + (counts?.created ?? 0), 0);
const { events, executions } = await stack.temporalEvents();
const [logRows] = await stack.sql`select count(*)::int as n from sync_log`;
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
      syncLogRows: logRows?.n,
    },
    null,
    2,
  ),
);
await stack.close();
