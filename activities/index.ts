import type { TransactionSql } from '../db/client.js';
import { withSyncTransaction } from '../db/client.js';
import { POST_PROCESS_STEP_NAMES, type PostProcessStepName, stepNamesFor } from '../db/postprocess/plan.js';
import { type PostProcessScope, planRunSteps, runPostProcessStep, type StepResult } from '../db/postprocess/steps.js';
import { changedTypesInRun, pruneHistory, type RunRecord, recordRunEnd, recordRunStart } from '../db/runs.js';
import type { WalkKey } from '../db/sync-walks.js';
import type { FinishedRunStatus, SyncType } from '../db/vocabulary.js';
import { specFor } from '../stash/entities/index.js';
import type { EntityType } from '../stash/entity-types.js';
import { DEFAULT_STASH_UNAVAILABLE_BUDGET_SECONDS, outageError } from '../stash/outage.js';
import type { SyncContext } from '../sync/context.js';
import { fetchAndApply } from '../sync/fetch-by-id.js';
import {
  type ReconcileResult,
  reconcileAndRepair,
  reconcileIfChanged,
  reconcileType,
  repairLinks,
} from '../sync/reconcile.js';
import { InvalidSinceError, sinceProblem, stashBoundFor } from '../sync/since.js';
import { probeSmartType, probeSmartTypes, type SmartProbeResult } from '../sync/smart.js';
import {
  completeWalkPhase,
  finishTypeSync,
  type PageResult,
  type PrepareInput,
  prepareTypeSync,
  syncPage,
  type TypeSyncState,
} from '../sync/type-sync.js';
import { type WalkResult, walkPages } from '../sync/walk.js';
import { activityAdapter } from './adapter.js';
import { endRun, fenced, type LeaseDependencies, startRun } from './run-lease.js';

export interface ActivityDependencies extends SyncContext {
  logRetentionDays: number;
  /** How far Stash's clock may run ahead of the worker's, for settling the high-water second. */
  clockSkewSeconds: number;
  /** STASH_UNAVAILABLE_BUDGET_SECONDS: how long an unreachable Stash is retried before the run fails (default 900). */
  stashUnavailableBudgetSeconds?: number;
  /** The run lease's Temporal client and TTL (activities/run-lease.ts). */
  temporal?: LeaseDependencies['temporal'];
  leaseTtlSeconds?: number;
}

type RunScope = { runId: string; syncType: SyncType; entityType: EntityType };

/**
 * Temporal activities: thin adapters over the sync engine (sync/) and the repository (db/), each
 * wrapped in the one adapter (adapter.ts). Inputs and results are ids, cursors and counts, never
 * entity data or secrets.
 */
