import type { Command } from 'commander';
import type { DevOptions } from '../actions/dev.js';

/**
 * Everything at once on embedded defaults: PostgreSQL, the Temporal dev server with its Web UI,
 * a simulated Stash (unless STASH_URL is set), the worker and the API. Ctrl-C stops it all.
 */
export function registerDev(program: Command): void {
  program
    .command('dev')
    .description(
      'run the whole stack locally: embedded Postgres, Temporal dev server + UI, simulated Stash, worker, API',
    )
    .option('--scale <scale>', 'simulated library size when STASH_URL is unset', 'small')
    .option('--seed <n>', 'simulated library seed', '1')
    .option('--no-initial-sync', 'do not start a full sync when the mirror has never synced')
    .action(async (options: DevOptions) => {
      const { runDev } = await import('../actions/dev.js');
      await runDev(options);
    });
}
