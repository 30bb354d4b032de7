import type { Command } from 'commander';

export function registerCancel(program: Command): void {
  program
    .command('cancel [run]')
    .description(
      'cancel a running sync (default: the running main sync); its committed pages are kept and the next sync of its type resumes there',
    )
    .option('--wait', 'wait until the run has ended')
    .option('--json', 'print one JSON object: { runId, status }')
    .action(async (run: string | undefined, options: { wait?: boolean; json?: boolean }) => {
      const { runCancel } = await import('../actions/cancel.js');
      await runCancel(run, options);
    });
}
