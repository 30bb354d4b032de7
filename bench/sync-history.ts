/**
 * What per-entity history costs an everyday run: a smart sync after 1% of scenes and images
 * changed, with `skipped` rows logged (the default) and without (SYNC_LOG_SKIPPED=off), rounds
 * alternating in one run; medians and their ratio.
 *   npx tsx bench/sync-history.ts [scale] [rounds]
 */
import { logRowCount } from '../db/runs.js';
import { median, startBenchStack } from './harness.js';

const scale = process.argv[2] ?? 'medium';
const rounds = Number(process.argv[3] ?? 5);
const stack = await startBenchStack(scale, 500);
await stack.run('full');
const { counts } = await stack.control<{ counts: { scenes: number; images: number } }>({ action: 'counts' });

const seconds: Record<'on' | 'off', number[]> = { on: [], off: [] };
const logged: Record<'on' | 'off', number[]> = { on: [], off: [] };
for (let round = 0; round < rounds * 2; round += 1) {
  const mode = round % 2 === 0 ? 'on' : 'off';
  await stack.restartWorker({ SYNC_LOG_SKIPPED: mode });
  // 1% of scenes and images touched in Stash (bumped, same data): each is fetched and logged
  // `skipped` when skipped rows are logged, and logs nothing otherwise: the worst case for the cost.
  for (const [type, total] of [
    ['scene', counts.scenes],
    ['image', counts.images],
  ] as const) {
    const ids = Array.from({ length: Math.ceil(total / 100) }, (_, index) => 1 + ((index * 97 + round * 13) % total));
    const answer = await stack.control<{ touched?: number }>({ action: 'touch', type, ids });
    if (answer.touched !== ids.length) throw new Error(`touch ${type}: ${JSON.stringify(answer)}`);
  }
  const run = await stack.run('smart');
  seconds[mode].push(run.seconds);
  logged[mode].push(await logRowCount(stack.sql, run.summary.runId));
}
console.log(
  JSON.stringify(
    {
      scale,
      rounds,
      onePercentSmartSeconds: { skippedLogged: seconds.on, notLogged: seconds.off },
      medianSeconds: { skippedLogged: median(seconds.on), notLogged: median(seconds.off) },
      ratio: +(median(seconds.on) / median(seconds.off)).toFixed(3),
      logRowsPerRun: { skippedLogged: median(logged.on), notLogged: median(logged.off) },
    },
    null,
    2,
  ),
);
await stack.close();
