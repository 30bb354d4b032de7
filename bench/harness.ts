import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { connect, type Sql } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import type { MainSyncType } from '../db/vocabulary.js';
import { startEmbeddedPostgres } from '../runtime/embedded-postgres.js';
import { findFreePort } from '../runtime/processes.js';
import { startTemporalDevServer } from '../runtime/temporal-dev-server.js';
import { createStashClient } from '../stash/client.js';
import { connectClient, startSync } from '../temporal/sync-client.js';
import { createWorker, type WorkerOptions } from '../worker/create-worker.js';
import { installTemporalLogging } from '../worker/runtime-logging.js';
import type { SyncInput, SyncRunSummary } from '../workflows/sync-run.js';

/**
 * The benchmark stack: a simulated Stash in a child process (its memory is not the worker's),
 * the worker in this process, embedded PostgreSQL (or BENCH_DATABASE_URL), a Temporal dev server.
 */
export interface BenchStack {
  sql: Sql;
  client: Client;
  simulatorUrl: string;
  peakRss(): number;
  /** Replaces the in-process worker with one built with these options (same task queue). */
  restartWorker(options: Partial<WorkerOptions>): Promise<void>;
  run(kind: MainSyncType, input?: SyncInput): Promise<{ summary: SyncRunSummary; seconds: number }>;
  control(action: Record<string, unknown>): Promise<unknown>;
  temporalEvents(): Promise<{ events: number; executions: number }>;
  close(): Promise<void>;
}

const WORKFLOW_ID = 'bench-sync';

async function startSimulatorProcess(scale: string, port: number): Promise<ChildProcess> {
  const cli = fileURLToPath(new URL('../bin/stash-mirror.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'simulate', '--scale', scale, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      process.stderr.write(`[simulator] ${chunk}`);
      if (chunk.toString().includes('simulated Stash at')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return child;
}

export async function startBenchStack(scale: string, pageSize: number): Promise<BenchStack> {
  installTemporalLogging('warn');
  const postgres = process.env.BENCH_DATABASE_URL
    ? null
    : await startEmbeddedPostgres({ port: 0, persistent: false, database: 'bench' });
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? postgres?.databaseUrl ?? '';
  await migrate(databaseUrl);
  const sql = connect(databaseUrl, { max: 10 });
  const temporal = await startTemporalDevServer({ dbFilename: null, port: 0, uiPort: null, logLevel: 'error' });
  const simPort = await findFreePort();
  const simulator = await startSimulatorProcess(scale, simPort);
  const simulatorUrl = `http://127.0.0.1:${simPort}`;

  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  const taskQueue = 'bench';
  const baseOptions: WorkerOptions = {
    temporalAddress: temporal.address,
    namespace: 'default',
    taskQueue,
    sql,
    stash: createStashClient({ url: simulatorUrl }),
    pageSize,
    maxDeleteShare: 0.5,
    logRetentionDays: 90,
  };
  let current = await startWorker(baseOptions);
  const client = await connectClient({ address: temporal.address, namespace: 'default', taskQueue });

  return {
    sql,
    client,
    simulatorUrl,
    peakRss: () => peak,
    async restartWorker(options) {
      await current.stop();
      current = await startWorker({ ...baseOptions, ...options });
    },
    async run(kind, input = {}) {
      const started = Date.now();
      const sync = await startSync(client, { taskQueue, workflowId: WORKFLOW_ID }, kind, {
        trigger: 'bench',
        ...input,
      });
      const summary = await sync.result();
      return { summary, seconds: (Date.now() - started) / 1000 };
    },
    async control(action) {
      const response = await fetch(`${simulatorUrl}/__control`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(action),
      });
      return response.json();
    },
    async temporalEvents() {
      let events = 0;
      let executions = 0;
      for await (const execution of client.workflow.list({ query: `WorkflowId = "${WORKFLOW_ID}"` })) {
        executions += 1;
        events += execution.historyLength;
      }
      return { events, executions };
    },
    async close() {
      clearInterval(sampler);
      await current.stop();
      await client.connection.close();
      simulator.kill('SIGTERM');
      await sql.end();
      await temporal.stop();
      await postgres?.stop();
    },
  };
}

async function startWorker(options: WorkerOptions): Promise<{ stop(): Promise<void> }> {
  const { worker, connection } = await createWorker(options);
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
