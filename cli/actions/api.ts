import type { Client } from '@temporalio/client';
import type { AppConfig } from '../../config/env.js';
import type { Sql } from '../../db/client.js';
import { migrate } from '../../db/migrate.js';
import { fail, onShutdown } from '../shared.js';
import { openApiDatabase } from './api-database.js';
import { loadConfig } from './config.js';
import { openDatabase } from './services.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Connects a Temporal client and serves the API on config.PORT (`api`, and `dev`'s API). `close`
 * stops the server, then the client (which the caller may use too); the database stays the caller's.
 */
export async function serveApi(
  config: AppConfig,
  parts: {
    sql: Sql;
    temporalAddress: string;
    temporalUiUrl: string | undefined;
    host: string;
    logLevel: AppConfig['LOG_LEVEL'];
  },
): Promise<{ temporal: Client; close(): Promise<void> }> {
  // Loaded here, not at the top: `api` checks its configuration and database connection first,
  // and a refusal should not wait for the whole HTTP app and the Temporal client to load.
  const [{ serve }, { createApiApp, createApiLogger }, { connectClient }] = await Promise.all([
    import('@hono/node-server'),
    import('../../api/app.js'),
    import('../../temporal/sync-client.js'),
  ]);
  const temporal = await connectClient({
    address: parts.temporalAddress,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
  });
  const app = createApiApp({
    sql: parts.sql,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId: config.SYNC_WORKFLOW_ID,
    apiToken: config.API_TOKEN,
    temporalUiUrl: parts.temporalUiUrl,
    namespace: config.TEMPORAL_NAMESPACE,
    logger: createApiLogger(parts.logLevel),
    hooks: {
      windowMs: config.HOOK_WINDOW_MS,
      maxWaitMs: config.HOOK_MAX_WAIT_MS,
      entityLimit: config.HOOK_ENTITY_LIMIT,
    },
  });
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: parts.host });
  return {
    temporal,
    async close() {
      server.close();
      await temporal.connection.close();
    },
  };
}

/** `stash-mirror api`: serves the HTTP API until SIGINT/SIGTERM. */
export async function runApi(): Promise<void> {
  const config = loadConfig();
  const host = config.HOST ?? '127.0.0.1';
  if (!config.API_TOKEN && !LOOPBACK.has(host)) {
    fail(`refusing to bind ${host} without API_TOKEN: set API_TOKEN or HOST=127.0.0.1`);
  }
  // API_DATABASE_URL alone: this process holds no credentials that can write the mirror, so it
  // does not migrate (`stash-mirror migrate` does, as the owner).
  const database =
    config.DATABASE_URL || !config.API_DATABASE_URL ? await openDatabase(config, 'stash-mirror api') : null;
  if (database) await migrate(database.url);
  const apiDatabase = await openApiDatabase(config, database);
  const api = await serveApi(config, {
    sql: apiDatabase.sql,
    temporalAddress: config.TEMPORAL_ADDRESS,
    temporalUiUrl: config.TEMPORAL_UI_URL,
    host,
    logLevel: config.LOG_LEVEL,
  });
  if (!config.API_TOKEN) process.stderr.write('stash-mirror: API_TOKEN is not set: serving on loopback only\n');
  process.stderr.write(`stash-mirror: API on http://${host}:${config.PORT}\n`);
  onShutdown(async () => {
    await api.close();
    await apiDatabase.close();
    await database?.close();
  });
}
