import type { Command } from 'commander';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { oneOf, positiveInt } from '../shared.js';

export function registerLogs(program: Command): void {
  program
    .command('logs <type> <id>')
    .description(`an entity's sync history, newest first (type: ${ENTITY_TYPES.join(', ')})`)
    .option('--limit <n>', 'how many log rows (at most 1000)', '20')
    .option('--json', 'print one JSON object: { entityType, id, logs }')
    .action(async (typeText: string, idText: string, flags: { limit: string; json?: boolean }) => {
      const options = {
        entityType: oneOf('<type>', typeText, ENTITY_TYPES),
        id: positiveInt('<id>', idText),
        limit: positiveInt('--limit', flags.limit, 1000),
        json: flags.json === true,
      };
      const { runLogs } = await import('../actions/runs.js');
      await runLogs(options);
    });
}
