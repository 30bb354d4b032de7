import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PostProcessStepName } from '../db/postprocess/plan.js';
import { type EntityCounts, type MainSyncType, ZERO_COUNTS } from '../db/vocabulary.js';
import { dependencyStages, ENTITY_TYPES, type EntityType } from '../stash/entity-types.js';
import type { PageResult, TypeSyncState } from '../sync/type-sync.js';
import { syncRunId } from '../temporal/run-identity.js';
import { PRUNE_AFTER_EVERY_RUN } from './patches.js';
import { progressQuery, type SyncProgress } from './progress.js';
import { bookkeepingActivities, longActivities, pageActivities } from './proxies.js';

export interface SyncInput {
  trigger?: string;
  /** Pages per workflow execution before continue-as-new (history stays small); at least 1. */
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
  syncType: MainSyncType;
  pages: number;
  counts: Partial<Record<EntityType, EntityCounts>>;
  skippedTypes: EntityType[];
  deleted: number;
  postProcessed: string[];
  continuedAsNew: number;
}

const DEFAULT_PAGE_BUDGET = 300;

/** Full sync: every type walked, caught up, reconciled by id; derived data recomputed in full. */
export function fullSyncWorkflow(input: FullSyncInput = {}): Promise<SyncRunSummary> {
  return new SyncRun('full', input).execute();
}

/** Incremental sync: the rows updated since an instant, then the everyday deletion check. */
export function incrementalSyncWorkflow(input: IncrementalSyncInput): Promise<SyncRunSummary> {
  return new SyncRun('incremental', input).execute();
}

/** Smart sync: per type, from its own high-water mark; types with nothing new cost a count query. */
export function smartSyncWorkflow(input: SyncInput = {}): Promise<SyncRunSummary> {
  return new SyncRun('smart', input).execute();
}

/** Returned by a phase that stopped early because this execution should continue as new. */
const CONTINUE = 'continue-as-new' as const;

/**
 * The one orchestration behind all three modes, as numbered steps (docs/sync-design.md):
 *   1. record the run's start;
 *   2. walk the types in dependency stages (independent types concurrently);
 *   3. catch up (full sync: rows changed while the walks ran);
 *   4. finish each type (resume cursor cleared, high-water mark advanced);
 *   5. reconcile ids (full: always; otherwise only on a count signal);
 *   6. repair links to vanished entities, and what Stash changes without bumping anyone;
 *   7. post-process (one shared plan; a full sync recomputes everything);
 *   8. prune the sync log (full);
 * then record the run's end. Progress lives in workflow state, the `progress` query and
 * sync_runs; continue-as-new carries the state to the next execution.
 */
class SyncRun {
  private readonly info = workflowInfo();
  private readonly pageBudget: number;
  private readonly selected: EntityType[];
  private readonly state: SyncState;
  private readonly progress: SyncProgress;

