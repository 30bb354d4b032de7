/**
 * The real stack for benchmarks: embedded PostgreSQL (or BENCH_DATABASE_URL), a Temporal dev
 * server, the simulated Stash in a child process and the worker in its own child process
 * (`stash-mirror worker`, configured through its environment like a deployment), so the peak
 * memory and CPU time of each are their own.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { connect, type Sql } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import type { MainSyncType } from '../db/vocabulary.js';
import { startEmbeddedPostgres } from '../runtime/embedded-postgres.js';
import { findFreePort } from '../runtime/processes.js';
import { startTemporalDevServer } from '../runtime/temporal-dev-server.js';
import { createStashClient, type StashClient } from '../stash/client.js';
import { connectClient, startSync } from '../temporal/sync-client.js';
import type { SyncInput, SyncRunSummary } from '../workflows/sync-run.js';
import { type RunningChild, startCli } from './child.js';
import { peakRssMiB } from './proc.js';

/** The worker's Node flags in production (Dockerfile, docker-compose.yml): a bounded V8 heap. */
export const WORKER_NODE_ARGS = ['--max-old-space-size=192'];
export const TASK_QUEUE = 'bench';
export const WORKFLOW_ID = 'bench-sync';

export interface SyncRun {
  summary: SyncRunSummary;
  seconds: number;
  /** The chain's first execution: where its history starts. */
  workflowId: string;
  firstRunId: string;
}

export interface BenchDatabase {
  url: string;
  sql: Sql;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

export interface BenchStack {
  scale: string;
  pageSize: number;
  sql: Sql;
  databaseUrl: string;
  client: Client;
  temporalAddress: string;
  simulatorUrl: string;
  /** A Stash client of our own (fetch-only floors), the product's client. */
  stash: StashClient;
  pids(): { worker: number; simulator: number; temporal: number | null; postgres: number | null };
  /** The worker's VmHWM right after it started (bundling the workflows included). */
  workerStartupPeakMiB(): number | null;
  /** Replaces the worker process with one whose environment has these overrides (same task queue). */
  restartWorker(overrides?: Record<string, string>): Promise<void>;
  run(kind: MainSyncType, input?: SyncInput): Promise<SyncRun>;
  control<T = Record<string, unknown>>(action: Record<string, unknown>): Promise<T>;
  /** The environment the CLI needs to reach this stack (`stash-mirror sync …`). */
  cliEnv(): NodeJS.ProcessEnv;
  /** A new, migrated database on the same server. */
  createDatabase(name: string): Promise<BenchDatabase>;
  close(): Promise<void>;
}

export interface StackOptions {
  scale: string;
  pageSize: number;
  /** Extra environment of the worker process (e.g. SYNC_WALK_CONCURRENCY). */
  workerEnv?: Record<string, string>;
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function databaseUrlFor(baseUrl: string, name: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function startSimulator(scale: string): Promise<{ child: RunningChild; url: string }> {
  const port = await findFreePort();
  const child = await startCli(
    'simulator',
    ['simulate', '--scale', scale, '--port', String(port)],
    /simulated Stash at/,
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

export async function startStack(options: StackOptions): Promise<BenchStack> {
  const { scale, pageSize } = options;
  const external = process.env.BENCH_DATABASE_URL;
  const postgres = external ? null : await startEmbeddedPostgres({ port: 0, persistent: false, database: 'bench' });
  const databaseUrl = external ?? postgres?.databaseUrl ?? '';
  await migrate(databaseUrl);
  const sql = connect(databaseUrl, { max: 10, applicationName: 'stash-mirror bench' });
  const temporal = await startTemporalDevServer({ dbFilename: null, port: 0, uiPort: null, logLevel: 'error' });
  const simulator = await startSimulator(scale);
  const client = await connectClient({ address: temporal.address, namespace: 'default', taskQueue: TASK_QUEUE });

  const baseWorkerEnv: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    STASH_URL: simulator.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    SYNC_WORKFLOW_ID: WORKFLOW_ID,
    SMART_SYNC_SCHEDULE: 'off',
    SYNC_PAGE_SIZE: String(pageSize),
    LOG_LEVEL: 'warn',
    ...options.workerEnv,
  };
  const startWorker = (overrides: Record<string, string>) =>
    startCli(
      'worker',
      ['worker'],
      /worker polling task queue/,
      { ...process.env, ...baseWorkerEnv, ...overrides },
      // As the Dockerfile and docker-compose run it (docs/performance.md, "Worker memory").
      WORKER_NODE_ARGS,
    );
  let worker = await startWorker({});
  let workerStartupPeak = peakRssMiB(worker.pid);

  return {
    scale,
    pageSize,
    sql,
    databaseUrl,
    client,
    temporalAddress: temporal.address,
    simulatorUrl: simulator.url,
    stash: createStashClient({ url: simulator.url, timeoutMs: 300_000 }),
    pids: () => ({
      worker: worker.pid,
      simulator: simulator.child.pid,
      temporal: temporal.pid > 0 ? temporal.pid : null,
      postgres: postgres ? postmasterPid(postgres.dataDir) : null,
    }),
    workerStartupPeakMiB: () => workerStartupPeak,
    async restartWorker(overrides = {}) {
      await worker.stop();
      worker = await startWorker(overrides);
      workerStartupPeak = peakRssMiB(worker.pid);
    },
    async run(kind, input = {}) {
      const started = performance.now();
      const sync = await startSync(client, { taskQueue: TASK_QUEUE, workflowId: WORKFLOW_ID }, kind, {
        trigger: 'bench',
        ...input,
      });
      const summary = await sync.result();
      const seconds = (performance.now() - started) / 1000;
      return { summary, seconds, workflowId: sync.workflowId, firstRunId: sync.runId };
    },
    async control<T>(action: Record<string, unknown>) {
      const response = await fetch(`${simulator.url}/__control`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(action),
      });
      const body = (await response.json()) as T;
      if (!response.ok)
        throw new Error(`control ${String(action.action)}: HTTP ${response.status} ${JSON.stringify(body)}`);
      return body;
    },
    cliEnv: () => ({
      ...process.env,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      SYNC_WORKFLOW_ID: WORKFLOW_ID,
      LOG_LEVEL: 'warn',
    }),
    async createDatabase(name) {
      await sql.unsafe(`drop database if exists "${name}" with (force)`);
      await sql.unsafe(`create database "${name}"`);
      const url = databaseUrlFor(databaseUrl, name);
      await migrate(url);
      const own = connect(url, { max: 4, applicationName: 'stash-mirror bench' });
      return {
        url,
        sql: own,
        async drop() {
          await own.end({ timeout: 5 });
          await sql.unsafe(`drop database if exists "${name}" with (force)`);
        },
      };
    },
    async close() {
      await worker.stop().catch(() => {});
      await client.connection.close().catch(() => {});
      await simulator.child.stop().catch(() => {});
      await sql.end({ timeout: 5 }).catch(() => {});
      await temporal.stop().catch(() => {});
      await postgres?.stop().catch(() => {});
    },
  };
}
