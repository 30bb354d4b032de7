import type { Command } from 'commander';
import { RUN_STATUSES, SYNC_TYPES } from '../../db/vocabulary.js';
import { oneOf, positiveInt } from '../shared.js';

interface RunsFlags {
  type?: string;
  status?: string;
  limit: string;
  json?: boolean;
}

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('sync runs, newest first: type, trigger, status, duration, counts')
    .option('--type <type>', `only runs of this type (${SYNC_TYPES.join(', ')})`)
    .option('--status <status>', `only runs with this status (${RUN_STATUSES.join(', ')})`)
    .option('--limit <n>', 'how many runs (at most 1000)', '20')
    .option('--json', 'print one JSON object: { count, runs }')
    .action(async (flags: RunsFlags) => {
      const options = {
        type: flags.type === undefined ? undefined : oneOf('--type', flags.type, SYNC_TYPES),
        status: flags.status === undefined ? undefined : oneOf('--status', flags.status, RUN_STATUSES),
        limit: positiveInt('--limit', flags.limit, 1000),
        json: flags.json === true,
      };
      const { runRuns } = await import('../actions/runs.js');
      await runRuns(options);
    });
}
