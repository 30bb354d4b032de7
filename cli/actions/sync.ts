import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { MainSyncType } from '../../db/vocabulary.js';
import type { EntityType } from '../../stash/entity-types.js';
import {
  connectClient,
  type StartedSync,
  SyncAlreadyRunningError,
  startEntitySync,
  startSync,
} from '../../temporal/sync-client.js';
import type { SyncRunSummary } from '../../workflows/sync-run.js';
import { EXIT } from '../shared.js';
import { loadConfig } from './config.js';

export interface SyncOptions {
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
  /** A main sync's kind: its progress is shown while waiting (cli/actions/progress.ts). */
  kind?: MainSyncType,
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
    const follower = kind
      ? await (await import('./progress.js')).followRun(
          config,
          client,
          { label, kind, workflowId: started.workflowId, runId: started.runId, syncRunId: started.syncRunId },
          options.json === true,
        )
      : null;
    try {
      const summary = await started.result();
      await follower?.finish({ summary: summary as SyncRunSummary });
      print(options, `${label} completed: ${JSON.stringify(summary)}`, summary);
    } catch (error) {
      // A cancelled run ends with a CancelledFailure as the cause (`stash-mirror cancel`, the API, the UI).
      const cancelled = error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure;
      const cause = error instanceof WorkflowFailedError ? (error.cause?.cause ?? error.cause) : error;
      const message = cause instanceof Error ? cause.message : String(cause);
      const outcome = cancelled ? 'cancelled' : 'failed';
      await follower?.finish({ status: outcome });
      print(options, `${label} ${outcome}: ${message}`, { runId: started.syncRunId, status: outcome, error: message });
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

/** `sync full|smart|incremental`: the options are checked by the command already. */
export function runSync(
  kind: MainSyncType,
  options: SyncOptions,
  scope: { since?: string; entityTypes?: EntityType[] } = {},
): Promise<void> {
  return runAndReport(
    `${kind} sync`,
    options,
    (client, target) => startSync(client, target, kind, { trigger: 'cli', ...scope }),
    kind,
  );
}

/** `sync <type> <id>`: re-reads one entity. */
export function runEntitySync(entityType: EntityType, id: number, options: SyncOptions): Promise<void> {
  return runAndReport(`${entityType} ${id} sync`, options, (client, target) =>
    startEntitySync(client, target, { entityType, id, trigger: 'cli' }),
  );
}
