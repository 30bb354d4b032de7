import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, it } from 'vitest';
import type { SyncActivities } from '../../activities/index.js';
import type { PostProcessStepName } from '../../db/postprocess/plan.js';
import { dependencyStages, ENTITY_DEPENDENCIES, ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import { MassDeletionRefusedError } from '../../sync/reconcile.js';
import { syncRunId as makeSyncRunId } from '../../temporal/run-identity.js';
import { fullSyncWorkflow, incrementalSyncWorkflow, smartSyncWorkflow } from '../../workflows/sync-run.js';
import { waitFor } from '../support/wait.js';
import {
  blockUntilCancelled,
  createStubActivities,
  failureOf,
  nothingDeleted,
  type StubActivities,
  useStubWorkers,
} from './stub-activities.js';

const STEPS: PostProcessStepName[] = ['image-inheritance', 'entity-counts'];
const TWO_PAGES_EACH = Object.fromEntries(ENTITY_TYPES.map((type) => [type, 2]));
const SINCE = '2024-01-01T00:00:00Z';
const sorted = <T>(values: T[]) => [...values].sort();

/** Activities only executions from before walks call (workflows/patches.ts WALKS): never on the new path. */
const LEGACY = new Set<string>([
  'prepareTypeSync',
  'syncPage',
  'finishTypeSync',
  'probeSmartType',
  'resolveSince',
  'reconcileIfChanged',
  'changedTypesInRun',
  'planPostProcess',
  'pruneSyncLog',
] satisfies (keyof SyncActivities)[]);

/** The recorded calls of legacy activities. */
const legacyCalls = (stub: StubActivities) => stub.labels.filter((label) => LEGACY.has(label.split(':')[0] ?? ''));

/** One entry a type, in ENTITY_TYPES order: what `of` says of it. */
const perType = <T>(of: (type: EntityType) => T) => Object.fromEntries(ENTITY_TYPES.map((type) => [type, of(type)]));

/** The calls that name `type`, in order. */
const callsOf = (stub: StubActivities, type: EntityType) => stub.labels.filter((label) => label.split(':')[1] === type);

/**
 * What breaks the dependency stages among the `walked` types: a type that starts (prepareType, or
 * its first walk after a smart probe) before a type it depends on completed its walk phase (its
 * first completeWalkPhase), or walked types of one stage that do not overlap (one completed its
 * walk phase before another of its stage started).
 */
function stageViolations(labels: string[], walked: readonly EntityType[] = ENTITY_TYPES): string[] {
  const begins = (type: EntityType) =>
    labels.findIndex((label) => label === `prepareType:${type}` || label === `walk:${type}:walk`);
  const walkedUntil = (type: EntityType) => labels.indexOf(`completeWalkPhase:${type}`);
  const violations = walked.flatMap((type) =>
    begins(type) < 0 || walkedUntil(type) < 0
      ? [`${type} never walked`]
      : ENTITY_DEPENDENCIES[type]
          .filter((dependency) => walked.includes(dependency) && begins(type) < walkedUntil(dependency))
          .map((dependency) => `${type} started before ${dependency} finished walking`),
  );
  for (const stage of dependencyStages()) {
    const types = stage.filter((type) => walked.includes(type));
    if (Math.max(...types.map(begins)) > Math.min(...types.map(walkedUntil)))
      violations.push(`${types} ran one by one`);
  }
  return violations;
}

/** The labels of the calls after the last completed walk phase, with the concurrently run reconciles sorted. */
function tailAfterWalks(stub: StubActivities): string[] {
  const tail = stub.labels.slice(stub.labels.findLastIndex((label) => label.startsWith('completeWalkPhase:')) + 1);
  const reconciles = sorted(tail.filter((label) => label.startsWith('reconcile')));
  return tail.map((label) => (label.startsWith('reconcile') ? (reconciles.shift() ?? label) : label));
}

// Every test runs its own worker on its own task queue: they run concurrently.
describe.concurrent('sync-run workflows with stubbed activities', () => {
  const run = useStubWorkers();

  it('full sync: stages, walks, catch-up walks after every walk phase, reconcileType, repair, planned post-processing, completeRun', async ({
    expect,
  }) => {
    const stub = createStubActivities({ walkPages: TWO_PAGES_EACH, steps: STEPS });
    const { summary, workflowId, runId } = await run(stub.activities, async (t) => {
      const handle = await t.client.workflow.start(fullSyncWorkflow, {
        taskQueue: t.taskQueue,
        workflowId: t.workflowId('full'),
        args: [{ trigger: 'test' }],
      });
      return { summary: await handle.result(), workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
    });

    const syncRunId = makeSyncRunId(workflowId, runId);
    expect(stub.labels[0]).toBe('recordRunStart');
    expect(stub.inputs.recordRunStart).toEqual([
      { id: syncRunId, workflowId, temporalRunId: runId, syncType: 'full', trigger: 'test' },
    ]);
    expect(stageViolations(stub.labels)).toEqual([]);
    // Per type: prepared, its walk (two calls), the phase completed (catch-up next), one catch-up
    // walk call, the phase completed (done), reconciled.
    expect(perType((type) => callsOf(stub, type))).toEqual(
      perType((type) => [
        `prepareType:${type}`,
        `walk:${type}:walk`,
        `walk:${type}:walk`,
        `completeWalkPhase:${type}`,
        `walk:${type}:catchup`,
        `completeWalkPhase:${type}`,
        `reconcileType:${type}`,
      ]),
    );
    // Every type's walk phase completed before the first catch-up walk.
    const firstCatchUp = stub.labels.findIndex((label) => label.endsWith(':catchup'));
    expect(ENTITY_TYPES.filter((type) => stub.labels.indexOf(`completeWalkPhase:${type}`) > firstCatchUp)).toEqual([]);
    expect(Object.fromEntries(stub.inputs.prepareType.map((input) => [input.entityType, input]))).toEqual(
      perType((entityType) => ({ runId: syncRunId, syncType: 'full', entityType, sinceInstant: null, catchUp: true })),
    );
    expect(stub.inputs.walk).toEqual(
      stub.inputs.walk.map(({ entityType, phase }) => ({
        runId: syncRunId,
        syncType: 'full',
        entityType,
        phase,
        walk: 0,
      })),
    );
    expect(stub.inputs.completeWalkPhase).toEqual(
      stub.inputs.completeWalkPhase.map(({ entityType }) => ({ runId: syncRunId, syncType: 'full', entityType })),
    );
    expect(tailAfterWalks(stub)).toEqual([
      ...sorted(ENTITY_TYPES.map((type) => `reconcileType:${type}`)),
      'repairLinks',
      'planRunPostProcess',
      ...STEPS.map((step) => `postProcessStep:${step}`),
      'completeRun',
    ]);
    expect(legacyCalls(stub)).toEqual([]);
    expect(stub.inputs.planRunPostProcess).toEqual([{ scope: { kind: 'all' } }]);
    expect(stub.inputs.postProcessStep.map((input) => input.scope)).toEqual(STEPS.map(() => ({ kind: 'all' })));
    expect(stub.inputs.completeRun).toEqual([{ runId: syncRunId }]);
    expect(stub.inputs.recordRunEnd).toEqual([]);
    expect(summary).toMatchObject({
      runId: syncRunId,
      status: 'completed',
      syncType: 'full',
      pages: 21,
      skippedTypes: [],
      postProcessed: STEPS,
      continuedAsNew: 0,
    });
    expect(summary.counts.scene).toMatchObject({ fetched: 3, created: 3 });
  });

  it('smart sync: one probe for all types, walks only the changed ones by stage, one reconcileAndRepair', async ({
    expect,
  }) => {
    const unchanged: EntityType[] = ['tag', 'performer', 'image'];
    const stub = createStubActivities({ walkPages: TWO_PAGES_EACH, unchanged, steps: STEPS });
    const summary = await run(stub.activities, (t) =>
      t.client.workflow.execute(smartSyncWorkflow, { taskQueue: t.taskQueue, workflowId: t.workflowId('smart') }),
    );

    const { runId } = summary;
    const walked = ENTITY_TYPES.filter((type) => !unchanged.includes(type));
    expect(stub.labels.slice(0, 2)).toEqual(['recordRunStart', 'probeSmartTypes']);
    expect(stub.inputs.recordRunStart[0]).toMatchObject({ syncType: 'smart', trigger: 'manual' });
    expect(stub.inputs.probeSmartTypes).toEqual([{ runId, entityTypes: [...ENTITY_TYPES] }]);
    expect(stageViolations(stub.labels, walked)).toEqual([]);
    // The changed types walk (no catch-up) and finish with their walk phase; the others are never called.
    expect(perType((type) => callsOf(stub, type))).toEqual(
      perType((type) =>
        unchanged.includes(type) ? [] : [`walk:${type}:walk`, `walk:${type}:walk`, `completeWalkPhase:${type}`],
      ),
    );
    expect(stub.inputs.prepareType).toEqual([]);
    expect(tailAfterWalks(stub)).toEqual([
      'reconcileAndRepair',
      'planRunPostProcess',
      ...STEPS.map((step) => `postProcessStep:${step}`),
      'completeRun',
    ]);
    expect(legacyCalls(stub)).toEqual([]);
    expect(stub.inputs.reconcileAndRepair).toEqual([{ runId, syncType: 'smart', entityTypes: [...ENTITY_TYPES] }]);
    expect(stub.inputs.reconcileType).toEqual([]);
    expect(stub.inputs.repairLinks).toEqual([]);
    expect(stub.inputs.planRunPostProcess).toEqual([{ scope: { kind: 'run', runId } }]);
    expect(stub.inputs.postProcessStep.map((input) => input.scope)).toEqual(STEPS.map(() => ({ kind: 'run', runId })));
    expect(stub.inputs.completeRun).toEqual([{ runId }]);
    expect(stub.inputs.recordRunEnd).toEqual([]);
    expect(sorted(summary.skippedTypes)).toEqual(sorted(unchanged));
    expect(sorted(Object.keys(summary.counts))).toEqual(sorted(walked));
    expect(summary.pages).toBe(walked.length * 2);
  });

  it("walks a type's walks concurrently and completes its phase once all of them are done", async ({ expect }) => {
    /** Each walk's calls and results, in order: `call:N`, then `more:N` or `done:N`; and `complete`. */
    const events: string[] = [];
    const called = new Set<number>();
    const stub = createStubActivities({
      walks: { scene: 3 },
      walkPages: { scene: 2 },
      steps: [],
      override: (defaults) => ({
        walk: async (input) => {
          events.push(`call:${input.walk}`);
          if (!called.has(input.walk)) {
            // A walk's first call waits for the other walks' first calls: they can only all
            // arrive if the workflow runs them at once.
            called.add(input.walk);
            await waitFor(async () => (called.size === 3 ? true : undefined), 10_000, 10);
          }
          const result = await defaults.walk(input);
          events.push(`${result.done ? 'done' : 'more'}:${input.walk}`);
          return result;
        },
        completeWalkPhase: (input) => {
          events.push('complete');
          return defaults.completeWalkPhase(input);
        },
      }),
    });
    const summary = await run(stub.activities, (t) =>
      t.client.workflow.execute(incrementalSyncWorkflow, {
        taskQueue: t.taskQueue,
        workflowId: t.workflowId('walks'),
        args: [{ since: SINCE, entityTypes: ['scene'] }],
      }),
    );

    // All three walks were called before any call finished.
    expect(sorted(events.slice(0, 3))).toEqual(['call:0', 'call:1', 'call:2']);
    // Two calls a walk, the second done; the phase completed once, after the last walk was done.
    expect(sorted(stub.inputs.walk.map((input) => input.walk))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(sorted(events.filter((event) => event.startsWith('done:')))).toEqual(['done:0', 'done:1', 'done:2']);
    expect(events.filter((event) => event === 'complete')).toHaveLength(1);
    expect(events.at(-1)).toBe('complete');
    expect(stub.inputs.completeWalkPhase).toEqual([
      { runId: summary.runId, syncType: 'incremental', entityType: 'scene' },
    ]);
    expect(summary).toMatchObject({ pages: 6, counts: { scene: { fetched: 6 } } });
  });

  it('continues as new when the budget of walk calls runs out, carrying the walk across executions', async ({
    expect,
  }) => {
    const stub = createStubActivities({ walkPages: { scene: 8 }, steps: [] });
    const { summary, walkCalls } = await run(stub.activities, async (t) => {
      const handle = await t.client.workflow.start(incrementalSyncWorkflow, {
        taskQueue: t.taskQueue,
        workflowId: t.workflowId('budget'),
        args: [{ since: SINCE, entityTypes: ['scene'], pageBudget: 3 }],
      });
      const summary = await handle.result();
      // Follow the chain of executions from the first one, counting each one's walk calls.
      const execution = async (runId: string) => {
        const history = await t.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
        const events = history.events ?? [];
        return {
          walks: events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'walk'),
          next: events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined,
        };
      };
      const walkCalls: number[] = [];
      for (let runId: string | undefined = handle.firstExecutionRunId; runId; ) {
        const { walks, next } = await execution(runId);
        walkCalls.push(walks.length);
        runId = next;
      }
      return { summary, walkCalls };
    });

    const { runId } = summary;
    // Three executions: the budget is three walk calls each.
    expect(walkCalls).toEqual([3, 3, 2]);
    expect(summary.continuedAsNew).toBe(2);
    expect(stub.inputs.recordRunStart).toHaveLength(1);
    // Prepared once; eight calls of the one walk in the one run: the state was carried, never restarted.
    expect(stub.inputs.prepareType).toEqual([
      { runId, syncType: 'incremental', entityType: 'scene', sinceInstant: SINCE, catchUp: false },
    ]);
    expect(stub.inputs.walk).toEqual(
      walkCalls.flatMap((calls) =>
        Array.from({ length: calls }, () => ({
          runId,
          syncType: 'incremental',
          entityType: 'scene',
          phase: 'walk',
          walk: 0,
        })),
      ),
    );
    expect(stub.inputs.completeWalkPhase).toEqual([{ runId, syncType: 'incremental', entityType: 'scene' }]);
    expect(stub.inputs.reconcileAndRepair).toEqual([{ runId, syncType: 'incremental', entityTypes: ['scene'] }]);
    expect(legacyCalls(stub)).toEqual([]);
    expect(stub.inputs.completeRun).toEqual([{ runId }]);
    expect(stub.inputs.recordRunEnd).toEqual([]);
    expect(summary).toMatchObject({ pages: 8, counts: { scene: { fetched: 8 } }, skippedTypes: [] });
  });

  it('records the run as cancelled when cancelled mid-walk, once the walk activity stopped', async ({ expect }) => {
    let walkStopped = false;
    let stoppedBeforeRunEnd: boolean | undefined;
    const stub = createStubActivities({
      override: (defaults) => ({
        walk: () =>
          blockUntilCancelled(() => {
            walkStopped = true;
          }),
        recordRunEnd: (input) => {
          stoppedBeforeRunEnd = walkStopped;
          return defaults.recordRunEnd(input);
        },
      }),
    });
    const { failure, status } = await run(stub.activities, async (t) => {
      const handle = await t.client.workflow.start(fullSyncWorkflow, {
        taskQueue: t.taskQueue,
        workflowId: t.workflowId('cancel'),
      });
      await waitFor(async () => (stub.inputs.walk.length > 0 ? true : undefined), 10_000, 20);
      await handle.cancel();
      return failureOf(handle);
    });

    expect(status).toBe('CANCELLED');
    expect(failure.cause).toBeInstanceOf(CancelledFailure);
    // The first stage is tag alone: its one walk was running.
    expect(stub.labels.filter((label) => label.startsWith('walk:'))).toEqual(['walk:tag:walk']);
    expect(stub.inputs.completeWalkPhase).toEqual([]);
    expect(stub.inputs.completeRun).toEqual([]);
    expect(stub.inputs.recordRunEnd).toEqual([
      { runId: stub.inputs.recordRunStart[0]?.id, status: 'cancelled', error: 'cancelled' },
    ]);
    expect(stoppedBeforeRunEnd).toBe(true);
    expect(stub.labels.at(-1)).toBe('recordRunEnd:cancelled');
  });

  it.for([
    {
      thrown: 'ApplicationFailure.nonRetryable',
      refusal: () => ApplicationFailure.nonRetryable('refusing to delete', 'MassDeletionRefusedError'),
    },
    {
      thrown: 'an error that declares itself not retryable (MassDeletionRefusedError)',
      refusal: () => new MassDeletionRefusedError('refusing to delete'),
    },
  ])('fails the run once, without retrying, on $thrown from reconcileType', async ({ refusal }, { expect }) => {
    const stub = createStubActivities({
      override: () => ({
        reconcileType: async (input) => {
          if (input.entityType === 'scene') throw refusal();
          return nothingDeleted(input.entityType);
        },
      }),
    });
    const { failure, status } = await run(stub.activities, async (t) =>
      failureOf(
        await t.client.workflow.start(fullSyncWorkflow, {
          taskQueue: t.taskQueue,
          workflowId: t.workflowId('refused'),
        }),
      ),
    );

    expect(status).toBe('FAILED');
    expect(failure.cause).toBeInstanceOf(ActivityFailure);
    expect(failure.cause?.cause).toBeInstanceOf(ApplicationFailure);
    expect(failure.cause?.cause).toMatchObject({ type: 'MassDeletionRefusedError', message: 'refusing to delete' });
    // Every type walked and caught up (two completed phases each) before the reconciles.
    expect(stub.inputs.completeWalkPhase).toHaveLength(2 * ENTITY_TYPES.length);
    expect(stub.labels.filter((label) => label === 'reconcileType:scene')).toHaveLength(1);
    expect(stub.inputs.repairLinks).toEqual([]);
    expect(stub.inputs.planRunPostProcess).toEqual([]);
    expect(stub.inputs.postProcessStep).toEqual([]);
    expect(stub.inputs.completeRun).toEqual([]);
    expect(stub.inputs.recordRunEnd).toEqual([
      { runId: stub.inputs.recordRunStart[0]?.id, status: 'failed', error: 'refusing to delete' },
    ]);
    expect(stub.labels.at(-1)).toBe('recordRunEnd:failed');
  });
});
