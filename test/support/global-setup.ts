import type { TestProject } from 'vitest/node';

/**
 * One PostgreSQL and one Temporal dev server for the whole test run (test files make their own
 * databases and task queues). STASH_MIRROR_TEST_SERVICES=off skips both, for pure unit runs;
 * `db-only` skips Temporal.
 * TEST_DATABASE_URL points the tests at an existing server instead of an embedded one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<void>> = [];
  if (process.env.STASH_MIRROR_TEST_SERVICES === 'off') {
    project.provide('adminDatabaseUrl', 'postgres://services-off.invalid/postgres');
    project.provide('temporalAddress', 'services-off.invalid:7233');
    return async () => {};
  }
  const testDatabaseUrl = process.env.TEST_DATABASE_URL;
  if (testDatabaseUrl) {
    project.provide('adminDatabaseUrl', testDatabaseUrl);
  } else {
    const { startEmbeddedPostgres } = await import('../../runtime/embedded-postgres.js');
    const postgres = await startEmbeddedPostgres({ port: 0, persistent: false, database: 'postgres' });
    stops.push(() => postgres.stop());
    project.provide('adminDatabaseUrl', postgres.databaseUrl);
  }
  if (process.env.STASH_MIRROR_TEST_SERVICES === 'db-only') {
    project.provide('temporalAddress', 'services-off.invalid:7233');
    return async () => {
      for (const stop of stops.reverse()) await stop();
    };
  }
  const { startTemporalDevServer } = await import('../../runtime/temporal-dev-server.js');
  const temporal = await startTemporalDevServer({ dbFilename: null, port: 0, uiPort: null, logLevel: 'error' });
  stops.push(() => temporal.stop());
  project.provide('temporalAddress', temporal.address);
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
