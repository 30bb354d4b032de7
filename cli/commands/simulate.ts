import type { Command } from 'commander';
import type { SimulateOptions } from '../actions/simulate.js';

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('serve a simulated Stash (GraphQL at /graphql, test control at /__control)')
    .option('--seed <n>', 'generator seed', '1')
    .option('--scale <scale>', 'tiny | small | medium | large', 'small')
    .option('--port <port>', 'port (0 = any free port)', '9999')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--api-key <key>', 'require this ApiKey header')
    .option('--offset <minutes>', "server's UTC offset in minutes", '600')
    .option('--time-zone <zone>', 'IANA zone whose offset follows daylight saving (overrides --offset)')
    .action(async (options: SimulateOptions) => {
      const { runSimulate } = await import('../actions/simulate.js');
      await runSimulate(options);
    });
}
