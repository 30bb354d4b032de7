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
import type { TypeSyncState } from '../../sync/type-sync.js';
import { workflowBundle } from '../../worker/create-worker.js';
import { installTemporalLogging } from '../../worker/runtime-logging.js';

// Expected activity failures (the failure and cancellation tests) log at WARN: keep them quiet.
installTemporalLogging(process.env.TEST_LOG_LEVEL ?? 'error');

type ActivityName = keyof SyncActivities;
type InputOf<N extends ActivityName> = Parameters<SyncActivities[N]>[0];
type Inputs = { [N in ActivityName]: InputOf<N>[] };

export interface StubOptions {
  /** Walk pages per type (default 1 each). */
  walkPages?: Partial<Record<EntityType, number>>;
  /** Catch-up pages per type, when the walk asked for a catch-up (default 1). */
  catchUpPages?: number;
  /** Types the smart probe finds nothing new for (state null). */
  unchanged?: EntityType[];
  /** What changedTypesInRun answers (default ['scene']). */
  changedTypes?: EntityType[];
  /** What planPostProcess answers (default every step, in order). */
  steps?: PostProcessStepName[];
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

/**
 * Stand-ins for the activities of activities/index.ts, checked against SyncActivities (a renamed
 * or reshaped activity fails compilation). A type's walk takes `walkPages` pages, its catch-up
 * `catchUpPages`; the cursor's afterId counts the pages of the current phase, so a repeated or
 * lost page shows in the recorded syncPage inputs.
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
      const state = options.unchanged?.includes(input.entityType)
        ? null
        : initialState({ ...input, syncType: 'smart', since: null, catchUp: false });
      return {
        state,
        reason: state ? 'updated-after-mark' : 'nothing-new',
        updatedAfterMark: 0,
        windowRepaired: 0,
        offsetsSeen: [],
      };
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
  } satisfies SyncActivities;
  return { activities, labels, inputs };
}

/**
 * A page activity that never finishes on its own: it heartbeats (the only way an activity hears
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
