import type { Command } from 'commander';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (safe to run twice or from two processes at once)')
    .action(async () => {
      const { runMigrate } = await import('../actions/migrate.js');
      await runMigrate();
    });
}
