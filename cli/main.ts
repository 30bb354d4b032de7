import { Command } from 'commander';
import { registerApi } from './commands/api.js';
import { registerDev } from './commands/dev.js';
import { registerMigrate } from './commands/migrate.js';
import { registerSimulate } from './commands/simulate.js';
import { registerSync } from './commands/sync.js';
import { registerWorker } from './commands/worker.js';

const program = new Command()
  .name('stash-mirror')
  .description('A durable, Temporal-orchestrated mirror of a Stash library in PostgreSQL')
  .showHelpAfterError();

registerDev(program);
registerMigrate(program);
registerWorker(program);
registerApi(program);
registerSimulate(program);
registerSync(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`stash-mirror: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
