import { migrate } from '../../db/migrate.js';
import { createWorker } from '../../worker/create-worker.js';
import { installTemporalLogging } from '../../worker/runtime-logging.js';
import { onShutdown } from '../shared.js';
import { loadConfig } from './config.js';
import { ensureScheduleFromConfig, openDatabase, stashClientFor, workerOptionsFrom } from './services.js';

/** `stash-mirror worker`: polls the task queue until SIGINT/SIGTERM. */
export async function runWorker(): Promise<void> {
  const config = loadConfig();
  installTemporalLogging(config.LOG_LEVEL);
  const stash = await stashClientFor(config);
  const database = await openDatabase(config, 'stash-mirror worker');
  await migrate(database.url);
  const { worker, connection, metrics } = await createWorker(
    workerOptionsFrom(config, { temporalAddress: config.TEMPORAL_ADDRESS, sql: database.sql, stash }),
  );
  await ensureScheduleFromConfig(config, config.TEMPORAL_ADDRESS);
  onShutdown(async () => {
    worker.shutdown();
  });
  process.stderr.write(
    `stash-mirror: worker polling task queue "${config.TEMPORAL_TASK_QUEUE}" on ${config.TEMPORAL_ADDRESS}\n`,
  );
  if (metrics) process.stderr.write(`stash-mirror: worker metrics on ${metrics.url}\n`);
  try {
    await worker.run();
  } finally {
    await metrics?.close();
    await connection.close();
    await database.close();
  }
}
