import type { Command } from 'commander';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('the running sync with progress per type, the last run, per-type sync state, the schedule')
    .option('--json', 'print one JSON object')
    .action(async (options: { json?: boolean }) => {
      const { runStatus } = await import('../actions/status.js');
      await runStatus(options);
    });
}
