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

export type SyncKind = 'full' | 'incremental' | 'smart';

export interface SyncInput {
  trigger?: string;
  /** Pages per workflow execution before continue-as-new (history stays small). */
  pageBudget?: number;
  /** Incremental only: RFC 3339 instant; rows updated at or after it are synced. */
  since?: string;
  /** Incremental only: restrict to these types (default all seven). */
  entityTypes?: EntityType[];
  /** Carried across continue-as-new; never set by callers. */
  resume?: SyncState;
}

export type FullSyncInput = Omit<SyncInput, 'since' | 'entityTypes'>;
export type IncrementalSyncInput = SyncInput & { since: string };

export interface SyncState {
  runId: string;
  stage: number;
  types: Partial<Record<EntityType, TypeSyncState>>;
  /** Types a smart sync found nothing new for: no walk, no mark change. */
  skipped: EntityType[];
  finishedTypes: EntityType[];
  reconciled: EntityType[];
  deleted: number;
  repaired: boolean;
  postProcessed: string[];
  continuedAsNew: number;
}

export interface SyncRunSummary {
  runId: string;
  status: 'completed';
  syncType: SyncKind;
  pages: number;
  counts: Partial<Record<EntityType, TypeSyncState['counts']>>;
  skippedTypes: EntityType[];
  deleted: number;
  postProcessed: string[];
  continuedAsNew: number;
}

const DEFAULT_PAGE_BUDGET = 300;

/** Full sync: every type walked, caught up, reconciled by id; derived data recomputed in full. */
export function fullSyncWorkflow(input: FullSyncInput = {}): Promise<SyncRunSummary> {
  return runSync('full', input);
}

/** Incremental sync: the rows updated since an instant, then the everyday deletion check. */
export function incrementalSyncWorkflow(input: IncrementalSyncInput): Promise<SyncRunSummary> {
  return runSync('incremental', input);
}

/** Smart sync: per type, from its own high-water mark; types with nothing new cost a count query. */
export function smartSyncWorkflow(input: SyncInput = {}): Promise<SyncRunSummary> {
  return runSync('smart', input);
}

/**
 * The one orchestration behind all three modes: walk types in dependency stages (independent
 * types concurrently), catch up (full), reconcile ids (full: always; otherwise only on a count
 * signal), repair links to vanished entities, then the shared post-processing steps. Progress is
 * in workflow state, in the `progress` query and in sync_runs; continue-as-new carries it.
 */
