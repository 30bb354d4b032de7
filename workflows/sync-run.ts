import {
  allHandlersFinished,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PostProcessScope, PostProcessStepName } from '../db/postprocess/plan.js';
import { addCounts, type EntityCounts, type MainSyncType, ZERO_COUNTS } from '../db/vocabulary.js';
import { dependencyStages, ENTITY_TYPES, type EntityType } from '../stash/entity-types.js';
import type { PageResult, TypeSyncState } from '../sync/type-sync.js';
import { syncRunId } from '../temporal/run-identity.js';
import { PRUNE_AFTER_EVERY_RUN, WALKS } from './patches.js';
import { progressQuery, type SyncProgress } from './progress.js';
import { bookkeepingActivities, longActivities, PAGE_ACTIVITY_OPTIONS, pageActivities } from './proxies.js';
import { EntityTypesAttribute, SyncStatusAttribute } from './search-attributes.js';

export interface SyncInput {
  trigger?: string;
  /**
   * Work calls per workflow execution before continue-as-new (history stays small), at least 1:
   * walk calls (each a batch of pages), or pages in executions from before walks.
   */
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
  /** Smart sync with walks: every type was probed at once already. */
  probed?: boolean;
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

/** The counts a walk call reports while its phase is still running (added to the type's progress). */
type LiveCounts = { pages: number } & EntityCounts;

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
  /** Whether this execution reads types by walks (workflows/patches.ts WALKS), decided once. */
  private walks = false;
  /** Work calls this execution (walk calls, or legacy pages): the continue-as-new budget. */
  private calls = 0;
  /** Pages and counts walk calls reported for a type's running phase. */
  private readonly live: Partial<Record<EntityType, LiveCounts>> = {};

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
      this.markStatus(isCancellation(error) ? 'cancelled' : 'failed');
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
      this.walks
        ? bookkeepingActivities.completeRun({ runId: this.state.runId })
        : bookkeepingActivities.recordRunEnd({ runId: this.state.runId, status: 'completed', error: null }),
    );
    this.progress.phase = 'completed';
    const summary = this.summary();
    this.markStatus('completed', summary);
    return summary;
  }

  /**
   * What the Temporal Web UI shows of the run (executions started with walks and with our search
   * attributes only: each upsert is a history event, so they happen at coarse points). `details`
   * is the run's current line ("3 of 7 types changed · 1,204 entities"), its totals go to the memo.
   */
  private markStatus(status: 'completed' | 'failed' | 'cancelled', summary?: SyncRunSummary): void {
    if (!this.readable()) return;
    upsertSearchAttributes([{ key: SyncStatusAttribute, value: status }]);
    if (!summary) {
      setCurrentDetails(`${status} · ${this.describeTypes()}`);
      return;
    }
    const totals = Object.values(summary.counts).reduce(
      (sum, counts) => addCounts(sum, counts ?? ZERO_COUNTS),
      ZERO_COUNTS,
    );
    upsertMemo({ totals: { ...totals, pages: summary.pages, deleted: summary.deleted } });
    setCurrentDetails(
      `${status} · ${this.describeTypes()} · ${totals.fetched} fetched, ${totals.created} created, ${totals.updated} updated, ${summary.deleted} deleted, ${totals.failed} failed`,
    );
  }

  /** Whether this execution shows itself in the Web UI (started with our search attributes, walks path). */
  private readable(): boolean {
    return this.walks && workflowInfo().typedSearchAttributes.get(SyncStatusAttribute) !== undefined;
  }

  /** "3 of 7 types changed" (smart), or the types this run read. */
  private describeTypes(): string {
    const walked = this.selected.filter((type) => !this.state.skipped.includes(type));
    return this.kind === 'smart'
      ? `${walked.length} of ${this.selected.length} types changed`
      : `${walked.length} type${walked.length === 1 ? '' : 's'}`;
  }

  private async runPhases(): Promise<typeof CONTINUE | 'done'> {
    this.walks = patched(WALKS);
    await this.recordStart();
    await this.probeAll();
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

  /** Smart sync with walks: every type's probe in one call, before any walk. */
  private async probeAll(): Promise<void> {
    if (!this.walks || this.kind !== 'smart' || this.state.probed) return;
    const probes = await pageActivities.probeSmartTypes({ runId: this.state.runId, entityTypes: this.selected });
    for (const type of this.selected) {
      const prepared = probes[type]?.state;
      if (prepared) this.state.types[type] = prepared;
      else this.state.skipped.push(type);
    }
    this.state.probed = true;
    this.refreshTypeProgress();
    if (this.readable()) {
      const walked = this.selected.filter((type) => !this.state.skipped.includes(type));
      upsertSearchAttributes([{ key: EntityTypesAttribute, value: walked }]);
      setCurrentDetails(`probed · ${this.describeTypes()}`);
    }
  }

  // ---- 2. walks, by dependency stage --------------------------------------------------------

  private async walkStages(): Promise<typeof CONTINUE | 'done'> {
    this.progress.phase = 'entities';
    if (this.state.stage === 0 && this.kind !== 'smart' && this.readable() && !this.input.resume) {
      upsertSearchAttributes([{ key: EntityTypesAttribute, value: this.selected }]);
    }
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
    // With walks, a type finishes with its last phase (completeWalkPhase).
    if (this.walks) {
      this.progress.activeTypes = [];
      return;
    }
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
    if (this.walks && this.kind !== 'full' && !this.state.repaired) {
      // The everyday check: every type's count signal and the link repair in one call.
      const pending = this.selected.filter((type) => !this.state.reconciled.includes(type));
      const result = await longActivities.reconcileAndRepair({
        runId: this.state.runId,
        syncType: this.kind,
        entityTypes: pending,
      });
      for (const type of pending) this.countDeleted(type, result.deleted[type] ?? 0);
      this.state.reconciled.push(...pending);
      this.state.repaired = true;
      return;
    }
    await settleAll(
      this.selected.map(async (type) => {
        if (this.state.reconciled.includes(type)) return;
        const args = { runId: this.state.runId, syncType: this.kind, entityType: type };
        const result =
          this.kind === 'full'
            ? await longActivities.reconcileType(args)
            : await longActivities.reconcileIfChanged(args);
        this.countDeleted(type, result.deleted);
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
    const scope: PostProcessScope = this.kind === 'full' ? { kind: 'all' } : { kind: 'run', runId: this.state.runId };
    const steps: PostProcessStepName[] = await this.planPostProcess(scope);
    for (const step of steps) {
      if (this.state.postProcessed.includes(step)) continue;
      // The run rides along so the step's transactions are fenced by its lease (an input, not a
      // command: recorded histories replay unchanged).
      await longActivities.postProcessStep({ step, scope, run: { runId: this.state.runId, syncType: this.kind } });
      this.state.postProcessed.push(step);
    }
  }

  private async planPostProcess(scope: PostProcessScope): Promise<PostProcessStepName[]> {
    if (this.walks) return bookkeepingActivities.planRunPostProcess({ scope });
    const changedTypes =
      scope.kind === 'all' ? 'all' : await bookkeepingActivities.changedTypesInRun({ runId: scope.runId });
    return bookkeepingActivities.planPostProcess({ changedTypes });
  }

  // ---- 8. prune -----------------------------------------------------------------------------

  /** Retention after runs of every type (before the patch, full syncs only: replay keeps that). */
  private async pruneLog(): Promise<void> {
    if (this.walks) return; // completeRun prunes
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

  /** Reads one type while it is in `phase`; stops early when the execution should continue as new. */
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
      this.refreshTypeProgress();
    }
    if (this.walks) return this.walkType(typeState, phase);
    while (typeState.phase === phase) {
      if (this.outOfBudget()) return;
      const result: PageResult = await pageActivities.syncPage(typeState);
      typeState = result.state;
      this.state.types[type] = typeState;
      this.calls += 1;
      this.progress.pagesThisExecution += 1;
      this.refreshTypeProgress();
    }
  }

  /** The walks of a type's phase at once, each called until done; then the phase completes. */
  private async walkType(state: TypeSyncState, phase: 'walk' | 'catchup'): Promise<void> {
    let typeState = state;
    const type = typeState.entityType;
    while (typeState.phase === phase) {
      const walks = Array.from({ length: typeState.walks ?? 1 }, (_, walk) => walk);
      const finished = await settleAll(walks.map((walk) => this.walkUntilDone(type, phase, walk)));
      if (finished.some((done) => !done)) return; // out of budget
      typeState = await pageActivities.completeWalkPhase({
        runId: this.state.runId,
        syncType: this.kind,
        entityType: type,
      });
      this.state.types[type] = typeState;
      delete this.live[type];
      this.refreshTypeProgress();
    }
  }

  /** Calls one walk until it is done (true) or this execution's budget is spent (false). */
  private async walkUntilDone(type: EntityType, phase: 'walk' | 'catchup', walk: number): Promise<boolean> {
    for (;;) {
      if (this.outOfBudget()) return false;
      const input = { runId: this.state.runId, syncType: this.kind, entityType: type, phase, walk };
      const walks = this.state.types[type]?.walks ?? 1;
      const done = this.live[type]?.pages ?? 0;
      // "scene walk 2/2 · 37 pages so far": what each activity is, at a glance in the Web UI.
      const summary = `${type} ${phase === 'walk' ? 'walk' : 'catch-up'} ${walk + 1}/${walks} · ${done} pages so far`;
      const result = this.readable()
        ? await pageActivities.walk.executeWithOptions({ ...PAGE_ACTIVITY_OPTIONS, summary }, [input])
        : await pageActivities.walk(input);
      this.calls += 1;
      this.progress.pagesThisExecution += result.pages;
      this.live[type] = addLive(this.live[type], result.pages, result.counts);
      this.refreshTypeProgress();
      if (this.readable()) setCurrentDetails(`reading · ${this.progress.pagesThisExecution} pages`);
      if (result.done) return true;
    }
  }

  /** The type's walk to run now, or null when a smart probe found nothing new. */
  private async prepareType(type: EntityType): Promise<TypeSyncState | null> {
    const runId = this.state.runId;
    if (this.kind === 'smart') return (await pageActivities.probeSmartType({ runId, entityType: type })).state;
    const sinceInstant = this.kind === 'incremental' && this.input.since ? this.input.since : null;
    if (this.walks) {
      return pageActivities.prepareType({
        runId,
        syncType: this.kind,
        entityType: type,
        sinceInstant,
        catchUp: this.kind === 'full',
      });
    }
    const since = sinceInstant ? await pageActivities.resolveSince({ entityType: type, since: sinceInstant }) : null;
    return pageActivities.prepareTypeSync({
      runId,
      syncType: this.kind,
      entityType: type,
      since,
      catchUp: this.kind === 'full',
    });
  }

  private outOfBudget(): boolean {
    return this.calls >= this.pageBudget || workflowInfo().continueAsNewSuggested;
  }

  private countDeleted(type: EntityType, deleted: number): void {
    this.state.deleted += deleted;
    const typeProgress = this.progress.types[type];
    if (typeProgress) typeProgress.deleted += deleted;
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
      const live = this.live[type];
      this.progress.types[type] = typeState
        ? {
            phase: typeState.phase,
            ...addLive(live, typeState.pages, typeState.counts),
          }
        : { phase: this.state.skipped.includes(type) ? 'done' : 'pending', pages: 0, ...ZERO_COUNTS };
    }
  }
}

function addLive(live: LiveCounts | undefined, pages: number, counts: EntityCounts): LiveCounts {
  const base = live ?? { pages: 0, ...ZERO_COUNTS };
  return { pages: base.pages + pages, ...addCounts(base, counts) };
}

/**
 * Waits for every branch, then rethrows the first failure. Promise.all would reject at once and
 * let the run record its end while sibling activities still run (and schedule more pages).
 */
async function settleAll<T>(branches: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(branches);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/** The innermost cause of an activity failure is the readable one. */
export function describeFailure(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
