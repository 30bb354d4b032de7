import { WorkflowFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import { connectClient, SyncAlreadyRunningError, startFullSync } from '../../temporal/sync-client.js';
import { EXIT, loadConfig } from '../shared.js';

interface SyncOptions {
  wait?: boolean;
  json?: boolean;
}

function print(options: SyncOptions, human: string, summary: Record<string, unknown>): void {
  if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${human}\n`);
}

export function registerSync(program: Command): void {
  const sync = program
    .command('sync')
    .description('start a sync (exit 0 success, 1 failure, 2 another sync is running)');
  sync
    .command('full')
    .description('sync every entity type from Stash, then post-process')
    .option('--wait', 'wait for the run to finish')
    .option('--json', 'print JSON; the last stdout line is the run summary')
    .action(async (options: SyncOptions) => {
      const config = loadConfig();
      const client = await connectClient({
        address: config.TEMPORAL_ADDRESS,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue: config.TEMPORAL_TASK_QUEUE,
      });
      let code: number = EXIT.ok;
      try {
        const started = await startFullSync(
          client,
          { taskQueue: config.TEMPORAL_TASK_QUEUE, workflowId: config.SYNC_WORKFLOW_ID },
          { trigger: 'cli' },
        );
        if (!options.wait) {
          print(options, `started full sync ${started.syncRunId}`, {
            runId: started.syncRunId,
            workflowId: started.workflowId,
            status: 'running',
          });
          return;
        }
        if (!options.json) process.stdout.write(`full sync ${started.syncRunId} running...\n`);
        try {
          const summary = await started.result();
          print(options, `full sync completed: ${summary.pages} pages`, { ...summary });
        } catch (error) {
          const cause = error instanceof WorkflowFailedError ? (error.cause?.cause ?? error.cause) : error;
          const message = cause instanceof Error ? cause.message : String(cause);
          print(options, `full sync failed: ${message}`, {
            runId: started.syncRunId,
            status: 'failed',
            error: message,
          });
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
    });
}