async function runSync(kind: SyncKind, input: SyncInput): Promise<SyncRunSummary> {
  const info = workflowInfo();
  const pageBudget = input.pageBudget ?? DEFAULT_PAGE_BUDGET;
  const selected = kind === 'incremental' && input.entityTypes?.length ? input.entityTypes : [...ENTITY_TYPES];
  const state: SyncState = input.resume ?? {
    runId: `${info.workflowId}/${info.firstExecutionRunId}`,
    stage: 0,
    types: {},
    skipped: [],
    finishedTypes: [],
    reconciled: [],
    deleted: 0,
    repaired: false,
    postProcessed: [],
    continuedAsNew: 0,
  };
  const progress: SyncProgress = {
    runId: state.runId,
    syncType: kind,
    phase: 'starting',
    activeTypes: [],
    types: {},
    pagesThisExecution: 0,
    continuedAsNew: state.continuedAsNew,
    errors: [],
  };
  const refreshTypes = () => {
    for (const type of selected) {
      const typeState = state.types[type];
      progress.types[type] = typeState
        ? { phase: typeState.phase, pages: typeState.pages, ...typeState.counts }
        : {
            phase: state.skipped.includes(type) ? 'done' : 'pending',
            pages: 0,
            fetched: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            failed: 0,
            deleted: 0,
          };
    }
  };
  refreshTypes();
  setHandler(progressQuery, () => progress);

  const outOfBudget = () => progress.pagesThisExecution >= pageBudget || workflowInfo().continueAsNewSuggested;

  /** The type's walk to run now, or null when a smart probe found nothing new. */
  async function prepare(type: EntityType): Promise<TypeSyncState | null> {
    if (kind === 'smart') {
      const probe = await pageActivities.probeSmartType({ runId: state.runId, entityType: type });
      return probe.state;
    }
    const since =
      kind === 'incremental' && input.since
        ? await pageActivities.resolveSince({ entityType: type, since: input.since })
        : null;
    return pageActivities.prepareTypeSync({
      runId: state.runId,
      syncType: kind,
      entityType: type,
      since,
      catchUp: kind === 'full',
    });
  }

  /** Pages one type while it is in `phase`; stops early when the execution should continue as new. */
  async function syncType(type: EntityType, phase: 'walk' | 'catchup'): Promise<void> {
    if (state.skipped.includes(type)) return;
    let typeState = state.types[type];
    if (!typeState) {
      const prepared = await prepare(type);
      if (!prepared) {
        state.skipped.push(type);
        refreshTypes();
        return;
      }
      typeState = prepared;
      state.types[type] = typeState;
    }
    while (typeState.phase === phase) {
      if (outOfBudget()) return;
      const result: PageResult = await pageActivities.syncPage(typeState);
      typeState = result.state;
      state.types[type] = typeState;
      progress.pagesThisExecution += 1;
      refreshTypes();
    }
  }

  const walking = (type: EntityType) => !state.skipped.includes(type) && state.types[type]?.phase !== 'done';

  /** Runs the phases; returns false when it stopped early to continue as new. */
  async function run(): Promise<boolean> {
    if (!input.resume) {
      await bookkeepingActivities.recordRunStart({
        id: state.runId,
        workflowId: info.workflowId,
        temporalRunId: info.firstExecutionRunId,
        syncType: kind,
        trigger: input.trigger ?? 'manual',
      });
    }
    progress.phase = 'entities';
    const stages = dependencyStages(selected);
    for (; state.stage < stages.length; state.stage += 1) {
      const stage = stages[state.stage] ?? [];
      progress.activeTypes = stage;
      await Promise.all(stage.map((type) => syncType(type, 'walk')));
      if (stage.some((type) => !state.skipped.includes(type) && state.types[type]?.phase === 'walk')) return false;
    }
    // Catch-up after ALL walks (full sync): rows of an early type changed while later types were
    // walked (a merge bumps its destination tag while scenes are paged) are read again here.
    progress.activeTypes = selected;
    await Promise.all(selected.map((type) => syncType(type, 'catchup')));
    if (selected.some(walking)) return false;
    for (const type of selected) {
      const typeState = state.types[type];
      if (!typeState || state.finishedTypes.includes(type)) continue;
      await pageActivities.finishTypeSync(typeState);
      state.finishedTypes.push(type);
    }
    progress.activeTypes = [];

    progress.phase = 'reconcile';
    // Types are independent here (links are repaired afterwards), so they reconcile concurrently.
    await Promise.all(
      selected.map(async (type) => {
        if (state.reconciled.includes(type)) return;
        const args = { runId: state.runId, syncType: kind, entityType: type };
        const result =
          kind === 'full' ? await longActivities.reconcileType(args) : await longActivities.reconcileIfChanged(args);
        state.deleted += result.deleted;
        const typeProgress = progress.types[type];
        if (typeProgress) typeProgress.deleted += result.deleted;
        state.reconciled.push(type);
      }),
    );
    progress.phase = 'repair';
    if (!state.repaired) {
      await longActivities.repairLinks({ runId: state.runId, syncType: kind });
      state.repaired = true;
    }

    progress.phase = 'postprocess';
    // One list of steps for every mode: a full sync recomputes everything; the others only what
    // the entities changed in this run touch.
    const changedTypes =
      kind === 'full' ? 'all' : await bookkeepingActivities.changedTypesInRun({ runId: state.runId });
    const steps = await bookkeepingActivities.planPostProcess({ changedTypes });
    for (const step of steps) {
      if (state.postProcessed.includes(step)) continue;
      await longActivities.postProcessStep({
        step,
        scope: kind === 'full' ? { kind: 'all' } : { kind: 'run', runId: state.runId },
      });
      state.postProcessed.push(step);
    }
    if (kind === 'full') await bookkeepingActivities.pruneSyncLog();
    return true;
  }

  let finished: boolean;
  try {
    finished = await run();
  } catch (error) {
    const cancelled = isCancellation(error);
    progress.errors.push(describeFailure(error));
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
    return continueAsNew<typeof smartSyncWorkflow>({
      ...input,
      resume: { ...state, continuedAsNew: state.continuedAsNew + 1 },
    });
  }

  await bookkeepingActivities.recordRunEnd({ runId: state.runId, status: 'completed', error: null });
  progress.phase = 'completed';
  const counts: SyncRunSummary['counts'] = {};
  let pages = 0;
  for (const type of selected) {
    const typeState = state.types[type];
    if (!typeState) continue;
    counts[type] = typeState.counts;
    pages += typeState.pages;
  }
  return {
    runId: state.runId,
    status: 'completed',
    syncType: kind,
    pages,
    counts,
    skippedTypes: state.skipped,
    deleted: state.deleted,
    postProcessed: state.postProcessed,
    continuedAsNew: state.continuedAsNew,
  };
}

/** The innermost cause of an activity failure is the readable one. */
export function describeFailure(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
