import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { dependencyStages, ENTITY_TYPES, type EntityType } from '../stash/entity-types.js';
import type { PageResult, TypeSyncState } from '../sync/type-sync.js';
import { progressQuery, type SyncProgress } from './progress.js';
import { bookkeepingActivities, longActivities, pageActivities } from './proxies.js';

export interface FullSyncInput {
  trigger?: string;
  /** Pages per workflow execution before continue-as-new (history stays small). */
  pageBudget?: number;
  /** Carried across continue-as-new; never set by callers. */
  resume?: FullSyncState;
}

export interface FullSyncState {
  runId: string;
  stage: number;
  types: Partial<Record<EntityType, TypeSyncState>>;
  finishedTypes: EntityType[];
  reconciled: EntityType[];
  repaired: boolean;
  postProcessed: string[];
  continuedAsNew: number;
}

export interface SyncRunSummary {
  runId: string;
  status: 'completed';
  syncType: 'full';
  pages: number;
  counts: Partial<Record<EntityType, TypeSyncState['counts']>>;
  deleted: number;
  postProcessed: string[];
  continuedAsNew: number;
}

const DEFAULT_PAGE_BUDGET = 300;

/**
 * Full sync: every type walked in dependency stages (independent types concurrently), then id
 * reconciliation (deletions and merges, which never bump updated_at), link repair, and the
 * shared post-processing steps. Progress lives in workflow state, in the `progress` query and in
 * sync_runs; continue-as-new carries it when the history grows.
 */
export async function fullSyncWorkflow(input: FullSyncInput = {}): Promise<SyncRunSummary> {
  const info = workflowInfo();
  const pageBudget = input.pageBudget ?? DEFAULT_PAGE_BUDGET;
  const state: FullSyncState = input.resume ?? {
    runId: `${info.workflowId}/${info.firstExecutionRunId}`,
    stage: 0,
    types: {},
    finishedTypes: [],
    reconciled: [],
    repaired: false,
    postProcessed: [],
    continuedAsNew: 0,
  };
  const progress: SyncProgress = {
    runId: state.runId,
    syncType: 'full',
    phase: 'starting',
    activeTypes: [],
    types: {},
    pagesThisExecution: 0,
    continuedAsNew: state.continuedAsNew,
    errors: [],
  };
  const refreshTypes = () => {
    for (const type of ENTITY_TYPES) {
      const typeState = state.types[type];
      progress.types[type] = typeState
        ? { phase: typeState.phase, pages: typeState.pages, ...typeState.counts }
        : { phase: 'pending', pages: 0, fetched: 0, created: 0, updated: 0, unchanged: 0, failed: 0, deleted: 0 };
    }
  };
  refreshTypes();
  setHandler(progressQuery, () => progress);

  const outOfBudget = () => progress.pagesThisExecution >= pageBudget || workflowInfo().continueAsNewSuggested;

  /**
   * Pages one type while it is in `phase` (its walk, or its catch-up pass); stops early when the
   * execution should continue as new.
   */
  async function syncType(type: EntityType, phase: 'walk' | 'catchup'): Promise<void> {
    let typeState: TypeSyncState =
      state.types[type] ??
      (await pageActivities.prepareTypeSync({
        runId: state.runId,
        syncType: 'full',
        entityType: type,
        since: null,
        catchUp: true,
      }));
    state.types[type] = typeState;
    while (typeState.phase === phase) {
      if (outOfBudget()) return;
      const result: PageResult = await pageActivities.syncPage(typeState);
      typeState = result.state;
      state.types[type] = typeState;
      progress.pagesThisExecution += 1;
      refreshTypes();
    }
  }

  /** Runs the phases; returns false when it stopped early to continue as new. */
  async function run(): Promise<boolean> {
    if (!input.resume) {
      await bookkeepingActivities.recordRunStart({
        id: state.runId,
        workflowId: info.workflowId,
        temporalRunId: info.firstExecutionRunId,
        syncType: 'full',
        trigger: input.trigger ?? 'manual',
      });
    }
    progress.phase = 'entities';
    const stages = dependencyStages();
    for (; state.stage < stages.length; state.stage += 1) {
      const stage = stages[state.stage] ?? [];
      progress.activeTypes = stage;
      await Promise.all(stage.map((type) => syncType(type, 'walk')));
      if (stage.some((type) => state.types[type]?.phase === 'walk')) return false;
    }
    // Catch-up after ALL walks: rows of an early type changed while later types were walked
    // (a merge bumps its destination tag while scenes are paged) are read again here.
    progress.activeTypes = [...ENTITY_TYPES];
    await Promise.all(ENTITY_TYPES.map((type) => syncType(type, 'catchup')));
    if (ENTITY_TYPES.some((type) => state.types[type]?.phase !== 'done')) return false;
    for (const type of ENTITY_TYPES) {
      const typeState = state.types[type];
      if (!typeState || state.finishedTypes.includes(type)) continue;
      await pageActivities.finishTypeSync(typeState);
      state.finishedTypes.push(type);
    }
    progress.activeTypes = [];

    progress.phase = 'reconcile';
    for (const type of ENTITY_TYPES) {
      if (state.reconciled.includes(type)) continue;
      const result = await longActivities.reconcileType({ runId: state.runId, syncType: 'full', entityType: type });
      const typeProgress = progress.types[type];
      if (typeProgress) typeProgress.deleted += result.deleted;
      state.reconciled.push(type);
    }
    progress.phase = 'repair';
    if (!state.repaired) {
      await longActivities.repairLinks({ runId: state.runId, syncType: 'full' });
      state.repaired = true;
    }

    progress.phase = 'postprocess';
    const steps = await bookkeepingActivities.planPostProcess({ changedTypes: 'all' });
    for (const step of steps) {
      if (state.postProcessed.includes(step)) continue;
      await longActivities.postProcessStep({ step, scope: { kind: 'all' } });
      state.postProcessed.push(step);
    }
    await bookkeepingActivities.pruneSyncLog();
    return true;
  }

  let finished: boolean;
  try {
    finished = await run();
  } catch (error) {
    const cancelled = isCancellation(error);
    const message = error instanceof Error ? error.message : String(error);
    progress.errors.push(message);
    // Record the end even though the workflow is being cancelled: cleanup must not be cancelled.
    await CancellationScope.nonCancellable(() =>
      bookkeepingActivities.recordRunEnd({
        runId: state.runId,
        status: cancelled ? 'cancelled' : 'failed',
        error: cancelled ? 'cancelled' : describeFailure(error),
      }),
    );
    throw error;
  }

  if (!finished) {
    await condition(allHandlersFinished);
    await continueAsNew<typeof fullSyncWorkflow>({
      ...input,
      resume: { ...state, continuedAsNew: state.continuedAsNew + 1 },
    });
  }

  await bookkeepingActivities.recordRunEnd({ runId: state.runId, status: 'completed', error: null });
  progress.phase = 'completed';
  const counts: SyncRunSummary['counts'] = {};
  let pages = 0;
  for (const type of ENTITY_TYPES) {
    const typeState = state.types[type];
    if (!typeState) continue;
    counts[type] = typeState.counts;
    pages += typeState.pages;
  }
  return {
    runId: state.runId,
    status: 'completed',
    syncType: 'full',
    pages,
    counts,
    deleted: Object.values(progress.types).reduce((sum, type) => sum + (type?.deleted ?? 0), 0),
    postProcessed: state.postProcessed,
    continuedAsNew: state.continuedAsNew,
  };
}

/** The innermost cause of an activity failure is the readable one. */
function describeFailure(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
