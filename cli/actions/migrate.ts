import { migrate } from '../../db/migrate.js';
import { loadConfig } from './config.js';
import { openDatabase } from './services.js';

/** `stash-mirror migrate`: applies pending migrations and says how many. */
export async function runMigrate(): Promise<void> {
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
}
