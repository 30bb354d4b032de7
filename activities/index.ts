import type { TransactionSql } from '../db/client.js';
import { withSyncTransaction } from '../db/client.js';
import { POST_PROCESS_STEP_NAMES, type PostProcessStepName, stepNamesFor } from '../db/postprocess/plan.js';
import { type PostProcessScope, runPostProcessStep, type StepResult } from '../db/postprocess/steps.js';
import { changedTypesInRun, pruneHistory, type RunRecord, recordRunEnd, recordRunStart } from '../db/runs.js';
import type { FinishedRunStatus, SyncType } from '../db/vocabulary.js';
import { specFor } from '../stash/entities/index.js';
import type { EntityType } from '../stash/entity-types.js';
import type { SyncContext } from '../sync/context.js';
import { fetchAndApply } from '../sync/fetch-by-id.js';
import { type ReconcileResult, reconcileIfChanged, reconcileType, repairLinks } from '../sync/reconcile.js';
import { InvalidSinceError, sinceProblem, stashBoundFor } from '../sync/since.js';
import { probeSmartType, type SmartProbeResult } from '../sync/smart.js';
import {
  finishTypeSync,
  type PageResult,
  type PrepareInput,
  prepareTypeSync,
  syncPage,
  type TypeSyncState,
} from '../sync/type-sync.js';
import { activity } from './adapter.js';

export interface ActivityDependencies extends SyncContext {
  logRetentionDays: number;
  /** How far Stash's clock may run ahead of the worker's, for settling the high-water second. */
  clockSkewSeconds: number;
}

type RunScope = { runId: string; syncType: SyncType; entityType: EntityType };

/**
 * Temporal activities: thin adapters over the sync engine (sync/) and the repository (db/), each
 * wrapped in the one adapter (adapter.ts). Inputs and results are ids, cursors and counts, never
 * entity data or secrets.
 */
export function createActivities(deps: ActivityDependencies) {
  const inSyncTransaction = <T>(work: (tx: TransactionSql) => Promise<T>) => withSyncTransaction(deps.sql, work);
  return {
    recordRunStart: activity((run: RunRecord) => inSyncTransaction((tx) => recordRunStart(tx, run))),

    /** A scheduled tick that found a sync running: recorded, not started beside it. */
    recordSkippedRun: activity((run: RunRecord & { reason: string }) =>
      inSyncTransaction(async (tx) => {
        await recordRunStart(tx, run);
        await recordRunEnd(tx, run.id, 'skipped', run.reason);
      }),
    ),

    recordRunEnd: activity((input: { runId: string; status: FinishedRunStatus; error: string | null }) =>
      inSyncTransaction((tx) => recordRunEnd(tx, input.runId, input.status, input.error)),
    ),

    prepareTypeSync: activity(
      (input: PrepareInput, signals): Promise<TypeSyncState> => prepareTypeSync(deps, input, signals),
    ),

    syncPage: activity((state: TypeSyncState, signals): Promise<PageResult> => syncPage(deps, state, signals)),

    finishTypeSync: activity((state: TypeSyncState) => finishTypeSync(deps, state)),

    reconcileType: activity(
      (input: RunScope, signals): Promise<ReconcileResult> =>
        reconcileType(deps, input.runId, input.syncType, input.entityType, signals),
    ),

    reconcileIfChanged: activity((input: RunScope, signals) =>
      reconcileIfChanged(deps, input.runId, input.syncType, input.entityType, signals),
    ),

    probeSmartType: activity(
      (input: { runId: string; entityType: EntityType }, signals): Promise<SmartProbeResult> =>
        probeSmartType(deps, { ...input, clockSkewSeconds: deps.clockSkewSeconds }, signals),
    ),

    /** Converts a validated `since` into a bound in Stash's own format and offset. */
    resolveSince: activity((input: { entityType: EntityType; since: string }, signals) => {
      const problem = sinceProblem(input.since);
      if (problem) throw new InvalidSinceError(problem);
      return stashBoundFor(deps, input.entityType, input.since, signals);
    }),

    /** Re-reads one entity by id (soft-deleting it when Stash no longer has it). */
    syncEntity: activity(
      async (input: { runId: string; entityType: EntityType; id: number }, signals): Promise<{ found: boolean }> => {
        const spec = specFor(input.entityType);
        const applied = await fetchAndApply(deps, input.runId, 'specific', spec, [input.id], signals);
        return { found: applied > 0 };
      },
    ),

    changedTypesInRun: activity((input: { runId: string }) => changedTypesInRun(deps.sql, input.runId)),

    repairLinks: activity(
      (input: { runId: string; syncType: SyncType }, signals): Promise<{ refetched: number; rounds: number }> =>
        repairLinks(deps, input.runId, input.syncType, signals),
    ),

    /** Which post-processing steps to run, in order (db/postprocess/plan.ts decides). */
    planPostProcess: activity(
      async (input: { changedTypes: EntityType[] | 'all' }): Promise<PostProcessStepName[]> =>
        input.changedTypes === 'all' ? [...POST_PROCESS_STEP_NAMES] : stepNamesFor(input.changedTypes),
    ),

    postProcessStep: activity(
      (input: { step: PostProcessStepName; scope: PostProcessScope }): Promise<StepResult> =>
        runPostProcessStep(deps.sql, input.step, input.scope),
    ),

    /**
     * Retention after a run of any type: old sync_log rows and finished runs, bounded per call
     * (the asking run is running, so neither it nor its rows are pruned).
     */
    pruneSyncLog: activity((_input: { runId: string }, signals) =>
      pruneHistory(deps.sql, deps.logRetentionDays, { onBatch: () => signals.heartbeat() }),
    ),
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
