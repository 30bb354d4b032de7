import type { Command } from 'commander';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the Temporal worker that executes sync workflows and activities')
    .action(async () => {
      const { runWorker } = await import('../actions/worker.js');
      await runWorker();
    });
}
