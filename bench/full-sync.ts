/**
 * A full sync alone, measured as `npm run bench` measures it (worker in its own process): quicker
 * than the whole bench when only the full sync matters.
 *   npx tsx bench/full-sync.ts [--scale tiny|small|medium|large] [--page-size 500]
 *   (positional `[scale] [pageSize]` also works: npx tsx bench/full-sync.ts large 500)
 */
import { parseArgs } from 'node:util';
import { startBenchStack } from './harness.js';
import { measureFullSync } from './measure-full.js';

const { values, positionals } = parseArgs({
  options: { scale: { type: 'string' }, 'page-size': { type: 'string' } },
  allowPositionals: true,
});
const scale = values.scale ?? positionals[0] ?? 'medium';
const pageSize = Number(values['page-size'] ?? positionals[1] ?? 500);
const stack = await startBenchStack(scale, pageSize);
try {
  const full = await measureFullSync(stack);
  console.log(
    JSON.stringify(
      {
        scale,
        pageSize,
        wallSeconds: +full.seconds.toFixed(1),
        entities: full.entities,
        entitiesPerSecond: Math.round(full.entities / full.seconds),
        pages: full.pages,
        workerPeakRssMiB: full.workerPeakRssMiB === null ? null : Math.round(full.workerPeakRssMiB),
        workerStartupPeakRssMiB: full.workerStartupPeakRssMiB,
        temporalEvents: full.temporalEvents,
        executions: full.executions,
        continuedAsNew: full.continuedAsNew,
        syncLogRows: full.syncLogRows,
        cpuSeconds: full.cpuSeconds,
        postProcessSteps: full.steps,
      },
      null,
      2,
    ),
  );
} finally {
  await stack.close();
}
