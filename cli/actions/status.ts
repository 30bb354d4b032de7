import type { Client } from '@temporalio/client';
import type { AppConfig } from '../../config/env.js';
import type { Sql } from '../../db/client.js';
import { findRunRow, lastFinishedRunRow, type RunRow, runningEntitySyncRows, runningRunRow } from '../../db/runs.js';
import { listSyncState, type SyncStateRow } from '../../db/sync-state.js';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { entityWorkflowIdPrefix, parseSyncRunId, runningSyncRunId } from '../../temporal/run-identity.js';
import { describeSmartSyncSchedule, type SmartSyncScheduleState } from '../../temporal/schedule.js';
import { queryProgress, withDeadline } from '../../temporal/sync-client.js';
import { loadConfig } from './config.js';
import { count, duration, localTime, table } from './format.js';
import {
  mergeProgress,
  type ProgressView,
  progressFromQuery,
  progressFromRow,
  type RunView,
  sumCounts,
  type TypeLine,
  toRunView,
  WAITING,
} from './run-view.js';
import { scheduleLines } from './schedule.js';
import { connectTemporal, messageOf, printJson, printLines, uiLink, withDatabase } from './session.js';

interface Status {
  runningRunId: string | null;
  /** The running main sync: its run (null while no worker has recorded it yet) and its progress. */
  running: { run: RunView | null; progress: ProgressView } | null;
  runningEntitySyncs: RunView[];
  lastRun: RunView | null;
  entities: Array<{
    entityType: string;
    lastFullSyncAt: string | null;
    lastIncrementalSyncAt: string | null;
    highWaterMark: string | null;
    /** Sync types with a resume cursor: a run of that type is walking, or its next run resumes there. */
    resumeCursors: string[];
  }>;
  schedule: SmartSyncScheduleState | null;
  temporalReachable: boolean;
  temporalError: string | null;
}

/** `stash-mirror status`. */
export async function runStatus(options: { json?: boolean }): Promise<void> {
  const config = loadConfig();
  // Temporal's connection is made while the database answers.
  const temporal = connectTemporal(config).then(
    (client) => ({ client, error: null }),
    (error: unknown) => ({ client: null, error: messageOf(error) }),
  );
  const status = await withDatabase(config, async ({ sql }) => {
    const { client, error } = await temporal;
    try {
      return await readStatus(config, sql, client, error);
    } finally {
      await client?.connection.close();
    }
  });
  if (options.json) printJson(status);
  else printLines(statusLines(config, status));
}

async function readStatus(config: AppConfig, sql: Sql, client: Client | null, temporalError: string | null) {
  const workflowId = config.SYNC_WORKFLOW_ID;
  const link = uiLink(config);
  const [current, entitySyncs, last, states, schedule] = await Promise.all([
    currentRun(sql, client, workflowId),
    runningEntitySyncRows(sql, entityWorkflowIdPrefix(workflowId), 20),
    lastFinishedRunRow(sql, workflowId),
    listSyncState(sql),
    client
      ? withDeadline(client, 3000, () => describeSmartSyncSchedule(client, workflowId)).catch(() => null)
      : Promise.resolve(null),
  ]);
  let running: Status['running'] = null;
  if (current.runId) {
    const parts = parseSyncRunId(current.runId);
    const live = client && parts ? await queryProgress(client, parts.workflowId, parts.firstRunId) : null;
    running = {
      run: current.row ? toRunView(current.row, link) : null,
      progress: mergeProgress(live && progressFromQuery(live), current.row && progressFromRow(current.row)) ?? WAITING,
    };
  }
  const status: Status = {
    runningRunId: current.runId,
    running,
    runningEntitySyncs: entitySyncs.map((row) => toRunView(row, link)),
    lastRun: last ? toRunView(last, link) : null,
    entities: ENTITY_TYPES.flatMap((type) => states.filter((state) => state.entity_type === type).map(toState)),
    schedule,
    temporalReachable: current.temporalReachable,
    temporalError: current.temporalReachable ? null : (current.error ?? temporalError),
  };
  return status;
}

/** The main sync running now: Temporal's word when it answers, else the newest 'running' row. */
async function currentRun(
  sql: Sql,
  client: Client | null,
  workflowId: string,
): Promise<{ runId: string | null; row: RunRow | null; temporalReachable: boolean; error?: string }> {
  if (client) {
    try {
      const runId = await withDeadline(client, 3000, () => runningSyncRunId(client, workflowId));
      return { runId, row: runId ? await findRunRow(sql, runId) : null, temporalReachable: true };
    } catch (error) {
      const row = await runningRunRow(sql, workflowId);
      return { runId: row?.id ?? null, row, temporalReachable: false, error: messageOf(error) };
    }
  }
  const row = await runningRunRow(sql, workflowId);
  return { runId: row?.id ?? null, row, temporalReachable: false };
}

