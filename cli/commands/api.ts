import { serve } from '@hono/node-server';
import type { Command } from 'commander';
import { createApiApp, createApiLogger } from '../../api/app.js';
import { migrate } from '../../db/migrate.js';
import { connectClient } from '../../temporal/sync-client.js';
import { fail, loadConfig, onShutdown, openDatabase } from '../shared.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function registerApi(program: Command): void {
  program
    .command('api')
    .description('serve the HTTP API (needs API_TOKEN unless bound to loopback)')
    .action(async () => {
      const config = loadConfig();
      const host = config.HOST ?? '127.0.0.1';
      if (!config.API_TOKEN && !LOOPBACK.has(host)) {
        fail(`refusing to bind ${host} without API_TOKEN: set API_TOKEN or HOST=127.0.0.1`);
      }
      const database = await openDatabase(config, 'stash-mirror api');
      await migrate(database.url);
      const temporal = await connectClient({
        address: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
      });
      const app = createApiApp({
        sql: database.sql,
        temporal,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
        workflowId: config.SYNC_WORKFLOW_ID,
        apiToken: config.API_TOKEN,
        temporalUiUrl: config.TEMPORAL_UI_URL,
        namespace: config.TEMPORAL_NAMESPACE,
        logger: createApiLogger(config.LOG_LEVEL),
      });
      const server = serve({ fetch: app.fetch, port: config.PORT, hostname: host });
      if (!config.API_TOKEN) process.stderr.write('stash-mirror: API_TOKEN is not set: serving on loopback only\n');
      process.stderr.write(`stash-mirror: API on http://${host}:${config.PORT}\n`);
      onShutdown(async () => {
        server.close();
        await temporal.connection.close();
        await database.close();
      });
    });
}