  constructor(
    private readonly kind: MainSyncType,
    private readonly input: SyncInput,
  ) {
    this.pageBudget = Math.max(1, Math.floor(input.pageBudget ?? DEFAULT_PAGE_BUDGET));
    this.selected = kind === 'incremental' && input.entityTypes?.length ? input.entityTypes : [...ENTITY_TYPES];
    this.state = input.resume ?? {
      runId: syncRunId(this.info.workflowId, this.info.firstExecutionRunId),
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
    this.progress = {
      runId: this.state.runId,
      syncType: kind,
      phase: 'starting',
      activeTypes: [],
      types: {},
      pagesThisExecution: 0,
      continuedAsNew: this.state.continuedAsNew,
      errors: [],
    };
  }

  async execute(): Promise<SyncRunSummary> {
    this.refreshTypeProgress();
    setHandler(progressQuery, () => this.progress);
    let outcome: typeof CONTINUE | 'done';
    try {
      outcome = await this.runPhases();
      if (outcome === CONTINUE) await condition(allHandlersFinished);
    } catch (error) {
      await this.recordFailure(error);
      throw error;
    }
    if (outcome === CONTINUE) {
      return continueAsNew<typeof smartSyncWorkflow>({
        ...this.input,
        resume: { ...this.state, continuedAsNew: this.state.continuedAsNew + 1 },
      });
    }
    // Recorded even if a cancellation arrives now: the run's work is done and committed.
    await CancellationScope.nonCancellable(() =>
      bookkeepingActivities.recordRunEnd({ runId: this.state.runId, status: 'completed', error: null }),
    );
    this.progress.phase = 'completed';
    return this.summary();
  }

  private async runPhases(): Promise<typeof CONTINUE | 'done'> {
    await this.recordStart();
    if ((await this.walkStages()) === CONTINUE) return CONTINUE;
    if ((await this.catchUp()) === CONTINUE) return CONTINUE;
    await this.finishTypes();
    await this.reconcile();
    await this.repair();
    await this.postProcess();
    await this.pruneLog();
    return 'done';
  }

  // ---- 1. start -----------------------------------------------------------------------------

  private async recordStart(): Promise<void> {
    if (this.input.resume) return;
    await bookkeepingActivities.recordRunStart({
      id: this.state.runId,
      workflowId: this.info.workflowId,
      temporalRunId: this.info.firstExecutionRunId,
      syncType: this.kind,
      trigger: this.input.trigger ?? 'manual',
    });
  }

  // ---- 2. walks, by dependency stage --------------------------------------------------------

  private async walkStages(): Promise<typeof CONTINUE | 'done'> {
    this.progress.phase = 'entities';
    const stages = dependencyStages(this.selected);
    for (; this.state.stage < stages.length; this.state.stage += 1) {
      const stage = stages[this.state.stage] ?? [];
      this.progress.activeTypes = stage;
      await settleAll(stage.map((type) => this.pageType(type, 'walk')));
      if (stage.some((type) => this.isWalking(type, 'walk'))) return CONTINUE;
    }
    return 'done';
  }

  // ---- 3. catch-up ----------------------------------------------------------------------------

  /**
   * After ALL walks (full sync): rows of an early type changed while later types were walked (a
   * merge bumps its destination tag while scenes are paged) are read again here.
   */
  private async catchUp(): Promise<typeof CONTINUE | 'done'> {
    this.progress.activeTypes = this.selected;
    await settleAll(this.selected.map((type) => this.pageType(type, 'catchup')));
    return this.selected.some((type) => this.isWalking(type)) ? CONTINUE : 'done';
  }

  // ---- 4. finish each type ------------------------------------------------------------------

  private async finishTypes(): Promise<void> {
    for (const type of this.selected) {
      const typeState = this.state.types[type];
      if (!typeState || this.state.finishedTypes.includes(type)) continue;
      await pageActivities.finishTypeSync(typeState);
      this.state.finishedTypes.push(type);
    }
    this.progress.activeTypes = [];
  }

  // ---- 5. reconcile ids ---------------------------------------------------------------------

  /** Types are independent here (links are repaired afterwards), so they reconcile concurrently. */
  private async reconcile(): Promise<void> {
    this.progress.phase = 'reconcile';
    await settleAll(
      this.selected.map(async (type) => {
        if (this.state.reconciled.includes(type)) return;
        const args = { runId: this.state.runId, syncType: this.kind, entityType: type };
        const result =
          this.kind === 'full'
            ? await longActivities.reconcileType(args)
            : await longActivities.reconcileIfChanged(args);
        this.state.deleted += result.deleted;
        const typeProgress = this.progress.types[type];
        if (typeProgress) typeProgress.deleted += result.deleted;
        this.state.reconciled.push(type);
      }),
    );
  }

  // ---- 6. repair ----------------------------------------------------------------------------

  private async repair(): Promise<void> {
    this.progress.phase = 'repair';
    if (this.state.repaired) return;
    await longActivities.repairLinks({ runId: this.state.runId, syncType: this.kind });
    this.state.repaired = true;
  }

  // ---- 7. post-processing -------------------------------------------------------------------

  /**
   * One plan for every mode: a full sync recomputes everything; the others only what the
   * entities changed in this run touch.
   */
  private async postProcess(): Promise<void> {
    this.progress.phase = 'postprocess';
    const full = this.kind === 'full';
    const changedTypes = full ? 'all' : await bookkeepingActivities.changedTypesInRun({ runId: this.state.runId });
    const steps: PostProcessStepName[] = await bookkeepingActivities.planPostProcess({ changedTypes });
    for (const step of steps) {
      if (this.state.postProcessed.includes(step)) continue;
      await longActivities.postProcessStep({
        step,
        scope: full ? { kind: 'all' } : { kind: 'run', runId: this.state.runId },
      });
      this.state.postProcessed.push(step);
    }
  }

  // ---- 8. prune -----------------------------------------------------------------------------

  /** Retention after runs of every type (before the patch, full syncs only: replay keeps that). */
  private async pruneLog(): Promise<void> {
    if (this.kind === 'full' || patched(PRUNE_AFTER_EVERY_RUN)) {
      await bookkeepingActivities.pruneSyncLog({ runId: this.state.runId });
    }
  }

  // ---- end ----------------------------------------------------------------------------------

  /** Records the run's end even though the workflow is being cancelled: cleanup must not be cancelled. */
  private async recordFailure(error: unknown): Promise<void> {
    const cancelled = isCancellation(error);
    this.progress.errors.push(describeFailure(error));
    await CancellationScope.nonCancellable(() =>
      bookkeepingActivities.recordRunEnd({
        runId: this.state.runId,
        status: cancelled ? 'cancelled' : 'failed',
        error: cancelled ? 'cancelled' : describeFailure(error),
      }),
    );
  }

  private summary(): SyncRunSummary {
    const counts: SyncRunSummary['counts'] = {};
    let pages = 0;
    for (const type of this.selected) {
      const typeState = this.state.types[type];
      if (!typeState) continue;
      counts[type] = typeState.counts;
      pages += typeState.pages;
    }
    return {
      runId: this.state.runId,
      status: 'completed',
      syncType: this.kind,
      pages,
      counts,
      skippedTypes: this.state.skipped,
      deleted: this.state.deleted,
      postProcessed: this.state.postProcessed,
      continuedAsNew: this.state.continuedAsNew,
    };
  }

  // ---- one type's pages -----------------------------------------------------------------------

  /** Pages one type while it is in `phase`; stops early when the execution should continue as new. */
  private async pageType(type: EntityType, phase: 'walk' | 'catchup'): Promise<void> {
    if (this.state.skipped.includes(type)) return;
    let typeState = this.state.types[type];
    if (!typeState) {
      const prepared = await this.prepareType(type);
      if (!prepared) {
        this.state.skipped.push(type);
        this.refreshTypeProgress();
        return;
      }
      typeState = prepared;
      this.state.types[type] = typeState;
    }
    while (typeState.phase === phase) {
      if (this.outOfBudget()) return;
      const result: PageResult = await pageActivities.syncPage(typeState);
      typeState = result.state;
      this.state.types[type] = typeState;
      this.progress.pagesThisExecution += 1;
      this.refreshTypeProgress();
    }
  }

  /** The type's walk to run now, or null when a smart probe found nothing new. */
  private async prepareType(type: EntityType): Promise<TypeSyncState | null> {
    const runId = this.state.runId;
    if (this.kind === 'smart') return (await pageActivities.probeSmartType({ runId, entityType: type })).state;
    const since =
      this.kind === 'incremental' && this.input.since
        ? await pageActivities.resolveSince({ entityType: type, since: this.input.since })
        : null;
    return pageActivities.prepareTypeSync({
      runId,
      syncType: this.kind,
      entityType: type,
      since,
      catchUp: this.kind === 'full',
    });
  }

  private outOfBudget(): boolean {
    return this.progress.pagesThisExecution >= this.pageBudget || workflowInfo().continueAsNewSuggested;
  }

  /** Whether a type still has pages to read (in `phase`, or in any phase before done). */
  private isWalking(type: EntityType, phase?: 'walk'): boolean {
    if (this.state.skipped.includes(type)) return false;
    const current = this.state.types[type]?.phase;
    return phase ? current === phase : current !== 'done';
  }

  private refreshTypeProgress(): void {
    for (const type of this.selected) {
      const typeState = this.state.types[type];
      this.progress.types[type] = typeState
        ? { phase: typeState.phase, pages: typeState.pages, ...typeState.counts }
        : { phase: this.state.skipped.includes(type) ? 'done' : 'pending', pages: 0, ...ZERO_COUNTS };
    }
  }
}

/**
 * Waits for every branch, then rethrows the first failure. Promise.all would reject at once and
 * let the run record its end while sibling activities still run (and schedule more pages).
 */
async function settleAll(branches: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(branches);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The innermost cause of an activity failure is the readable one. */
export function describeFailure(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