function toState(row: SyncStateRow): Status['entities'][number] {
  return {
    entityType: row.entity_type,
    lastFullSyncAt: row.last_full_sync_at?.toISOString() ?? null,
    lastIncrementalSyncAt: row.last_incremental_sync_at?.toISOString() ?? null,
    highWaterMark: row.high_water_mark_raw,
    resumeCursors: Object.keys(row.resume_cursor ?? {}),
  };
}

// ------------------------------------------------------------------------------------ printing

/** `fetched 1,234 · created 12 · updated 3` (zeros left out). */
export function countsText(totals: Partial<Record<string, number>>): string {
  const parts = ['fetched', 'created', 'updated', 'deleted', 'failed']
    .filter((outcome) => (totals[outcome] ?? 0) > 0)
    .map((outcome) => `${outcome} ${count(totals[outcome] ?? 0)}`);
  return parts.length > 0 ? parts.join(' · ') : 'nothing fetched';
}

/** How long a run took, or has been running. */
export function runDuration(run: RunView, now = Date.now()): string {
  if (run.durationSeconds !== null) return duration(run.durationSeconds * 1000);
  return run.status === 'running' ? `${duration(now - Date.parse(run.startedAt))} so far` : '-';
}

const number = (key: keyof TypeLine) => ({
  header: key,
  align: 'right' as const,
  value: (line: TypeLine) => count(Number(line[key])),
});

/** The per-type progress table of a running run. */
export function progressTable(view: ProgressView): string[] {
  if (view.types.length === 0) return [];
  return table(
    [
      { header: 'type', value: (line: TypeLine) => line.type },
      { header: 'phase', value: (line: TypeLine) => line.phase },
      number('pages'),
      number('fetched'),
      number('created'),
      number('updated'),
      number('unchanged'),
      number('deleted'),
      number('failed'),
    ],
    view.types,
  );
}

function runningLines(status: Status): string[] {
  const { running } = status;
  if (!running) return ['Running: no sync'];
  const run = running.run;
  const progress = running.progress;
  const source = progress.source === 'query' ? 'live' : progress.source === 'database' ? 'from the database' : '';
  const head = run
    ? `Running: ${run.type} sync ${run.id} · trigger ${run.trigger} · started ${localTime(run.startedAt)} (${runDuration(run)})`
    : `Running: ${status.runningRunId} (not recorded yet: waiting for a worker)`;
  return [
    head,
    `  phase: ${progress.phase}${source ? ` (${source})` : ''}`,
    ...progressTable(progress).map((line) => `  ${line}`),
  ];
}

function statusLines(config: AppConfig, status: Status): string[] {
  const lines = runningLines(status);
  for (const run of status.runningEntitySyncs) {
    lines.push(`Also running: single-entity sync ${run.workflowId} · started ${localTime(run.startedAt)}`);
  }
  const last = status.lastRun;
  if (last) {
    lines.push(
      `Last run: ${last.type} sync ${last.status} · ${localTime(last.startedAt)} · took ${runDuration(last)} · ${countsText(sumCounts(last.counts))}`,
      `  ${last.id}`,
    );
    if (last.error) lines.push(`  error: ${last.error}`);
  } else {
    lines.push('Last run: none finished yet');
  }
  lines.push('', 'Entity types:');
  lines.push(
    ...table(
      [
        { header: 'type', value: (state: Status['entities'][number]) => state.entityType },
        { header: 'last full sync', value: (state) => localTime(state.lastFullSyncAt) },
        { header: 'last smart/incremental', value: (state) => localTime(state.lastIncrementalSyncAt) },
        { header: 'high-water mark', value: (state) => state.highWaterMark ?? '-' },
        { header: 'resume cursor', value: (state) => state.resumeCursors.join(', ') || '-' },
      ],
      status.entities,
    ).map((line) => `  ${line}`),
    '',
  );
  if (status.schedule) lines.push(...scheduleLines(status.schedule));
  else
    lines.push(
      status.temporalReachable ? 'Schedule: none (`stash-mirror schedule set` creates it)' : 'Schedule: unknown',
    );
  lines.push(
    status.temporalReachable
      ? `Temporal: ${config.TEMPORAL_ADDRESS}, namespace ${config.TEMPORAL_NAMESPACE}`
      : `Temporal: NOT reachable at ${config.TEMPORAL_ADDRESS} (${status.temporalError ?? 'no answer'}); the running sync shown is the database's view`,
  );
  return lines;
}
