import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, startChild, WorkflowIdReusePolicy, workflowInfo } from '@temporalio/workflow';
import { syncRunId } from '../temporal/run-identity.js';
import { bookkeepingActivities } from './proxies.js';
import { runSummary, startAttributes } from './search-attributes.js';
import { smartSyncWorkflow } from './sync-run.js';

export interface ScheduledSmartSyncInput {
  /** The fixed id of the one running sync (SYNC_WORKFLOW_ID). */
  syncWorkflowId: string;
}

export interface ScheduledSmartSyncResult {
  started: boolean;
  /** sync_runs.id of the started smart sync, or of this skipped tick. */
  runId: string;
}

/**
 * What the Temporal Schedule starts. A schedule appends the tick's time to the workflow id, so it
 * cannot hold the one-sync-at-a-time lock itself: this small workflow tries to start the smart
 * sync under the fixed id, and when a sync is already running records the tick as skipped.
 */
export async function scheduledSmartSyncWorkflow(input: ScheduledSmartSyncInput): Promise<ScheduledSmartSyncResult> {
  const info = workflowInfo();
  try {
    const child = await startChild(smartSyncWorkflow, {
      workflowId: input.syncWorkflowId,
      args: [{ trigger: 'schedule' }],
      // The sync outlives this tick's workflow, which ends as soon as the sync has started.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      staticSummary: runSummary('smart', 'schedule'),
      typedSearchAttributes: startAttributes('smart', 'schedule'),
    });
    return { started: true, runId: syncRunId(input.syncWorkflowId, child.firstExecutionRunId) };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    const runId = syncRunId(info.workflowId, info.firstExecutionRunId);
    await bookkeepingActivities.recordSkippedRun({
      id: runId,
      workflowId: info.workflowId,
      temporalRunId: info.firstExecutionRunId,
      syncType: 'smart',
      trigger: 'schedule',
      reason: `skipped: another sync (${input.syncWorkflowId}) was running`,
    });
    return { started: false, runId };
  }
}
