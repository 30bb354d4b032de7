import type { Command } from 'commander';

export function registerApi(program: Command): void {
  program
    .command('api')
    .description('serve the HTTP API (needs API_TOKEN unless bound to loopback)')
    .action(async () => {
      const { runApi } = await import('../actions/api.js');
      await runApi();
    });
}
