import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { type Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import { activity } from '../../activities/adapter.js';
import type { SyncActivities } from '../../activities/index.js';
import { POST_PROCESS_STEP_NAMES, type PostProcessStepName } from '../../db/postprocess/plan.js';
import { addCounts, ZERO_COUNTS } from '../../db/vocabulary.js';
import type { EntityType } from '../../stash/entity-types.js';
import type { ReconcileResult } from '../../sync/reconcile.js';
import type { SmartProbeResult } from '../../sync/smart.js';
import type { TypeSyncState } from '../../sync/type-sync.js';
import { registerSearchAttributes } from '../../temporal/search-attributes.js';
import { workflowBundle } from '../../worker/create-worker.js';
import { installTemporalLogging } from '../../worker/runtime-logging.js';

// Expected activity failures (the failure and cancellation tests) log at WARN: keep them quiet.
installTemporalLogging(process.env.TEST_LOG_LEVEL ?? 'error');

type ActivityName = keyof SyncActivities;
type InputOf<N extends ActivityName> = Parameters<SyncActivities[N]>[0];
type Inputs = { [N in ActivityName]: InputOf<N>[] };

export interface StubOptions {
  /** Pages per walk in a type's walk phase, one a walk call (default 1 each); legacy: syncPage pages. */
  walkPages?: Partial<Record<EntityType, number>>;
  /** Pages per walk in a catch-up phase, when the walk phase asked for one (default 1). */
  catchUpPages?: number;
  /** Types the smart probe (probeSmartTypes; legacy probeSmartType) finds nothing new for (state null). */
  unchanged?: EntityType[];
  /** What changedTypesInRun answers (entity sync, legacy sync path; default ['scene']). */
  changedTypes?: EntityType[];
  /** What planRunPostProcess and planPostProcess answer (default every step, in order). */
  steps?: PostProcessStepName[];
  /** Walks per type in its walk phase (default 1 each): id ranges walked at once. */
  walks?: Partial<Record<EntityType, number>>;
  /** What syncEntity answers (default true). */
  found?: boolean;
  /** Replaces some activities; `defaults` are the canned ones, to delegate to. */
  override?: (defaults: SyncActivities) => Partial<SyncActivities>;
}

export interface StubActivities {
  /** Handed to the worker: records every call, then runs the canned (or overriding) activity. */
  activities: SyncActivities;
  /** Every call in the order the worker ran them: `name[:entityType][:phase][:status][:step]`. */
  labels: string[];
  /** The inputs of every call, per activity. */
  inputs: Inputs;
}

/** What a reconcile of an unchanged type answers. */
export function nothingDeleted(entityType: EntityType): ReconcileResult {
  return { entityType, stashCount: 0, mirrorLive: 0, deleted: 0, fetched: 0 };
}

/** A call's label details: the entity type, phase, status and step its input names, in that order. */
function detailsOf(input: unknown): string[] {
  if (typeof input !== 'object' || input === null) return [];
  return ['entityType', 'phase', 'status', 'step'].flatMap((key) => {
    const value: unknown = Reflect.get(input, key);
    return typeof value === 'string' ? [value] : [];
  });
}

/** One page's counts in the stubs: every page fetches and creates one entity. */
const PAGE_COUNTS = { ...ZERO_COUNTS, fetched: 1, created: 1 };

const scaled = (counts: typeof PAGE_COUNTS, times: number) => ({
  ...ZERO_COUNTS,
  fetched: counts.fetched * times,
  created: counts.created * times,
});

/**
 * Stand-ins for the activities of activities/index.ts, checked against SyncActivities (a renamed
 * or reshaped activity fails compilation). prepareType and probeSmartTypes hand out states with
 * `walks` walks; a walk call reads one page, and a walk is done on its `walkPages`-th call in the
 * walk phase (`catchUpPages`-th in catch-up; later calls answer done at once, as a resumed walk
 * does). completeWalkPhase adds the phase's pages to the type's state and answers the next one:
 * catch-up (one walk) after a full sync's walk phase, else done.
 *
 * The activities of executions from before walks (prepareTypeSync, syncPage, finishTypeSync,
 * probeSmartType, ...) stay stubbed, as SyncActivities has them: there a type's walk takes
 * `walkPages` syncPage calls, its catch-up `catchUpPages`, and the cursor's afterId counts the
 * pages of the current phase, so a repeated or lost page shows in the recorded syncPage inputs.
 */
export function createStubActivities(options: StubOptions = {}): StubActivities {
  const walkPages = (type: EntityType) => options.walkPages?.[type] ?? 1;
  const catchUpPages = options.catchUpPages ?? 1;

  const initialState = (input: InputOf<'prepareTypeSync'>): TypeSyncState => ({
    runId: input.runId,
    syncType: input.syncType,
    entityType: input.entityType,
    phase: 'walk',
    cursor: { kind: 'id', afterId: 0, since: input.since },
    seq: 0,
    catchUpSince: null,
    catchUp: input.catchUp,
    newestSeen: null,
    pages: 0,
    counts: ZERO_COUNTS,
    startedAt: 0,
  });

  /** Walk calls so far per `type:phase:walk`: a walk call reads one page in the stubs. */
  const walkCalls = new Map<string, number>();
  /** Each type's latest state (prepared or probed, then per completed phase): what completeWalkPhase continues. */
  const statesByType = new Map<EntityType, TypeSyncState>();
  const withWalks = (state: TypeSyncState): TypeSyncState => {
    const walked = { ...state, walks: options.walks?.[state.entityType] ?? 1 };
    statesByType.set(state.entityType, walked);
    return walked;
  };

  /** A smart probe's answer: nothing new for the `unchanged` types, else the state `prepare` makes. */
  const probed = (entityType: EntityType, prepare: () => TypeSyncState): SmartProbeResult =>
    options.unchanged?.includes(entityType)
      ? { state: null, reason: 'nothing-new', updatedAfterMark: 0, windowRepaired: 0, offsetsSeen: [] }
      : { state: prepare(), reason: 'updated-after-mark', updatedAfterMark: 0, windowRepaired: 0, offsetsSeen: [] };

  const defaults = {
    async recordRunStart() {},
    async recordSkippedRun() {},
    async recordRunEnd() {},
    async prepareTypeSync(input) {
      return initialState(input);
    },
    async syncPage(state) {
      const index = (state.cursor.kind === 'id' ? state.cursor.afterId : 0) + 1;
      const last = index >= (state.phase === 'walk' ? walkPages(state.entityType) : catchUpPages);
      const next: TypeSyncState = {
        ...state,
        seq: state.seq + 1,
        pages: state.pages + 1,
        counts: addCounts(state.counts, PAGE_COUNTS),
        cursor: { kind: 'id', afterId: last ? 0 : index, since: state.cursor.since },
      };
      if (last) next.phase = state.phase === 'walk' && state.catchUp ? 'catchup' : 'done';
      return { state: next, page: PAGE_COUNTS };
    },
    async finishTypeSync() {},
    async reconcileType(input) {
      return nothingDeleted(input.entityType);
    },
    async reconcileIfChanged(input) {
      return { ...nothingDeleted(input.entityType), scanned: false, ranges: 0 };
    },
    async probeSmartType(input) {
      return probed(input.entityType, () => initialState({ ...input, syncType: 'smart', since: null, catchUp: false }));
    },
    async resolveSince(input) {
      return input.since;
    },
    async syncEntity() {
      return { found: options.found ?? true };
    },
    async changedTypesInRun() {
      return options.changedTypes ?? ['scene'];
    },
    async repairLinks() {
      return { refetched: 0, rounds: 1 };
    },
    async planPostProcess() {
      return options.steps ?? [...POST_PROCESS_STEP_NAMES];
    },
    async postProcessStep(input) {
      return { step: input.step, scope: input.scope.kind, affected: 0, ms: 0 };
    },
    async pruneSyncLog() {
      return { logRows: 0, runs: 0, complete: true };
    },
    async prepareType(input) {
      return withWalks(initialState({ ...input, since: input.sinceInstant }));
    },
    async walk(input) {
      const key = `${input.entityType}:${input.phase}:${input.walk}`;
      const calls = (walkCalls.get(key) ?? 0) + 1;
      walkCalls.set(key, calls);
      const pages = input.phase === 'walk' ? walkPages(input.entityType) : catchUpPages;
      return { done: calls >= pages, pages: 1, counts: PAGE_COUNTS };
    },
    async completeWalkPhase(input) {
      const state = statesByType.get(input.entityType);
      if (!state) throw new Error(`completeWalkPhase: ${input.entityType} was never prepared`);
      const walks = state.walks ?? 1;
      const pages = (state.phase === 'walk' ? walkPages(input.entityType) : catchUpPages) * walks;
      const gathered = {
        ...state,
        pages: state.pages + pages,
        counts: addCounts(state.counts, scaled(PAGE_COUNTS, pages)),
      };
      const next: TypeSyncState =
        state.phase === 'walk' && state.catchUp
          ? { ...gathered, phase: 'catchup', walks: 1 }
          : { ...gathered, phase: 'done', walks: 0 };
      statesByType.set(input.entityType, next);
      return next;
    },
    async probeSmartTypes(input) {
      return Object.fromEntries(
        input.entityTypes.map((entityType) => [
          entityType,
          probed(entityType, () =>
            withWalks(initialState({ runId: input.runId, entityType, syncType: 'smart', since: null, catchUp: false })),
          ),
        ]),
      );
    },
    async reconcileAndRepair(input) {
      return { deleted: Object.fromEntries(input.entityTypes.map((type) => [type, 0])), refetched: 0 };
    },
    async planRunPostProcess() {
      return options.steps ?? [...POST_PROCESS_STEP_NAMES];
    },
    async completeRun() {},
  } satisfies SyncActivities;
  const impl: SyncActivities = { ...defaults, ...options.override?.(defaults) };

  const labels: string[] = [];
  const inputs: Inputs = {
    recordRunStart: [],
    recordSkippedRun: [],
    recordRunEnd: [],
    prepareTypeSync: [],
    syncPage: [],
    finishTypeSync: [],
    reconcileType: [],
    reconcileIfChanged: [],
    probeSmartType: [],
    resolveSince: [],
    syncEntity: [],
    changedTypesInRun: [],
    repairLinks: [],
    planPostProcess: [],
    postProcessStep: [],
    pruneSyncLog: [],
    prepareType: [],
    walk: [],
    completeWalkPhase: [],
    probeSmartTypes: [],
    reconcileAndRepair: [],
    planRunPostProcess: [],
    completeRun: [],
  };
  /**
   * The activity `name` as the worker runs it: through the real activities' adapter (heartbeats,
   * and errors that say they are not retryable become non-retryable failures), the call is
   * recorded, then `run` (impl's) runs.
   */
  const recorded = <N extends ActivityName>(
    name: N,
    run: (input: InputOf<N>) => Promise<Awaited<ReturnType<SyncActivities[N]>>>,
  ) =>
    activity((input: InputOf<N>) => {
      labels.push([name, ...detailsOf(input)].join(':'));
      inputs[name].push(input);
      return run(input);
    });
  const activities = {
    recordRunStart: recorded('recordRunStart', impl.recordRunStart),
    recordSkippedRun: recorded('recordSkippedRun', impl.recordSkippedRun),
    recordRunEnd: recorded('recordRunEnd', impl.recordRunEnd),
    prepareTypeSync: recorded('prepareTypeSync', impl.prepareTypeSync),
    syncPage: recorded('syncPage', impl.syncPage),
    finishTypeSync: recorded('finishTypeSync', impl.finishTypeSync),
    reconcileType: recorded('reconcileType', impl.reconcileType),
    reconcileIfChanged: recorded('reconcileIfChanged', impl.reconcileIfChanged),
    probeSmartType: recorded('probeSmartType', impl.probeSmartType),
    resolveSince: recorded('resolveSince', impl.resolveSince),
    syncEntity: recorded('syncEntity', impl.syncEntity),
    changedTypesInRun: recorded('changedTypesInRun', impl.changedTypesInRun),
    repairLinks: recorded('repairLinks', impl.repairLinks),
    planPostProcess: recorded('planPostProcess', impl.planPostProcess),
    postProcessStep: recorded('postProcessStep', impl.postProcessStep),
    pruneSyncLog: recorded('pruneSyncLog', impl.pruneSyncLog),
    prepareType: recorded('prepareType', impl.prepareType),
    walk: recorded('walk', impl.walk),
    completeWalkPhase: recorded('completeWalkPhase', impl.completeWalkPhase),
    probeSmartTypes: recorded('probeSmartTypes', impl.probeSmartTypes),
    reconcileAndRepair: recorded('reconcileAndRepair', impl.reconcileAndRepair),
    planRunPostProcess: recorded('planRunPostProcess', impl.planRunPostProcess),
    completeRun: recorded('completeRun', impl.completeRun),
  } satisfies SyncActivities;
  return { activities, labels, inputs };
}

/**
 * A work activity (a walk) that never finishes on its own: it heartbeats (the only way an activity hears
 * of its cancellation) until cancelled, then rethrows the cancellation. `onStop` runs as it stops.
 */
export async function blockUntilCancelled(onStop: () => void): Promise<never> {
  const context = Context.current();
  const beat = setInterval(() => context.heartbeat(), 50);
  try {
    return await context.cancelled;
  } finally {
    clearInterval(beat);
    onStop();
  }
}

export interface StubWorkerContext {
  client: Client;
  taskQueue: string;
  /** A fresh workflow id. */
  workflowId(prefix: string): string;
}

export type RunWithStubs = <T>(
  activities: SyncActivities,
  body: (context: StubWorkerContext) => Promise<T>,
) => Promise<T>;

/**
 * Connects this test file to the test run's shared dev server (vitest globalSetup) and returns a
 * runner: it runs a worker with the given activities on a task queue of its own until `body`
 * settles, so tests may run concurrently. The workflow bundle is built once per file. Heartbeats
 * are throttled to 100 ms instead of 80% of the heartbeat timeout, so a cancelled activity hears
 * of it at once.
 */
export function useStubWorkers(): RunWithStubs {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
    // As the real worker does at start (worker/create-worker.ts): runs started with our search
    // attributes fail their first workflow task on a namespace that lacks them.
    await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return async (activities, body) => {
    if (!env) throw new Error('useStubWorkers: not connected (call it at the top of a describe block)');
    const taskQueue = `workflow-test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities,
      maxHeartbeatThrottleInterval: '100 ms',
    });
    const client = env.client;
    return worker.runUntil(body({ client, taskQueue, workflowId: (prefix) => `${prefix}-${randomUUID()}` }));
  };
}

/** Waits for a workflow that must fail (or be cancelled): its failure and final status. */
export async function failureOf(handle: WorkflowHandle): Promise<{ failure: WorkflowFailedError; status: string }> {
  const failure = await handle.result().then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(failure instanceof WorkflowFailedError)) throw new Error(`expected the workflow to fail: ${String(failure)}`);
  return { failure, status: (await handle.describe()).status.name };
}
