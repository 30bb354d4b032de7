/**
 * Full sync benchmark: a simulated Stash in a child process (so its memory is not counted),
 * the worker in this process, embedded PostgreSQL (or BENCH_DATABASE_URL) and a Temporal dev
 * server. Prints wall time, entities per second, worker peak RSS and Temporal events used.
 *
 *   npx tsx bench/full-sync.ts [tiny|small|medium|large] [pageSize]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { startEmbeddedPostgres } from '../runtime/embedded-postgres.js';
import { findFreePort } from '../runtime/processes.js';
import { startTemporalDevServer } from '../runtime/temporal-dev-server.js';
import { createStashClient } from '../stash/client.js';
import { connectClient, startFullSync } from '../temporal/sync-client.js';
import { createWorker } from '../worker/create-worker.js';
import { installTemporalLogging } from '../worker/runtime-logging.js';

const scale = process.argv[2] ?? 'medium';
const pageSize = Number(process.argv[3] ?? 500);
installTemporalLogging('warn');

async function startSimulatorProcess(port: number): Promise<ChildProcess> {
  const cli = fileURLToPath(new URL('../bin/stash-mirror.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'simulate', '--scale', scale, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      process.stdout.write(`[simulator] ${chunk}`);
      if (chunk.toString().includes('simulated Stash at')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  return child;
}

const postgres = process.env.BENCH_DATABASE_URL
  ? null
  : await startEmbeddedPostgres({ port: 0, persistent: false, database: 'bench' });
const databaseUrl = process.env.BENCH_DATABASE_URL ?? postgres?.databaseUrl ?? '';
await migrate(databaseUrl);
const sql = connect(databaseUrl, { max: 10 });
const temporal = await startTemporalDevServer({ dbFilename: null, port: 0, uiPort: null, logLevel: 'error' });
const simPort = await findFreePort();
const simulator = await startSimulatorProcess(simPort);

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);

const taskQueue = 'bench';
const { worker, connection } = await createWorker({
  temporalAddress: temporal.address,
  namespace: 'default',
  taskQueue,
  sql,
  stash: createStashClient({ url: `http://127.0.0.1:${simPort}` }),
  pageSize,
  maxDeleteShare: 0.5,
  logRetentionDays: 90,
});
const running = worker.run();
const client = await connectClient({ address: temporal.address, namespace: 'default', taskQueue });

const started = Date.now();
const sync = await startFullSync(client, { taskQueue, workflowId: 'bench-full' }, { trigger: 'bench' });
const summary = await sync.result();
const wallMs = Date.now() - started;
clearInterval(sampler);

const entities = Object.values(summary.counts).reduce((sum, counts) => sum + (counts?.created ?? 0), 0);
let events = 0;
let executions = 0;
for await (const execution of client.workflow.list({ query: `WorkflowId = "bench-full"` })) {
  executions += 1;
  events += execution.historyLength;
}
const [logRows] = await sql`select count(*)::int as n from sync_log`;
console.log(
  JSON.stringify(
    {
      scale,
      pageSize,
      wallSeconds: +(wallMs / 1000).toFixed(1),
      entities,
      entitiesPerSecond: Math.round(entities / (wallMs / 1000)),
      pages: summary.pages,
      workerPeakRssMiB: Math.round(peakRss / 2 ** 20),
      temporalEvents: events,
      executions,
      continuedAsNew: summary.continuedAsNew,
      syncLogRows: logRows?.n,
    },
    null,
    2,
  ),
);

worker.shutdown();
await running;
await connection.close();
await client.connection.close();
simulator.kill('SIGTERM');
await sql.end();
await temporal.stop();
await postgres?.stop();
