import type { Command } from 'commander';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { oneOf } from '../shared.js';

export function registerReset(program: Command): void {
  program
    .command('reset <type>')
    .description(
      `forget one entity type's sync state (high-water mark, last sync times, unfinished walks) so that its next sync reads it completely; mirrored rows are kept (type: ${ENTITY_TYPES.join(', ')})`,
    )
    .option('--yes', 'do it (without: print what would be forgotten and exit 1)')
    .action(async (typeText: string, flags: { yes?: boolean }) => {
      const type = oneOf('<type>', typeText, ENTITY_TYPES);
      const { runReset } = await import('../actions/reset.js');
      await runReset(type, { yes: flags.yes === true });
    });
}