export function createActivities(deps: ActivityDependencies) {
  // Every activity stops retrying an unreachable Stash once the budget is spent (stash/outage.ts).
  const budgetSeconds = deps.stashUnavailableBudgetSeconds ?? DEFAULT_STASH_UNAVAILABLE_BUDGET_SECONDS;
  const activity = activityAdapter({ giveUp: (error, timing) => outageError(error, timing, budgetSeconds) });
  const inSyncTransaction = <T>(work: (tx: TransactionSql) => Promise<T>) => withSyncTransaction(deps.sql, work);
  return {
    /** A main sync also takes the database's run lease here, or fails naming its holder (run-lease.ts). */
    recordRunStart: activity((run: RunRecord) => startRun(deps, run)),

    /** A scheduled tick that found a sync running: recorded, not started beside it. */
    recordSkippedRun: activity((run: RunRecord & { reason: string }) =>
      inSyncTransaction(async (tx) => {
        await recordRunStart(tx, run);
        await recordRunEnd(tx, run.id, 'skipped', run.reason);
      }),
    ),

    recordRunEnd: activity((input: { runId: string; status: FinishedRunStatus; error: string | null }) =>
      endRun(deps.sql, input.runId, input.status, input.error),
    ),

    prepareTypeSync: activity(
      (input: PrepareInput, signals): Promise<TypeSyncState> =>
        fenced(input, () => prepareTypeSync(deps, input, signals)),
    ),

    syncPage: activity(
      (state: TypeSyncState, signals): Promise<PageResult> => fenced(state, () => syncPage(deps, state, signals)),
    ),

    finishTypeSync: activity((state: TypeSyncState) => fenced(state, () => finishTypeSync(deps, state))),

    reconcileType: activity(
      (input: RunScope, signals): Promise<ReconcileResult> =>
        fenced(input, () => reconcileType(deps, input.runId, input.syncType, input.entityType, signals)),
    ),

    reconcileIfChanged: activity((input: RunScope, signals) =>
      fenced(input, () => reconcileIfChanged(deps, input.runId, input.syncType, input.entityType, signals)),
    ),

    probeSmartType: activity(
      (input: { runId: string; entityType: EntityType }, signals): Promise<SmartProbeResult> =>
        fenced({ runId: input.runId, syncType: 'smart' }, () =>
          probeSmartType(deps, { ...input, clockSkewSeconds: deps.clockSkewSeconds }, signals),
        ),
    ),

    /** Converts a validated `since` into a bound in Stash's own format and offset. */
    resolveSince: activity((input: { entityType: EntityType; since: string }, signals) => {
      const problem = sinceProblem(input.since);
      if (problem) throw new InvalidSinceError(problem);
      return stashBoundFor(deps, input.entityType, input.since, signals);
    }),

    /** Re-reads one entity by id (soft-deleting it when Stash no longer has it). Not fenced: beside the main sync. */
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
        fenced(input, () => repairLinks(deps, input.runId, input.syncType, signals)),
    ),

    /** Which post-processing steps to run, in order (db/postprocess/plan.ts decides). */
    planPostProcess: activity(
      async (input: { changedTypes: EntityType[] | 'all' }): Promise<PostProcessStepName[]> =>
        input.changedTypes === 'all' ? [...POST_PROCESS_STEP_NAMES] : stepNamesFor(input.changedTypes),
    ),

    /** `run`: the main sync asking, whose lease fences the step (absent in executions from before the lease). */
    postProcessStep: activity(
      (input: {
        step: PostProcessStepName;
        scope: PostProcessScope;
        run?: { runId: string; syncType: SyncType };
      }): Promise<StepResult> => fenced(input.run, () => runPostProcessStep(deps.sql, input.step, input.scope)),
    ),

    // ---- walks (workflows started since the walks patch; see workflows/patches.ts) -----------

    /** Prepares a type's sync (resolving an incremental `since` in Stash's terms first). */
    prepareType: activity(
      async (input: Omit<PrepareInput, 'since'> & { sinceInstant: string | null }, signals): Promise<TypeSyncState> => {
        let since: string | null = null;
        if (input.sinceInstant !== null) {
          const problem = sinceProblem(input.sinceInstant);
          if (problem) throw new InvalidSinceError(problem);
          since = await stashBoundFor(deps, input.entityType, input.sinceInstant, signals);
        }
        const { sinceInstant: _instant, ...prepare } = input;
        return fenced(input, () => prepareTypeSync(deps, { ...prepare, since }, signals));
      },
    ),

    /** Reads one walk for a while (a batch of pages, each committed on its own); called until done. */
    walk: activity(
      (input: WalkKey & { runId: string }, signals): Promise<WalkResult> =>
        fenced(input, () => walkPages(deps, input, signals, { ms: WALK_BUDGET_MS })),
    ),

    /** Ends a phase whose walks are done: catch-up next, or the type finished (mark, history row). */
    completeWalkPhase: activity(
      (input: { runId: string; syncType: SyncType; entityType: EntityType }): Promise<TypeSyncState> =>
        fenced(input, () => completeWalkPhase(deps, input)),
    ),

    probeSmartTypes: activity((input: { runId: string; entityTypes: EntityType[] }, signals) =>
      fenced({ runId: input.runId, syncType: 'smart' }, () =>
        probeSmartTypes(deps, { ...input, clockSkewSeconds: deps.clockSkewSeconds }, signals),
      ),
    ),

    reconcileAndRepair: activity((input: { runId: string; syncType: SyncType; entityTypes: EntityType[] }, signals) =>
      fenced(input, () => reconcileAndRepair(deps, input.runId, input.syncType, input.entityTypes, signals)),
    ),

    /** The post-processing steps this run needs (none after a run that changed nothing). */
    planRunPostProcess: activity(
      (input: { scope: PostProcessScope }): Promise<PostProcessStepName[]> => planRunSteps(deps.sql, input.scope),
    ),

    /** A completed run: retention first (bounded), then its end recorded. */
    completeRun: activity(async (input: { runId: string }, signals) => {
      await pruneHistory(deps.sql, deps.logRetentionDays, { onBatch: () => signals.heartbeat() });
      await endRun(deps.sql, input.runId, 'completed', null);
    }),

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

/** How long one `walk` call reads pages before it hands back (progress and history stay fresh). */
const WALK_BUDGET_MS = 20_000;
