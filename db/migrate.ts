import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Sql } from './client.js';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));
/** Our own advisory-lock key ("stash-mirror" in ASCII, truncated to fit a bigint). */
const MIGRATION_LOCK_KEY = 0x73746173686d6972n;

export interface MigrationResult {
  applied: string[];
}

/**
 * Applies pending migrations with node-pg-migrate in one transaction. node-pg-migrate's own lock
 * fails a second concurrent migrator ("Another migration is already running"); we want the
 * second one to wait and then find nothing to do, so we hold a blocking advisory lock ourselves
 * on the same session and turn its lock off.
 */
export async function migrate(databaseUrl: string, log: (line: string) => void = () => {}): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'stash-mirror migrate' });
  client.on('notice', () => {});
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
    // The read-only guard also covers DDL-time data changes (seed rows in a migration).
    await client.query(`select set_config('stash_mirror.writer', 'sync', false)`);
    const ran = await runner({
      dbClient: client,
      dir: MIGRATIONS_DIR,
      direction: 'up',
      migrationsTable: 'stash_mirror_migrations',
      singleTransaction: true,
      checkOrder: true,
      noLock: true,
      log: () => {},
    });
    for (const migration of ran) log(`applied ${migration.name}`);
    return { applied: ran.map((migration) => migration.name) };
  } finally {
    await client.query('select pg_advisory_unlock_all()').catch(() => {});
    await client.end();
  }
}

/**
 * Migrations in MIGRATIONS_DIR that the database has not applied (all of them when it has none).
 * For a process that connects without the right to migrate (`api` with API_DATABASE_URL only):
 * it refuses to serve a schema older than its code.
 */
export async function pendingMigrations(sql: Sql): Promise<string[]> {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => file.slice(0, -'.sql'.length))
    .sort();
  const [table] = await sql<{ found: boolean }[]>`select to_regclass('stash_mirror_migrations') is not null as found`;
  if (!table?.found) return files;
  const applied = new Set(
    (await sql<{ name: string }[]>`select name from stash_mirror_migrations`).map((row) => row.name),
  );
  return files.filter((name) => !applied.has(name));
}
