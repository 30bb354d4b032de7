import type { Client } from '@temporalio/client';
import type { AppConfig } from '../../config/env.js';
import type { Sql } from '../../db/client.js';
import { findRunRow } from '../../db/runs.js';
import { describeChain, parseSyncRunId, runningSyncRunId } from '../../temporal/run-identity.js';
import { syncTypeOfWorkflow, withDeadline } from '../../temporal/sync-client.js';
import { EXIT, fail } from '../shared.js';
import { loadConfig } from './config.js';
import { printJson, requireTemporal, withDatabase } from './session.js';

interface Target {
  runId: string;
  workflowId: string;
  firstRunId: string;
  type: string;
}

/**
 * `stash-mirror cancel [run]`: like the API, it cancels the chain that the run's first execution
 * started (the workflow id is fixed and a run may have continued as new), and only while Temporal
 * says that chain still runs. Without a run: the main sync running now.
 */
export async function runCancel(run: string | undefined, options: { wait?: boolean; json?: boolean }): Promise<void> {
  const wanted = run?.trim();
  if (wanted === '') fail('[run] must not be empty (omit it to cancel the running sync)', EXIT.usage);
  const config = loadConfig();
  const client = await requireTemporal(config);
  try {
    await withDatabase(config, async ({ sql }) => {
      const target = await resolve(config, sql, client, wanted);
      const handle = client.workflow.getHandle(target.workflowId, undefined, {
        firstExecutionRunId: target.firstRunId,
      });
      await withDeadline(client, 5000, () => handle.cancel());
      const label = `${target.type} sync ${target.runId}`;
      if (!options.wait) {
        if (options.json) printJson({ runId: target.runId, status: 'cancelling' });
        else process.stdout.write(`cancelling ${label}: its committed pages are kept; its next run resumes there\n`);
        return;
      }
      if (!options.json) process.stdout.write(`cancelling ${label}...\n`);
      await handle.result().catch(() => {});
      const status = await finalStatus(sql, client, target);
      if (options.json) printJson({ runId: target.runId, status });
      else process.stdout.write(`${label} ${status}\n`);
    });
  } finally {
    await client.connection.close();
  }
}

async function resolve(config: AppConfig, sql: Sql, client: Client, wanted: string | undefined): Promise<Target> {
  let runId: string | null | undefined = wanted;
  if (!runId) {
    runId = await withDeadline(client, 5000, () => runningSyncRunId(client, config.SYNC_WORKFLOW_ID));
    if (!runId) fail('no sync is running (give a run id to cancel a single-entity sync)');
  }
  // sync_runs knows the run by its id or its Temporal run id alone; a run no worker has recorded yet only by its id.
  const row = await findRunRow(sql, runId);
  if (row && row.status !== 'running') fail(`run ${row.id} is ${row.status}, not running`);
  const parts = row ? { workflowId: row.workflow_id, firstRunId: row.temporal_run_id } : parseSyncRunId(runId);
  const chain = parts
    ? await withDeadline(client, 5000, () => describeChain(client, parts.workflowId, parts.firstRunId))
    : null;
  if (!parts || !chain) fail(`no sync run ${runId} (\`stash-mirror runs\` lists them)`);
  if (chain.status !== 'RUNNING')
    fail(`run ${chain.syncRunId} is no longer running in Temporal (${chain.status.toLowerCase()})`);
  return {
    runId: chain.syncRunId,
    workflowId: parts.workflowId,
    firstRunId: parts.firstRunId,
    type: row?.sync_type ?? syncTypeOfWorkflow(chain.workflowType) ?? chain.workflowType,
  };
}

/** The run's recorded end, or Temporal's word when the run did not record one. */
async function finalStatus(sql: Sql, client: Client, target: Target): Promise<string> {
  const row = await findRunRow(sql, target.runId);
  if (row && row.status !== 'running') return row.status;
  const chain = await describeChain(client, target.workflowId, target.firstRunId).catch(() => null);
  return chain?.status.toLowerCase() ?? 'unknown';
}
