import { migrate } from '../../db/migrate.js';
import { hasFullySynced } from '../../db/sync-state.js';
import { isPortOpen } from '../../runtime/processes.js';
import { createStashClient, type StashClient } from '../../stash/client.js';
import { stashEndpoint } from '../../stash/endpoint.js';
import { SyncAlreadyRunningError, startFullSync } from '../../temporal/sync-client.js';
import { createWorker } from '../../worker/create-worker.js';
import { installTemporalLogging } from '../../worker/runtime-logging.js';
import { onShutdown } from '../shared.js';
import { serveApi } from './api.js';
import { openApiDatabase } from './api-database.js';
import { loadConfig } from './config.js';
import { ensureScheduleFromConfig, openDatabase, stashClientFor, workerOptionsFrom } from './services.js';
import { startSimulated } from './simulate.js';

export interface DevOptions {
  scale: string;
  seed: string;
  initialSync: boolean;
}

/** `stash-mirror dev`: starts the whole stack, then runs until Ctrl-C. */
export async function runDev(options: DevOptions): Promise<void> {
  const config = loadConfig();
  installTemporalLogging(config.LOG_LEVEL);
  const stops: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
  onShutdown(stopAll);
  const say = (line: string) => process.stdout.write(`${line}\n`);
  // A STASH_URL that leads nowhere useful stops dev before anything starts.
  let stash: StashClient | undefined = config.STASH_URL ? await stashClientFor(config) : undefined;

  const database = await openDatabase(config, 'stash-mirror dev');
  stops.push(() => database.close());
  await migrate(database.url);
  // The API's own pool, as a role that cannot write the mirror: checked now, before anything starts.
  const apiDatabase = await openApiDatabase(config, database);
  stops.push(() => apiDatabase.close());

  const [host, portText] = config.TEMPORAL_ADDRESS.split(':');
  let temporalAddress = config.TEMPORAL_ADDRESS;
  let uiUrl = config.TEMPORAL_UI_URL ?? null;
  if (!(await isPortOpen(Number(portText), host))) {
    const { startTemporalDevServer, defaultTemporalDbFile } = await import('../../runtime/temporal-dev-server.js');
    const dbFilename = config.STASH_MIRROR_DATA_DIR
      ? `${config.STASH_MIRROR_DATA_DIR}/temporal/dev.db`
      : defaultTemporalDbFile();
    const server = await startTemporalDevServer({ dbFilename, ip: host ?? '127.0.0.1', port: Number(portText) });
    stops.push(() => server.stop());
    temporalAddress = server.address;
    uiUrl = server.uiUrl;
    say(`Temporal dev server on ${server.address} (history in ${dbFilename})`);
  } else {
    say(`Temporal already listening on ${temporalAddress}: using it`);
  }
  if (uiUrl) say(`Temporal Web UI: ${uiUrl}`);

  if (!stash) {
    const simulated = await startSimulated({
      seed: options.seed,
      scale: options.scale,
      port: (await isPortOpen(9999)) ? '0' : '9999',
      host: '127.0.0.1',
      offset: '600',
    });
    stops.push(() => simulated.server.close());
    stash = createStashClient({ url: simulated.server.url });
    say(`Simulated Stash: ${stashEndpoint(simulated.server.url)} (${simulated.description})`);
  }

  const { worker, connection, metrics } = await createWorker(
    workerOptionsFrom(config, { temporalAddress, sql: database.sql, stash }),
  );
  const running = worker.run();
  stops.push(async () => {
    worker.shutdown();
    await running.catch(() => {});
    await metrics?.close();
    await connection.close();
  });
  say(`Worker polling task queue "${config.TEMPORAL_TASK_QUEUE}"`);
  if (metrics) say(`Worker metrics: ${metrics.url}`);
  const schedule = await ensureScheduleFromConfig(config, temporalAddress);
  if (schedule) say(`Smart sync scheduled: ${schedule}`);

  const api = await serveApi(config, {
    sql: apiDatabase.sql,
    temporalAddress,
    temporalUiUrl: uiUrl ?? undefined,
    host: '127.0.0.1',
    // A JSON line per request would drown dev's own output: request lines show with LOG_LEVEL=debug.
    logLevel: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL,
  });
  stops.push(() => api.close());
  say(`API: http://127.0.0.1:${config.PORT}`);

  if (options.initialSync) {
    if (!(await hasFullySynced(database.sql))) {
      try {
        const started = await startFullSync(
          api.temporal,
          { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId: config.SYNC_WORKFLOW_ID },
          { trigger: 'dev' },
        );
        say(`Started the first full sync: ${started.syncRunId}`);
      } catch (error) {
        if (!(error instanceof SyncAlreadyRunningError)) throw error;
        say('A sync is already running (resuming it)');
      }
    }
  }
  say('Ready. Ctrl-C stops everything.');
  await running.catch((error: unknown) => {
    process.stderr.write(`stash-mirror: worker stopped: ${String(error)}\n`);
  });
}
