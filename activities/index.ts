import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  pruneLog,
  type RunRecord,
  type RunStatus,
  recordRunEnd,
  recordRunStart,
  type SyncType,
  changedTypesInRun as typesChangedInRun,
} from '../db/bookkeeping.js';
import { withSyncTransaction } from '../db/client.js';
import {
  POST_PROCESS_STEPS,
  type PostProcessScope,
  runPostProcessStep,
  type StepResult,
} from '../db/postprocess/steps.js';
import { specFor } from '../stash/entities/index.js';
import type { EntityType } from '../stash/entity-types.js';
import type { SyncContext, WorkSignals } from '../sync/context.js';
import { fetchAndApply } from '../sync/fetch-by-id.js';
import { type ReconcileResult, reconcileIfChanged, reconcileType, repairLinks } from '../sync/reconcile.js';
import { sinceProblem, stashBoundFor } from '../sync/since.js';
import { probeSmartType, type SmartProbeResult } from '../sync/smart.js';
import {
  finishTypeSync,
  type PageResult,
  type PrepareInput,
  prepareTypeSync,
  syncPage,
  type TypeSyncState,
} from '../sync/type-sync.js';

export interface ActivityDependencies extends SyncContext {
  logRetentionDays: number;
  /** How far Stash's clock may run ahead of the worker's, for settling the high-water second. */
  clockSkewSeconds: number;
}

/** Error types retrying cannot fix: the workflow fails (and records why) instead of retrying. */
export const NON_RETRYABLE_ERROR_TYPES = [
  'StashAuthError',
  'StashEndpointError',
  'StashQueryError',
  'MassDeletionRefusedError',
  'EntityMappingError',
  'InvalidSinceError',
] as const;

/**
 * Heartbeats on a timer while `work` runs, so a slow Stash answer does not look like a dead
 * worker, and hands the activity's cancellation signal to the work (it reaches fetch).
 */
async function withSignals<T>(work: (signals: WorkSignals) => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), 5_000);
  try {
    return await work({ heartbeat: (details) => context.heartbeat(details), signal: context.cancellationSignal });
  } catch (error) {
    if (error instanceof Error && (NON_RETRYABLE_ERROR_TYPES as readonly string[]).includes(error.name)) {
      throw ApplicationFailure.nonRetryable(error.message, error.name);
    }
    throw error;
  } finally {
    clearInterval(timer);
  }
}

/**
 * Temporal activities: thin adapters over the sync engine (sync/) and the repository (db/).
 * Inputs and results are ids, cursors and counts, never entity data or secrets.
 */
export function createActivities(deps: ActivityDependencies) {
  return {
    async recordRunStart(run: RunRecord): Promise<void> {
      await withSyncTransaction(deps.sql, (tx) => recordRunStart(tx, run));
    },

    /** A scheduled tick that found a sync running: recorded, not started beside it. */
    async recordSkippedRun(run: RunRecord & { reason: string }): Promise<void> {
      await withSyncTransaction(deps.sql, async (tx) => {
        await recordRunStart(tx, run);
        await recordRunEnd(tx, run.id, 'skipped', run.reason);
      });
    },

    async recordRunEnd(input: {
      runId: string;
      status: Exclude<RunStatus, 'running'>;
      error: string | null;
    }): Promise<void> {
      await withSyncTransaction(deps.sql, (tx) => recordRunEnd(tx, input.runId, input.status, input.error));
    },

    async prepareTypeSync(input: PrepareInput): Promise<TypeSyncState> {
      return withSignals((signals) => prepareTypeSync(deps, input, signals));
    },

    async syncPage(state: TypeSyncState): Promise<PageResult> {
      return withSignals((signals) => syncPage(deps, state, signals));
    },

    async finishTypeSync(state: TypeSyncState): Promise<void> {
      await finishTypeSync(deps, state);
    },

    async reconcileType(input: {
      runId: string;
      syncType: SyncType;
      entityType: EntityType;
    }): Promise<ReconcileResult> {
      return withSignals((signals) => reconcileType(deps, input.runId, input.syncType, input.entityType, signals));
    },

    async reconcileIfChanged(input: { runId: string; syncType: SyncType; entityType: EntityType }) {
      return withSignals((signals) => reconcileIfChanged(deps, input.runId, input.syncType, input.entityType, signals));
    },

    async probeSmartType(input: { runId: string; entityType: EntityType }): Promise<SmartProbeResult> {
      return withSignals((signals) =>
        probeSmartType(deps, { ...input, clockSkewSeconds: deps.clockSkewSeconds }, signals),
      );
    },

    /** Converts a validated `since` into a bound in Stash's own format and offset. */
    async resolveSince(input: { entityType: EntityType; since: string }): Promise<string> {
      const problem = sinceProblem(input.since);
      if (problem) throw ApplicationFailure.nonRetryable(problem, 'InvalidSinceError');
      return withSignals((signals) => stashBoundFor(deps, input.entityType, input.since, signals));
    },

    /** Re-reads one entity by id (soft-deleting it when Stash no longer has it). */
    async syncEntity(input: { runId: string; entityType: EntityType; id: number }): Promise<{ found: boolean }> {
      return withSignals(async (signals) => {
        const applied = await fetchAndApply(
          deps,
          input.runId,
          'specific',
          specFor(input.entityType),
          [input.id],
          signals,
        );
        return { found: applied > 0 };
      });
    },

    async changedTypesInRun(input: { runId: string }): Promise<EntityType[]> {
      return typesChangedInRun(deps.sql, input.runId);
    },

    async repairLinks(input: { runId: string; syncType: SyncType }): Promise<{ refetched: number; rounds: number }> {
      return withSignals((signals) => repairLinks(deps, input.runId, input.syncType, signals));
    },

    /** Which post-processing steps to run: the one shared list, filtered by what changed. */
    async planPostProcess(input: { changedTypes: EntityType[] | 'all' }): Promise<string[]> {
      return POST_PROCESS_STEPS.filter(
        (step) => input.changedTypes === 'all' || step.runsWhen(new Set(input.changedTypes)),
      ).map((step) => step.name);
    },

    async postProcessStep(input: { step: string; scope: PostProcessScope }): Promise<StepResult> {
      return withSignals(() => runPostProcessStep(deps.sql, input.step as never, input.scope));
    },

    async pruneSyncLog(): Promise<number> {
      return withSyncTransaction(deps.sql, (tx) => pruneLog(tx, deps.logRetentionDays));
    },
  };
}

export type SyncActivities = ReturnType<typeof createActivities>;
