import type { Command } from 'commander';
import { POST_PROCESS_STEP_NAMES, type PostProcessStepName } from '../../db/postprocess/plan.js';
import { EXIT, fail } from '../shared.js';

export function registerPostprocess(program: Command): void {
  program
    .command('postprocess')
    .description(
      'recompute all derived data (inheritance, counts, per-user views) from the mirrored rows, step by step',
    )
    .option('--step <name>', `only this step (${POST_PROCESS_STEP_NAMES.join(', ')})`)
    .action(async (flags: { step?: string }) => {
      const step = flags.step;
      if (step !== undefined && !(POST_PROCESS_STEP_NAMES as readonly string[]).includes(step)) {
        fail(`unknown post-processing step "${step}" (one of ${POST_PROCESS_STEP_NAMES.join(', ')})`, EXIT.failed);
      }
      const { runPostprocess } = await import('../actions/postprocess.js');
      await runPostprocess({ step: step as PostProcessStepName | undefined });
    });
}
