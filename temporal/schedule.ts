import {
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type ScheduleSpec,
} from '@temporalio/client';
import { type ScheduledSmartSyncInput, scheduledSmartSyncWorkflow } from '../workflows/scheduled-smart-sync.js';
import { SYNC_WORKFLOW_ID } from './constants.js';

export interface SmartSyncScheduleSettings {
  taskQueue: string;
  /** The fixed id of the one running sync; the schedule's id and its ticks' ids derive from it. */
  syncWorkflowId?: string;
  /** Either an interval or a cron expression (cron wins when both are given). */
  intervalSeconds?: number;
  cron?: string;
  /** Set the paused state; undefined keeps whatever the schedule has (a user's pause survives restarts). */
  paused?: boolean;
}

export interface SmartSyncScheduleState {
  scheduleId: string;
  intervalSeconds: number | null;
  cron: string | null;
  paused: boolean;
  nextRuns: string[];
  recentRuns: Array<{ scheduledAt: string; workflowId: string }>;
}

export function scheduleIdFor(syncWorkflowId: string = SYNC_WORKFLOW_ID): string {
  return `${syncWorkflowId}-smart-schedule`;
}

function specFor(settings: SmartSyncScheduleSettings): ScheduleSpec {
  if (settings.cron) return { cronExpressions: [settings.cron] };
  return { intervals: [{ every: `${settings.intervalSeconds ?? 300}s` }] };
}

/**
 * Creates the smart-sync schedule, or brings an existing one's spec and action up to date
 * (idempotent: the worker calls this at every start). Overlap SKIP: a tick while the previous
 * tick's workflow still runs is dropped; a tick while a sync runs is recorded as skipped by the
 * tick workflow itself (workflows/scheduled-smart-sync.ts).
 */
export async function ensureSmartSyncSchedule(
  client: Client,
  settings: SmartSyncScheduleSettings,
): Promise<SmartSyncScheduleState> {
  const syncWorkflowId = settings.syncWorkflowId ?? SYNC_WORKFLOW_ID;
  const scheduleId = scheduleIdFor(syncWorkflowId);
  const args: [ScheduledSmartSyncInput] = [{ syncWorkflowId }];
  const action = {
    type: 'startWorkflow' as const,
    workflowType: scheduledSmartSyncWorkflow,
    workflowId: `${syncWorkflowId}-scheduled`,
    taskQueue: settings.taskQueue,
    args,
    // Temporal describes a cron spec as calendars; the expression itself is kept here to show it.
    memo: { cron: settings.cron ?? null },
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec: specFor(settings),
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
      state: { paused: settings.paused ?? false, note: 'stash-mirror smart sync' },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({
      ...previous,
      spec: specFor(settings),
      action,
      policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP },
      state: { ...previous.state, paused: settings.paused ?? previous.state.paused },
    }));
  }
  return describeSmartSyncSchedule(client, syncWorkflowId) as Promise<SmartSyncScheduleState>;
}

export async function describeSmartSyncSchedule(
  client: Client,
  syncWorkflowId: string = SYNC_WORKFLOW_ID,
): Promise<SmartSyncScheduleState | null> {
  const scheduleId = scheduleIdFor(syncWorkflowId);
  let description: ScheduleDescription | undefined;
  // A busy dev server now and then fails a describe ("Failed to describe schedule") right after an
  // update: a few bounded retries, never for a schedule that is not there.
  for (let attempt = 1; description === undefined; attempt += 1) {
    try {
      description = await client.schedule.getHandle(scheduleId).describe();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return null;
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
  const interval = description.spec.intervals?.[0]?.every;
  const cron =
    description.action.type === 'startWorkflow'
      ? ((description.action.memo?.cron as string | null | undefined) ?? null)
      : null;
  return {
    scheduleId,
    intervalSeconds:
      typeof interval === 'number' ? interval / 1000 : interval ? Number.parseFloat(String(interval)) : null,
    cron,
    paused: description.state.paused,
    nextRuns: description.info.nextActionTimes.slice(0, 3).map((time) => time.toISOString()),
    recentRuns: description.info.recentActions.slice(-5).map((run) => ({
      scheduledAt: run.scheduledAt.toISOString(),
      workflowId: run.action.workflow.workflowId,
    })),
  };
}

export async function setSmartSyncSchedulePaused(client: Client, paused: boolean, syncWorkflowId?: string) {
  const handle = client.schedule.getHandle(scheduleIdFor(syncWorkflowId));
  if (paused) await handle.pause('paused by stash-mirror');
  else await handle.unpause('resumed by stash-mirror');
}

/** Runs a tick now (a smart sync unless one is running); overlap SKIP passed explicitly. */
export async function triggerSmartSyncSchedule(client: Client, syncWorkflowId?: string): Promise<void> {
  await client.schedule.getHandle(scheduleIdFor(syncWorkflowId)).trigger(ScheduleOverlapPolicy.SKIP);
}
