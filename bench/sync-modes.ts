/**
 * Everyday cost: a no-op smart sync and a smart sync after 1% of scenes and images changed,
 * each as a ratio of a full sync measured in the same run (medians of `repeats`).
 *   npx tsx bench/sync-modes.ts [scale] [repeats]
 */
import { median, startBenchStack } from './harness.js';

const scale = process.argv[2] ?? 'medium';
const repeats = Number(process.argv[3] ?? 3);
const stack = await startBenchStack(scale, 500);

const first = await stack.run('full');
const fullTimes: number[] = [];
const noopTimes: number[] = [];
const changedTimes: number[] = [];
let changedSummary: unknown;
const { counts } = (await stack.control({ action: 'counts' })) as { counts: { scenes: number; images: number } };

for (let round = 0; round < repeats; round += 1) {
  fullTimes.push((await stack.run('full')).seconds);
  noopTimes.push((await stack.run('smart')).seconds);
  // 1% of scenes and images touched (edited in Stash: updated_at bumped, one field changed).
  for (const [type, total] of [
    ['scene', counts.scenes],
    ['image', counts.images],
  ] as const) {
    const ids = Array.from({ length: Math.ceil(total / 100) }, (_, index) => 1 + ((index * 97 + round * 13) % total));
    const answer = (await stack.control({ action: 'touch', type, ids })) as { touched?: number };
    if (answer.touched !== ids.length) throw new Error(`touch ${type}: ${JSON.stringify(answer)}`);
  }
  const changed = await stack.run('smart');
  changedTimes.push(changed.seconds);
  changedSummary = {
    counts: changed.summary.counts,
    skipped: changed.summary.skippedTypes,
    pages: changed.summary.pages,
  };
}
const full = median(fullTimes);
console.log(
  JSON.stringify(
    {
      scale,
      repeats,
      firstFullSeconds: +first.seconds.toFixed(2),
      fullSecondsMedian: +full.toFixed(2),
      noopSmartSecondsMedian: +median(noopTimes).toFixed(2),
      noopSmartToFullRatio: +(median(noopTimes) / full).toFixed(4),
      onePercentSmartSecondsMedian: +median(changedTimes).toFixed(2),
      onePercentSmartToFullRatio: +(median(changedTimes) / full).toFixed(4),
      lastOnePercentCounts: changedSummary,
    },
    null,
    2,
  ),
);
await stack.close();
