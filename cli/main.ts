import { Command, CommanderError } from 'commander';
import { registerApi } from './commands/api.js';
import { registerCancel } from './commands/cancel.js';
import { registerDev } from './commands/dev.js';
import { registerLogs } from './commands/logs.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPostprocess } from './commands/postprocess.js';
import { registerReset } from './commands/reset.js';
import { registerRuns } from './commands/runs.js';
import { registerSchedule } from './commands/schedule.js';
import { registerSimulate } from './commands/simulate.js';
import { registerStatus } from './commands/status.js';
import { registerSync } from './commands/sync.js';
import { registerWorker } from './commands/worker.js';
import { EXIT } from './shared.js';

const program = new Command()
  .name('stash-mirror')
  .description('A durable, Temporal-orchestrated mirror of a Stash library in PostgreSQL')
  .showHelpAfterError()
  // Commander's own usage errors (unknown option, missing argument) exit 64 like ours, not 1.
  .exitOverride();

registerDev(program);
registerMigrate(program);
registerWorker(program);
registerApi(program);
registerSimulate(program);
registerSync(program);
registerStatus(program);
registerRuns(program);
registerLogs(program);
registerCancel(program);
registerSchedule(program);
registerReset(program);
registerPostprocess(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Commander has printed its message already (help and --version end here too, with 0).
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  process.stderr.write(`stash-mirror: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
