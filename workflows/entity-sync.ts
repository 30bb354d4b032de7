import { CancellationScope, isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import type { EntityType } from '../stash/entity-types.js';
import { syncRunId } from '../temporal/run-identity.js';
import { PRUNE_AFTER_EVERY_RUN } from './patches.js';
import { bookkeepingActivities, longActivities, pageActivities } from './proxies.js';
import { describeFailure } from './sync-run.js';

export interface EntitySyncInput {
  entityType: EntityType;
  id: number;
  trigger?: string;
}

export interface EntitySyncSummary {
  runId: string;
  status: 'completed';
  syncType: 'specific';
  entityType: EntityType;
  id: number;
  /** false: Stash no longer has it (it was soft-deleted). */
  found: boolean;
  postProcessed: string[];
}

/**
 * Re-reads one entity by id, logged as sync_type `specific`. It runs BESIDE a running sync
 * (its own workflow id): pages lock their rows in id order and never overwrite a newer copy
 * with an older one, so the two cannot corrupt each other (docs/sync-design.md).
 */
export async function syncEntityWorkflow(input: EntitySyncInput): Promise<EntitySyncSummary> {
  const info = workflowInfo();
  const runId = syncRunId(info.workflowId, info.firstExecutionRunId);
  await bookkeepingActivities.recordRunStart({
    id: runId,
    workflowId: info.workflowId,
    temporalRunId: info.firstExecutionRunId,
    syncType: 'specific',
    trigger: input.trigger ?? 'manual',
  });
  try {
    const { found } = await pageActivities.syncEntity({ runId, entityType: input.entityType, id: input.id });
    if (!found) await longActivities.repairLinks({ runId, syncType: 'specific' });
    const changedTypes = await bookkeepingActivities.changedTypesInRun({ runId });
    const steps = await bookkeepingActivities.planPostProcess({ changedTypes });
    for (const step of steps) await longActivities.postProcessStep({ step, scope: { kind: 'run', runId } });
    if (patched(PRUNE_AFTER_EVERY_RUN)) await bookkeepingActivities.pruneSyncLog({ runId });
    // Recorded even if a cancellation arrives now: the work is done and committed.
    await CancellationScope.nonCancellable(() =>
      bookkeepingActivities.recordRunEnd({ runId, status: 'completed', error: null }),
    );
    return {
      runId,
      status: 'completed',
      syncType: 'specific',
      entityType: input.entityType,
      id: input.id,
      found,
      postProcessed: steps,
    };
  } catch (error) {
    const cancelled = isCancellation(error);
    await CancellationScope.nonCancellable(() =>
      bookkeepingActivities.recordRunEnd({
        runId,
        status: cancelled ? 'cancelled' : 'failed',
        error: cancelled ? 'cancelled' : describeFailure(error),
      }),
    );
    throw error;
  }
}
