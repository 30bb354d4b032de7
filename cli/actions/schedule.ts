import type { Client } from '@temporalio/client';
import type { AppConfig } from '../../config/env.js';
import {
  describeSmartSyncSchedule,
  ensureSmartSyncSchedule,
  type SmartSyncScheduleState,
  setSmartSyncSchedulePaused,
} from '../../temporal/schedule.js';
import { withDeadline } from '../../temporal/sync-client.js';
import { EXIT, fail } from '../shared.js';
import { loadConfig } from './config.js';
import { localTime } from './format.js';
import { messageOf, printJson, printLines, requireTemporal } from './session.js';

export type ScheduleAction =
  | { action: 'show' | 'pause' | 'resume' }
  | { action: 'set'; spec: { intervalSeconds: number } | { cron: string } };

const GRPC_INVALID_ARGUMENT = 3;

/** `Schedule: every 300s · active · next …` and the recent runs. */
export function scheduleLines(schedule: SmartSyncScheduleState): string[] {
  const when = schedule.cron ? `cron "${schedule.cron}"` : `every ${schedule.intervalSeconds ?? '?'}s`;
  const lines = [
    `Schedule: smart sync ${when} · ${schedule.paused ? 'PAUSED' : 'active'} · ${schedule.scheduleId}`,
    `  next: ${schedule.paused ? '- (paused)' : schedule.nextRuns.map(localTime).join(', ') || '-'}`,
  ];
  const recent = schedule.recentRuns.map((run) => localTime(run.scheduledAt));
  if (recent.length > 0) lines.push(`  recent: ${recent.join(', ')}`);
  return lines;
}

/** `stash-mirror schedule [show|pause|resume|set]`. */
export async function runSchedule(request: ScheduleAction, options: { json?: boolean }): Promise<void> {
  const config = loadConfig();
  const client = await requireTemporal(config);
  try {
    const schedule = await apply(config, client, request);
    if (options.json) printJson(schedule);
    else printLines(scheduleLines(schedule));
  } finally {
    await client.connection.close();
  }
}

async function apply(config: AppConfig, client: Client, request: ScheduleAction): Promise<SmartSyncScheduleState> {
  const workflowId = config.SYNC_WORKFLOW_ID;
  const describe = () => withDeadline(client, 5000, () => describeSmartSyncSchedule(client, workflowId));
  if (request.action === 'set') {
    try {
      // Paused or not stays as it is (undefined); the worker's start re-applies the configured spec.
      return await withDeadline(client, 10_000, () =>
        ensureSmartSyncSchedule(client, {
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          syncWorkflowId: workflowId,
          ...request.spec,
        }),
      );
    } catch (error) {
      // The schedule client turns Temporal's "invalid schedule spec" into a TypeError.
      if (error instanceof TypeError || (error as { code?: unknown }).code === GRPC_INVALID_ARGUMENT) {
        fail(`${'cron' in request.spec ? '--cron' : '--interval'}: ${messageOf(error)}`, EXIT.usage);
      }
      throw error;
    }
  }
  const current = await describe();
  if (!current) {
    fail(
      'no smart-sync schedule yet: `stash-mirror schedule set --interval <seconds>` creates it (so does starting the worker)',
    );
  }
  if (request.action === 'show') return current;
  const paused = request.action === 'pause';
  if (current.paused !== paused)
    await withDeadline(client, 5000, () => setSmartSyncSchedulePaused(client, paused, workflowId));
  return (await describe()) ?? current;
}
