import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeSmartSyncSchedule,
  ensureSmartSyncSchedule,
  setSmartSyncSchedulePaused,
  triggerSmartSyncSchedule,
} from '../../temporal/schedule.js';
import { startEntitySync } from '../../temporal/sync-client.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

describe('single-entity sync and the scheduled smart sync', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 31, scale: 'tiny' });
    await stack.startWorker({ pageSize: 10 });
    await (await stack.startFull()).result();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('re-reads one scene, logged as specific, and soft-deletes one Stash no longer has', async () => {
    const { control, library } = stack.simulator;
    const [first, second] = [...library.scenes.keys()];
    control.update('scene', first as number, { title: 'edited for a one-scene sync' });
    const target = { taskQueue: stack.taskQueue, workflowId: stack.workflowId };
    const started = await startEntitySync(stack.client, target, { entityType: 'scene', id: first as number });
    const summary = await started.result();
    expect(summary.found).toBe(true);
    const [row] = await stack.db.sql`select title from scenes where id = ${first as number}`;
    expect(row?.title).toBe('edited for a one-scene sync');
    const log = await stack.db.sql`
      select sync_type, change_type, changed_fields from sync_log where run_id = ${started.syncRunId} and entity_id is not null`;
    expect(log).toEqual([
      { sync_type: 'specific', change_type: 'updated', changed_fields: ['title', 'stash_updated_at_raw'] },
    ]);

    control.remove('scene', second as number);
    const gone = await (
      await startEntitySync(stack.client, target, { entityType: 'scene', id: second as number })
    ).result();
    expect(gone.found).toBe(false);
    const [deleted] = await stack.db
      .sql`select deleted_at is not null as deleted from scenes where id = ${second as number}`;
    expect(deleted?.deleted).toBe(true);
  });

  it('runs beside a full sync without corrupting it', async () => {
    const { control, library } = stack.simulator;
    const sceneId = [...library.scenes.keys()][3] as number;
    control.setFaults({ latencyMs: 30 });
    const full = await stack.startFull();
    control.update('scene', sceneId, { title: 'edited during a full sync' });
    const one = await startEntitySync(
      stack.client,
      { taskQueue: stack.taskQueue, workflowId: stack.workflowId },
      { entityType: 'scene', id: sceneId },
    );
    await one.result();
    await full.result();
    control.clearFaults();
    const [row] = await stack.db.sql`select title from scenes where id = ${sceneId}`;
    expect(row?.title).toBe('edited during a full sync');
  });

  it('creates the schedule idempotently, triggers smart syncs, records skipped ticks, and pauses', async () => {
    const settings = { taskQueue: stack.taskQueue, syncWorkflowId: stack.workflowId, intervalSeconds: 3600 };
    const created = await ensureSmartSyncSchedule(stack.client, settings);
    const again = await ensureSmartSyncSchedule(stack.client, { ...settings, intervalSeconds: 1800 });
    expect(created.scheduleId).toBe(again.scheduleId);
    expect(again.intervalSeconds).toBe(1800);
    expect(again.paused).toBe(false);

    await triggerSmartSyncSchedule(stack.client, stack.workflowId);
    const smart = await waitFor(async () => {
      const [row] = await stack.db.sql`
        select id, status from sync_runs where sync_type = 'smart' and trigger = 'schedule' and status = 'completed'`;
      return row;
    });
    expect(smart.id).toMatch(new RegExp(`^${stack.workflowId}/`));
    // The run records its end just before its workflow closes: wait for the close itself.
    await stack.client.workflow.getHandle(stack.workflowId).result();

    // A tick while a sync runs is recorded as skipped, not started beside it.
    stack.simulator.control.setFaults({ latencyMs: 200 });
    const full = await stack.startFull();
    await triggerSmartSyncSchedule(stack.client, stack.workflowId);
    const skipped = await waitFor(async () => {
      const [row] = await stack.db.sql`select status, error from sync_runs where status = 'skipped'`;
      return row;
    });
    expect(skipped.error).toMatch(/another sync .* was running/);
    stack.simulator.control.clearFaults();
    await full.result();

    await setSmartSyncSchedulePaused(stack.client, true, stack.workflowId);
    expect((await describeSmartSyncSchedule(stack.client, stack.workflowId))?.paused).toBe(true);
    // A worker restart re-applies the spec but keeps the user's pause.
    expect((await ensureSmartSyncSchedule(stack.client, settings)).paused).toBe(true);
  });
});
