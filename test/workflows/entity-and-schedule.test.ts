import { ApplicationFailure } from '@temporalio/common';
import { describe, it } from 'vitest';
import type { PostProcessStepName } from '../../db/postprocess/plan.js';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { syncRunId } from '../../temporal/run-identity.js';
import { syncEntityWorkflow } from '../../workflows/entity-sync.js';
import { scheduledSmartSyncWorkflow } from '../../workflows/scheduled-smart-sync.js';
import { smartSyncWorkflow } from '../../workflows/sync-run.js';
import { createStubActivities, failureOf, useStubWorkers } from './stub-activities.js';

const STEPS: PostProcessStepName[] = ['scene-tag-inheritance', 'entity-counts'];

describe.concurrent('entity-sync and scheduled-smart-sync workflows with stubbed activities', () => {
  const run = useStubWorkers();

  it.for([
    { found: true, expected: [] },
    { found: false, expected: ['repairLinks'] },
  ])(
    'entity sync (found: $found): syncEntity, then run-scoped post-processing, between start and end',
    async ({ found, expected }, { expect }) => {
      const stub = createStubActivities({ found, changedTypes: ['scene'], steps: STEPS });
      const summary = await run(stub.activities, (t) =>
        t.client.workflow.execute(syncEntityWorkflow, {
          taskQueue: t.taskQueue,
          workflowId: t.workflowId('entity'),
          args: [{ entityType: 'scene', id: 42, trigger: 'test' }],
        }),
      );

      const { runId } = summary;
      expect(stub.labels).toEqual([
        'recordRunStart',
        'syncEntity:scene',
        ...expected,
        'changedTypesInRun',
        'planPostProcess',
        ...STEPS.map((step) => `postProcessStep:${step}`),
        'pruneSyncLog',
        'recordRunEnd:completed',
      ]);
      expect(stub.inputs.recordRunStart).toEqual([
        expect.objectContaining({ id: runId, syncType: 'specific', trigger: 'test' }),
      ]);
      expect(stub.inputs.syncEntity).toEqual([{ runId, entityType: 'scene', id: 42 }]);
      expect(stub.inputs.repairLinks).toEqual(found ? [] : [{ runId, syncType: 'specific' }]);
      expect(stub.inputs.changedTypesInRun).toEqual([{ runId }]);
      expect(stub.inputs.planPostProcess).toEqual([{ changedTypes: ['scene'] }]);
      expect(stub.inputs.postProcessStep).toEqual(STEPS.map((step) => ({ step, scope: { kind: 'run', runId } })));
      expect(stub.inputs.recordRunEnd).toEqual([{ runId, status: 'completed', error: null }]);
      expect(summary).toEqual({
        runId,
        status: 'completed',
        syncType: 'specific',
        entityType: 'scene',
        id: 42,
        found,
        postProcessed: STEPS,
      });
    },
  );

  it('entity sync: a non-retryable failure records the run as failed', async ({ expect }) => {
    const stub = createStubActivities({
      override: () => ({
        syncEntity: async () => {
          throw ApplicationFailure.nonRetryable('no such field', 'StashQueryError');
        },
      }),
    });
    const { status } = await run(stub.activities, async (t) =>
      failureOf(
        await t.client.workflow.start(syncEntityWorkflow, {
          taskQueue: t.taskQueue,
          workflowId: t.workflowId('entity-failed'),
          args: [{ entityType: 'tag', id: 7 }],
        }),
      ),
    );

    expect(status).toBe('FAILED');
    expect(stub.labels).toEqual(['recordRunStart', 'syncEntity:tag', 'recordRunEnd:failed']);
    expect(stub.inputs.recordRunEnd).toEqual([
      { runId: stub.inputs.recordRunStart[0]?.id, status: 'failed', error: 'no such field' },
    ]);
  });

  it('scheduled tick: starts the smart sync under the fixed id when none is running', async ({ expect }) => {
    // Nothing new anywhere: the smart sync probes every type at once and walks none.
    const stub = createStubActivities({ unchanged: [...ENTITY_TYPES], steps: [] });
    const { tick, summary, syncWorkflowId } = await run(stub.activities, async (t) => {
      const syncWorkflowId = t.workflowId('fixed-sync');
      const tick = await t.client.workflow.execute(scheduledSmartSyncWorkflow, {
        taskQueue: t.taskQueue,
        workflowId: t.workflowId('tick'),
        args: [{ syncWorkflowId }],
      });
      return { tick, summary: await t.client.workflow.getHandle(syncWorkflowId).result(), syncWorkflowId };
    });

    expect(tick).toEqual({ started: true, runId: summary.runId });
    expect(summary.runId.startsWith(`${syncWorkflowId}/`)).toBe(true);
    expect(summary).toMatchObject({ syncType: 'smart', pages: 0, skippedTypes: [...ENTITY_TYPES] });
    expect(stub.inputs.recordRunStart).toEqual([
      expect.objectContaining({
        id: summary.runId,
        workflowId: syncWorkflowId,
        syncType: 'smart',
        trigger: 'schedule',
      }),
    ]);
    expect(stub.labels).toEqual([
      'recordRunStart',
      'probeSmartTypes',
      'reconcileAndRepair',
      'planRunPostProcess',
      'completeRun',
    ]);
    expect(stub.inputs.probeSmartTypes).toEqual([{ runId: summary.runId, entityTypes: [...ENTITY_TYPES] }]);
  });

  it('scheduled tick: records a skipped run when a sync already holds the fixed id', async ({ expect }) => {
    const stub = createStubActivities();
    const { tick, tickId, tickRunId, syncWorkflowId } = await run(stub.activities, async (t) => {
      const syncWorkflowId = t.workflowId('fixed-sync');
      // A sync that stays running: nothing polls its task queue.
      const running = await t.client.workflow.start(smartSyncWorkflow, {
        taskQueue: `${t.taskQueue}-unpolled`,
        workflowId: syncWorkflowId,
      });
      try {
        const handle = await t.client.workflow.start(scheduledSmartSyncWorkflow, {
          taskQueue: t.taskQueue,
          workflowId: t.workflowId('tick'),
          args: [{ syncWorkflowId }],
        });
        const tick = await handle.result();
        return { tick, tickId: handle.workflowId, tickRunId: handle.firstExecutionRunId, syncWorkflowId };
      } finally {
        await running.terminate('test over');
      }
    });

    const runId = syncRunId(tickId, tickRunId);
    expect(tick).toEqual({ started: false, runId });
    expect(stub.labels).toEqual(['recordSkippedRun']);
    expect(stub.inputs.recordSkippedRun).toEqual([
      {
        id: runId,
        workflowId: tickId,
        temporalRunId: tickRunId,
        syncType: 'smart',
        trigger: 'schedule',
        reason: `skipped: another sync (${syncWorkflowId}) was running`,
      },
    ]);
  });
});
