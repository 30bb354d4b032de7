import type { Command } from 'commander';
import { migrate } from '../../db/migrate.js';
import { createWorker } from '../../worker/create-worker.js';
import { installTemporalLogging } from '../../worker/runtime-logging.js';
import {
  ensureScheduleFromConfig,
  loadConfig,
  onShutdown,
  openDatabase,
  stashClientFor,
  workerOptionsFrom,
} from '../shared.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the Temporal worker that executes sync workflows and activities')
    .action(async () => {
      const config = loadConfig();
      installTemporalLogging(config.LOG_LEVEL);
      const stash = await stashClientFor(config);
      const database = await openDatabase(config, 'stash-mirror worker');
      await migrate(database.url);
      const { worker, connection } = await createWorker(
        workerOptionsFrom(config, { temporalAddress: config.TEMPORAL_ADDRESS, sql: database.sql, stash }),
      );
      await ensureScheduleFromConfig(config, config.TEMPORAL_ADDRESS);
      onShutdown(async () => {
        worker.shutdown();
      });
      process.stderr.write(
        `stash-mirror: worker polling task queue "${config.TEMPORAL_TASK_QUEUE}" on ${config.TEMPORAL_ADDRESS}\n`,
      );
      try {
        await worker.run();
      } finally {
        await connection.close();
        await database.close();
      }
    });
}
