import type { Client } from '@temporalio/client';
import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import type { Sql } from '../db/client.js';
import { SyncAlreadyRunningError, startFullSync } from '../temporal/sync-client.js';

export interface ApiDependencies {
  sql: Sql;
  temporal: Client;
  taskQueue: string;
  workflowId?: string | undefined;
  apiToken?: string | undefined;
  temporalUiUrl?: string | undefined;
}

/**
 * The HTTP API. This first cut starts full syncs and reports status; the full route set
 * (history, cancel, schedule, library reads) is issue #5's.
 */
export function createApiApp(deps: ApiDependencies): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = { postgres: false, temporal: false };
    try {
      await deps.sql`select 1`;
      checks.postgres = true;
    } catch {}
    try {
      await deps.temporal.connection.workflowService.getSystemInfo({});
      checks.temporal = true;
    } catch {}
    const ready = checks.postgres && checks.temporal;
    return c.json({ status: ready ? 'ready' : 'unavailable', checks }, ready ? 200 : 503);
  });

  if (deps.apiToken) app.use('/api/*', bearerAuth({ token: deps.apiToken }));

  app.post('/api/sync/full', async (c) => {
    try {
      const started = await startFullSync(
        deps.temporal,
        { taskQueue: deps.taskQueue, workflowId: deps.workflowId },
        { trigger: 'api' },
      );
      return c.json(
        {
          runId: started.syncRunId,
          workflowId: started.workflowId,
          statusUrl: `/api/sync/status`,
          temporalUiUrl: deps.temporalUiUrl
            ? `${deps.temporalUiUrl}/namespaces/default/workflows/${started.workflowId}/${started.runId}`
            : null,
        },
        202,
      );
    } catch (error) {
      if (error instanceof SyncAlreadyRunningError) {
        return c.json({ error: 'another sync is already running', runningRunId: error.runningRunId ?? null }, 409);
      }
      throw error;
    }
  });

  app.get('/api/sync/status', async (c) => {
    const [running] = await deps.sql`select * from sync_runs where status = 'running' order by started_at desc limit 1`;
    const [last] = await deps.sql`select * from sync_runs where status <> 'running' order by started_at desc limit 1`;
    const state = await deps.sql`
      select entity_type, last_full_sync_at, last_incremental_sync_at, high_water_mark_raw,
             resume_cursor is not null as interrupted
      from sync_state order by entity_type`;
    return c.json({ running: running ?? null, lastRun: last ?? null, entities: state });
  });

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((error, c) => {
    if ('getResponse' in error && typeof error.getResponse === 'function') return error.getResponse() as Response;
    console.error(error);
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
