import { WorkflowFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import type { MainSyncType } from '../../db/vocabulary.js';
import { ENTITY_TYPES, type EntityType, isEntityType } from '../../stash/entity-types.js';
import { sinceProblem } from '../../sync/since.js';
import {
  connectClient,
  type StartedSync,
  SyncAlreadyRunningError,
  startEntitySync,
  startSync,
} from '../../temporal/sync-client.js';

import { EXIT, fail, loadConfig } from '../shared.js';

interface SyncOptions {
  wait?: boolean;
  json?: boolean;
  since?: string;
  types?: string;
}

function print(options: SyncOptions, human: string, summary: object): void {
  if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${human}\n`);
}

/** Starts a run, optionally waits for it, prints, and sets the exit code (0 ok, 1 failed, 2 busy). */
async function runAndReport(
  label: string,
  options: SyncOptions,
  begin: (
    client: Awaited<ReturnType<typeof connectClient>>,
    target: { taskQueue: string; workflowId: string },
  ) => Promise<StartedSync<object>>,
): Promise<void> {
  const config = loadConfig();
  const client = await connectClient({
    address: config.TEMPORAL_ADDRESS,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
  });
  let code: number = EXIT.ok;
  try {
    const started = await begin(client, { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId: config.SYNC_WORKFLOW_ID });
    if (!options.wait) {
      print(options, `started ${label} ${started.syncRunId}`, {
        runId: started.syncRunId,
        workflowId: started.workflowId,
        status: 'running',
      });
      return;
    }
    if (!options.json) process.stdout.write(`${label} ${started.syncRunId} running...\n`);
    try {
      const summary = await started.result();
      print(options, `${label} completed: ${JSON.stringify(summary)}`, summary);
    } catch (error) {
      const cause = error instanceof WorkflowFailedError ? (error.cause?.cause ?? error.cause) : error;
      const message = cause instanceof Error ? cause.message : String(cause);
      print(
        options,
        `${label} ${error instanceof WorkflowFailedError && /cancel/i.test(message) ? 'cancelled' : 'failed'}: ${message}`,
        {
          runId: started.syncRunId,
          status: 'failed',
          error: message,
        },
      );
      code = EXIT.failed;
    }
  } catch (error) {
    if (!(error instanceof SyncAlreadyRunningError)) throw error;
    print(options, `another sync is running${error.runningRunId ? ` (${error.runningRunId})` : ''}`, {
      status: 'busy',
      runningRunId: error.runningRunId ?? null,
    });
    code = EXIT.busy;
  } finally {
    await client.connection.close();
  }
  process.exitCode = code;
}

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
    withOutputOptions(sync.command(kind).description(description)).action((options: SyncOptions) =>
      runAndReport(`${kind} sync`, options, (client, target) => startSync(client, target, kind, { trigger: 'cli' })),
    );
  }

  withOutputOptions(
    sync
      .command('incremental')
      .description('sync the entities Stash updated at or after --since')
      .requiredOption('--since <time>', 'RFC 3339 instant, e.g. 2025-01-31T18:00:00Z')
      .option('--types <list>', `comma-separated subset of ${ENTITY_TYPES.join(',')}`),
  ).action((options: SyncOptions) => {
    const problem = sinceProblem(options.since ?? '');
    if (problem) fail(problem, EXIT.usage);
    const entityTypes = parseTypes(options.types);
    return runAndReport('incremental sync', options, (client, target) =>
      startSync(client, target, 'incremental', {
        trigger: 'cli',
        since: options.since as string,
        ...(entityTypes ? { entityTypes } : {}),
      }),
    );
  });

  for (const type of ENTITY_TYPES) {
    withOutputOptions(
      sync.command(`${type} <id>`).description(`re-read one ${type} by id (runs beside a running sync)`),
    ).action((idText: string, options: SyncOptions) => {
      const id = Number(idText);
      if (!Number.isSafeInteger(id) || id <= 0)
        fail(`<id> must be a positive whole number (got "${idText}")`, EXIT.usage);
      return runAndReport(`${type} ${id} sync`, options, (client, target) =>
        startEntitySync(client, target, { entityType: type, id, trigger: 'cli' }),
      );
    });
  }
}
