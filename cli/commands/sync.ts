import type { Command } from 'commander';
import type { MainSyncType } from '../../db/vocabulary.js';
import { ENTITY_TYPES, type EntityType, isEntityType } from '../../stash/entity-types.js';
import type { SyncOptions } from '../actions/sync.js';
import { EXIT, fail, positiveInt } from '../shared.js';

/** The Temporal client and the workflow definitions load only once a sync is really started. */
const actions = () => import('../actions/sync.js');

function parseTypes(value: string | undefined): EntityType[] | undefined {
  if (!value) return undefined;
  const types = value.split(',').map((type) => type.trim());
  const bad = types.find((type) => !isEntityType(type));
  if (bad) fail(`--types: unknown entity type "${bad}" (one of ${ENTITY_TYPES.join(', ')})`, EXIT.usage);
  return types as EntityType[];
}

function withOutputOptions(command: Command): Command {
  return command
    .option('--wait', 'wait for the run to finish')
    .option('--json', 'print JSON; the last stdout line is the run summary');
}

export function registerSync(program: Command): void {
  const sync = program
    .command('sync')
    .description('start a sync (exit 0 success, 1 failure, 2 another sync is running)');

  const modes: Array<{ kind: MainSyncType; description: string }> = [
    { kind: 'full', description: 'sync every entity type from Stash, reconcile deletions, recompute derived data' },
    { kind: 'smart', description: 'per entity type, only what changed since its high-water mark' },
  ];
  for (const { kind, description } of modes) {
    withOutputOptions(sync.command(kind).description(description)).action(async (options: SyncOptions) =>
      (await actions()).runSync(kind, options),
    );
  }

  withOutputOptions(
    sync
      .command('incremental')
      .description('sync the entities Stash updated at or after --since')
      .requiredOption('--since <time>', 'RFC 3339 instant, e.g. 2025-01-31T18:00:00Z')
      .option('--types <list>', `comma-separated subset of ${ENTITY_TYPES.join(',')}`),
  ).action(async (options: SyncOptions) => {
    const { sinceProblem } = await import('../../sync/since.js');
    const problem = sinceProblem(options.since ?? '');
    if (problem) fail(problem, EXIT.usage);
    const entityTypes = parseTypes(options.types);
    return (await actions()).runSync('incremental', options, {
      since: options.since as string,
      ...(entityTypes ? { entityTypes } : {}),
    });
  });

  for (const type of ENTITY_TYPES) {
    withOutputOptions(
      sync.command(`${type} <id>`).description(`re-read one ${type} by id (runs beside a running sync)`),
    ).action(async (idText: string, options: SyncOptions) => {
      const id = positiveInt('<id>', idText);
      return (await actions()).runEntitySync(type, id, options);
    });
  }
}
