import type { Command } from 'commander';
import { migrate } from '../../db/migrate.js';
import { loadConfig, openDatabase } from '../shared.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (safe to run twice or from two processes at once)')
    .action(async () => {
      const config = loadConfig();
      const database = await openDatabase(config, 'stash-mirror migrate');
      try {
        const { applied } = await migrate(database.url, (line) => process.stdout.write(`${line}\n`));
        process.stdout.write(
          applied.length === 0 ? 'database is up to date\n' : `applied ${applied.length} migration(s)\n`,
        );
      } finally {
        await database.close();
      }
    });
}
