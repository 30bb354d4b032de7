import { POST_PROCESS_STEP_NAMES, type PostProcessStepName, runPostProcessStep } from '../../db/postprocess/steps.js';
import { loadConfig } from './config.js';
import { count, duration } from './format.js';
import { withDatabase } from './session.js';
import { refuseWhileSyncing } from './sync-guard.js';

/** What each step's `affected` counts (db/postprocess/plan.ts StepResult). */
const SUBJECTS: Record<PostProcessStepName, string> = {
  'image-inheritance': 'images',
  'scene-tag-inheritance': 'scenes',
  'entity-counts': 'entities counted',
  'user-exclusions': 'users',
  'user-stats': 'users',
};

/**
 * `stash-mirror postprocess [--step <name>]`: recomputes the derived data from the mirrored rows
 * (scope `all`, as a full sync does), step by step in plan order, each step its own transaction.
 * Refuses while a sync runs (exit 2).
 */
export async function runPostprocess(options: { step?: PostProcessStepName | undefined }): Promise<void> {
  const config = loadConfig();
  const steps = options.step ? [options.step] : [...POST_PROCESS_STEP_NAMES];
  await withDatabase(config, async ({ sql }) => {
    await refuseWhileSyncing(config, sql, 'postprocess');
    const width = Math.max(...steps.map((step) => step.length));
    const startedAt = performance.now();
    for (const step of steps) {
      const result = await runPostProcessStep(sql, step, { kind: 'all' });
      process.stdout.write(
        `${step.padEnd(width)}  ${took(result.ms).padStart(8)}  ${count(result.affected)} ${SUBJECTS[step]}\n`,
      );
    }
    const total = took(performance.now() - startedAt);
    process.stdout.write(
      `post-processing done: ${steps.length} ${steps.length === 1 ? 'step' : 'steps'} in ${total}\n`,
    );
  });
}

/** A step's duration: `420 ms`, `3.4 s`, then format.ts's `2m 03s`. */
function took(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)} s`;
  return duration(milliseconds);
}
