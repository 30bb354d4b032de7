import { ActivityFailure, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { describe, it } from 'vitest';
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
const sorted = (labels: string[]) => [...labels].sort();

/**
 * What breaks the dependency stages: a type that starts (prepare or probe) before a type it
 * depends on finished walking, or walked types of one stage that do not overlap (one finished its
 * walk before another of its stage started).
 */
function stageViolations(labels: string[], start: 'prepareTypeSync' | 'probeSmartType'): string[] {
  const begins = (type: EntityType) => labels.indexOf(`${start}:${type}`);
  const walked = (type: EntityType) => Math.max(begins(type), labels.lastIndexOf(`syncPage:${type}:walk`));
  const violations = ENTITY_TYPES.flatMap((type) =>
    begins(type) < 0
      ? [`${type} never started`]
      : ENTITY_DEPENDENCIES[type]
          .filter((dependency) => begins(type) < walked(dependency))
          .map((dependency) => `${type} started before ${dependency} finished walking`),
  );
  for (const stage of dependencyStages()) {
    const paged = stage.filter((type) => labels.includes(`syncPage:${type}:walk`));
    if (Math.max(...paged.map(begins)) > Math.min(...paged.map(walked))) violations.push(`${paged} ran one by one`);
  }
  return violations;
}

/** The labels of the calls after the last page, with the concurrently run reconciles sorted. */
function tailAfterPages(stub: StubActivities): string[] {
  const tail = stub.labels.slice(stub.labels.findLastIndex((label) => label.startsWith('syncPage:')) + 1);
  const reconciles = sorted(tail.filter((label) => label.startsWith('reconcile')));
  return tail.map((label) => (label.startsWith('reconcile') ? (reconciles.shift() ?? label) : label));
}

// Every test runs its own worker on its own task queue: they run concurrently.
describe.concurrent('sync-run workflows with stubbed activities', () => {
  const run = useStubWorkers();

  it('full sync: stages, catch-up, finish, reconcileType, repair, planned post-processing, prune, run bookkeeping', async ({
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
    expect(stageViolations(stub.labels, 'prepareTypeSync')).toEqual([]);
    expect(stub.inputs.prepareTypeSync.map((input) => input.catchUp)).toEqual(ENTITY_TYPES.map(() => true));
    // Every walk (two pages a type) before the first catch-up page, then one catch-up page a type.
    const pages = stub.labels.filter((label) => label.startsWith('syncPage:'));
    expect(pages.slice(0, 14).every((label) => label.endsWith(':walk'))).toBe(true);
    expect(sorted(pages.slice(14))).toEqual(sorted(ENTITY_TYPES.map((type) => `syncPage:${type}:catchup`)));
    expect(tailAfterPages(stub)).toEqual([
      ...ENTITY_TYPES.map((type) => `finishTypeSync:${type}:done`),
      ...sorted(ENTITY_TYPES.map((type) => `reconcileType:${type}`)),
      'repairLinks',
      'planPostProcess',
      ...STEPS.map((step) => `postProcessStep:${step}`),
      'pruneSyncLog',
      'recordRunEnd:completed',
    ]);
    expect(stub.inputs.finishTypeSync.map((state) => state.phase)).toEqual(ENTITY_TYPES.map(() => 'done'));
    expect(stub.inputs.planPostProcess).toEqual([{ changedTypes: 'all' }]);
    expect(stub.inputs.postProcessStep.map((input) => input.scope)).toEqual(STEPS.map(() => ({ kind: 'all' })));
    expect(stub.inputs.recordRunEnd).toEqual([{ runId: syncRunId, status: 'completed', error: null }]);
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

  it('smart sync: skips the types the probe found nothing new for, walks the others, reconcileIfChanged for all', async ({
    expect,
  }) => {
    const unchanged: EntityType[] = ['tag', 'performer', 'image'];
    const stub = createStubActivities({ walkPages: TWO_PAGES_EACH, unchanged, changedTypes: ['studio'], steps: STEPS });
    const summary = await run(stub.activities, (t) =>
      t.client.workflow.execute(smartSyncWorkflow, { taskQueue: t.taskQueue, workflowId: t.workflowId('smart') }),
    );

    const walked = ENTITY_TYPES.filter((type) => !unchanged.includes(type));
    expect(stub.labels[0]).toBe('recordRunStart');
    expect(stub.inputs.recordRunStart[0]).toMatchObject({ syncType: 'smart', trigger: 'manual' });
    expect(stageViolations(stub.labels, 'probeSmartType')).toEqual([]);
    expect(stub.inputs.prepareTypeSync).toEqual([]);
    expect(new Set(stub.inputs.syncPage.map((state) => state.entityType))).toEqual(new Set(walked));
    expect(stub.inputs.syncPage.every((state) => state.phase === 'walk')).toBe(true);
    expect(tailAfterPages(stub)).toEqual([
      ...walked.map((type) => `finishTypeSync:${type}:done`),
      ...sorted(ENTITY_TYPES.map((type) => `reconcileIfChanged:${type}`)),
      'repairLinks',
      'changedTypesInRun',
      'planPostProcess',
      ...STEPS.map((step) => `postProcessStep:${step}`),
      'pruneSyncLog',
      'recordRunEnd:completed',
    ]);
    expect(stub.inputs.planPostProcess).toEqual([{ changedTypes: ['studio'] }]);
    expect(stub.inputs.postProcessStep.map((input) => input.scope)).toEqual(
      STEPS.map(() => ({ kind: 'run', runId: summary.runId })),
    );
    expect(sorted(summary.skippedTypes)).toEqual(sorted(unchanged));
    expect(sorted(Object.keys(summary.counts))).toEqual(sorted(walked));
    expect(summary.pages).toBe(walked.length * 2);
  });

  it('continues as new when the page budget runs out, carrying the walk across executions', async ({ expect }) => {
    const stub = createStubActivities({ walkPages: { scene: 8 }, steps: [] });
    const since = '2024-01-01T00:00:00Z';
    const { summary, executions } = await run(stub.activities, async (t) => {
      const handle = await t.client.workflow.start(incrementalSyncWorkflow, {
        taskQueue: t.taskQueue,
        workflowId: t.workflowId('budget'),
        args: [{ since, entityTypes: ['scene'], pageBudget: 3 }],
      });
      const summary = await handle.result();
      // Follow the chain of executions from the first one.
      let executions = 0;
      for (let runId: string | undefined = handle.firstExecutionRunId; runId; executions += 1) {
        const history = await t.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
        runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      }
      return { summary, executions };
    });

    expect(executions).toBe(3);
    expect(summary.continuedAsNew).toBe(2);
    expect(stub.inputs.recordRunStart).toHaveLength(1);
    expect(stub.inputs.resolveSince).toEqual([{ entityType: 'scene', since }]);
    expect(stub.inputs.prepareTypeSync).toHaveLength(1);
    expect(stub.inputs.prepareTypeSync[0]).toMatchObject({ syncType: 'incremental', since, catchUp: false });
    // Eight pages in all, each once, in order: the walk's state was carried, never restarted.
    expect(stub.inputs.syncPage.map((state) => state.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(stub.inputs.syncPage.map((state) => state.cursor)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((afterId) => ({ kind: 'id', afterId, since })),
    );
    expect(stub.inputs.syncPage.every((state) => state.runId === summary.runId)).toBe(true);
    expect(stub.inputs.finishTypeSync).toHaveLength(1);
    expect(stub.inputs.reconcileIfChanged.map((input) => input.entityType)).toEqual(['scene']);
    expect(stub.inputs.recordRunEnd).toEqual([{ runId: summary.runId, status: 'completed', error: null }]);
    expect(summary).toMatchObject({ pages: 8, counts: { scene: { fetched: 8 } }, skippedTypes: [] });
  });

  it('records the run as cancelled when cancelled mid-page, once the page activity stopped', async ({ expect }) => {
    let pageStopped = false;
    let stoppedBeforeRunEnd: boolean | undefined;
    const stub = createStubActivities({
      override: (defaults) => ({
        syncPage: () =>
          blockUntilCancelled(() => {
            pageStopped = true;
          }),
        recordRunEnd: (input) => {
          stoppedBeforeRunEnd = pageStopped;
          return defaults.recordRunEnd(input);
        },
      }),
    });
    const { failure, status } = await run(stub.activities, async (t) => {
      const handle = await t.client.workflow.start(fullSyncWorkflow, {
        taskQueue: t.taskQueue,
        workflowId: t.workflowId('cancel'),
      });
      await waitFor(async () => (stub.inputs.syncPage.length > 0 ? true : undefined), 10_000, 20);
      await handle.cancel();
      return failureOf(handle);
    });

    expect(status).toBe('CANCELLED');
    expect(failure.cause).toBeInstanceOf(CancelledFailure);
    expect(stub.inputs.syncPage.map((state) => state.entityType)).toEqual(['tag']);
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
    expect(stub.labels.filter((label) => label === 'reconcileType:scene')).toHaveLength(1);
    expect(stub.inputs.repairLinks).toEqual([]);
    expect(stub.inputs.postProcessStep).toEqual([]);
    expect(stub.inputs.recordRunEnd).toEqual([
      { runId: stub.inputs.recordRunStart[0]?.id, status: 'failed', error: 'refusing to delete' },
    ]);
    expect(stub.labels.at(-1)).toBe('recordRunEnd:failed');
  });
});
