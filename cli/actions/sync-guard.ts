/**
 * What the maintenance commands (reset, postprocess) check before they write: that no main sync
 * runs. The lock is Temporal's (the fixed workflow id SYNC_WORKFLOW_ID, one sync at a time), so
 * Temporal is asked first; when it cannot be reached, sync_runs' newest 'running' row of that id
 * stands in for it. Single-entity syncs do not block: they never touch sync_state or sync_walks,
 * and their post-processing steps serialize with ours on an advisory lock.
 */
import type { AppConfig } from '../../config/env.js';
import type { Sql } from '../../db/client.js';
import { runningRunRow } from '../../db/runs.js';
import { runningSyncRunId } from '../../temporal/run-identity.js';
import { withDeadline } from '../../temporal/sync-client.js';
import { EXIT, fail } from '../shared.js';
import { connectTemporal, messageOf } from './session.js';

/** Ends the process with one line and exit 2 when a sync is running; `what` names the command. */
export async function refuseWhileSyncing(config: AppConfig, sql: Sql, what: string): Promise<void> {
  const workflowId = config.SYNC_WORKFLOW_ID;
  let unreachable: string;
  try {
    const client = await connectTemporal(config);
    try {
      const runId = await withDeadline(client, 3000, () => runningSyncRunId(client, workflowId));
      if (runId) busy(runId, what);
      return;
    } finally {
      await client.connection.close().catch(() => {});
    }
  } catch (error) {
    unreachable = messageOf(error);
  }
  const row = await runningRunRow(sql, workflowId);
  if (row) {
    fail(
      `sync run ${row.id} is recorded as running and Temporal at ${config.TEMPORAL_ADDRESS} cannot be asked whether it still is (${unreachable}); ${what} waits until Temporal answers`,
      EXIT.busy,
    );
  }
  process.stderr.write(
    `stash-mirror: Temporal at ${config.TEMPORAL_ADDRESS} is not reachable (${unreachable}); no sync is recorded as running, going on\n`,
  );
}

function busy(runId: string, what: string): never {
  fail(
    `a sync is running (${runId}): ${what} refuses to run beside it; wait for it to end or \`stash-mirror cancel\` it`,
    EXIT.busy,
  );
}
