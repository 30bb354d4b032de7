/**
 * One full sync on the real stack, measured: wall time (client start → result), entities per
 * second overall and per type, the worker's peak RSS during the run, CPU seconds of each process,
 * the database's size, Temporal history events and each post-processing step's time.
 */

import type { Sql } from '../db/client.js';
import type { StepResult } from '../db/postprocess/plan.js';
import { findRunRow, logRowCount } from '../db/runs.js';
import type { EntityCounts } from '../db/vocabulary.js';
import { ENTITY_SPECS } from '../stash/entities/index.js';
import { ENTITY_TYPES, type EntityType } from '../stash/entity-types.js';
import { runHistory } from './history.js';
import { trackCpu, trackPeakRss } from './proc.js';
import type { BenchStack } from './stack.js';

export interface TypeRate {
  entities: number;
  /** From the type's first to its last committed page (mirror rows' synced_at); null for one page. */
  spanSeconds: number | null;
  perSecond: number | null;
}

export interface FullSyncMeasure {
  seconds: number;
  /** Entities created (the library's size: the sync runs into an empty mirror). */
  entities: number;
  /** Entities fetched, re-reads included (catch-up, a second read again). */
  fetched: number;
  pages: number;
  continuedAsNew: number;
  byType: Partial<Record<EntityType, TypeRate>>;
  workerPeakRssMiB: number | null;
  workerStartupPeakRssMiB: number | null;
  /** CPU seconds each process (tree) used during the run. */
  cpuSeconds: Record<string, number | null>;
  databaseMiB: number;
  temporalEvents: number;
  executions: number;
  steps: StepResult[];
  syncLogRows: number;
}

type RunCounts = Partial<Record<EntityType, Partial<EntityCounts>>>;

export async function databaseMiB(sql: Sql): Promise<number> {
  const [row] = await sql`select pg_database_size(current_database())::float8 as bytes`;
  return Number(row?.bytes ?? 0) / 2 ** 20;
}

/** How long each type's pages took to commit: the spread of its rows' synced_at. */
async function writeSpans(sql: Sql): Promise<Partial<Record<EntityType, number>>> {
  const spans: Partial<Record<EntityType, number>> = {};
  for (const type of ENTITY_TYPES) {
    const [row] = await sql.unsafe(
      `select extract(epoch from max(synced_at) - min(synced_at))::float8 as span from "${ENTITY_SPECS[type].table}"`,
    );
    spans[type] = Number(row?.span ?? 0);
  }
  return spans;
}

export async function measureFullSync(stack: BenchStack, sql: Sql = stack.sql): Promise<FullSyncMeasure> {
  const pids = stack.pids();
  const memory = trackPeakRss(pids.worker);
  const cpu = trackCpu({
    worker: pids.worker,
    postgres: pids.postgres,
    temporal: pids.temporal,
    simulator: pids.simulator,
  });
  const run = await stack.run('full');
  const cpuSeconds = cpu.stop();
  const workerPeakRssMiB = memory.stop();
  const row = await findRunRow(sql, run.summary.runId);
  const counts = ((row?.counts as RunCounts | undefined) ?? run.summary.counts) as RunCounts;
  const spans = await writeSpans(sql);
  const byType: Partial<Record<EntityType, TypeRate>> = {};
  let entities = 0;
  let fetched = 0;
  for (const type of ENTITY_TYPES) {
    const created = counts[type]?.created ?? 0;
    const span = spans[type] ?? 0;
    entities += created;
    fetched += counts[type]?.fetched ?? 0;
    byType[type] = {
      entities: created,
      spanSeconds: span > 0 ? span : null,
      perSecond: span > 0 ? created / span : null,
    };
  }
  const history = await runHistory(stack.client, run.workflowId, run.firstRunId);
  return {
    seconds: run.seconds,
    entities,
    fetched,
    pages: run.summary.pages,
    continuedAsNew: run.summary.continuedAsNew,
    byType,
    workerPeakRssMiB,
    workerStartupPeakRssMiB: stack.workerStartupPeakMiB(),
    cpuSeconds,
    databaseMiB: await databaseMiB(sql),
    temporalEvents: history.events,
    executions: history.executions,
    steps: history.steps,
    syncLogRows: await logRowCount(sql, run.summary.runId),
  };
}
