/**
 * Captures Temporal histories of every workflow type as replay fixtures (test/replay/histories).
 * Run it when a workflow change is MEANT to be incompatible with running workflows (and say so in
 * the commit); otherwise test/replay/replay.test.ts keeps such changes from landing unnoticed.
 *   npx tsx scripts/capture-histories.ts   (needs a local PostgreSQL in TEST_DATABASE_URL or starts an embedded one)
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { startEmbeddedPostgres } from '../runtime/embedded-postgres.js';
import { findTemporalCli } from '../runtime/temporal-cli.js';
import { startTemporalDevServer } from '../runtime/temporal-dev-server.js';
import { createSimulator } from '../simulator/index.js';
import { createStashClient } from '../stash/client.js';
import { ensureSmartSyncSchedule, triggerSmartSyncSchedule } from '../temporal/schedule.js';
import { connectClient, startEntitySync, startSync } from '../temporal/sync-client.js';
import { createWorker } from '../worker/create-worker.js';
import { installTemporalLogging } from '../worker/runtime-logging.js';

installTemporalLogging('warn');
const out = (name: string) => fileURLToPath(new URL(`../test/replay/histories/${name}.json`, import.meta.url));
const postgres = await startEmbeddedPostgres({ port: 0, persistent: false, database: 'capture' });
await migrate(postgres.databaseUrl);
const sql = connect(postgres.databaseUrl);
const temporal = await startTemporalDevServer({ dbFilename: null, port: 0, uiPort: null, logLevel: 'error' });
const simulator = createSimulator({ seed: 1, scale: 'tiny', now: new Date('2025-07-01T00:00:00Z') });
const stash = await simulator.listen({ port: 0 });
const taskQueue = 'capture';
const workflowId = 'capture-sync';
const { worker, connection } = await createWorker({
  temporalAddress: temporal.address,
  namespace: 'default',
  taskQueue,
  sql,
  stash: createStashClient({ url: stash.url }),
  pageSize: 10,
  maxDeleteShare: 0.5,
  logRetentionDays: 90,
});
const running = worker.run();
const client = await connectClient({ address: temporal.address, namespace: 'default', taskQueue });
const target = { taskQueue, workflowId };

const cli = findTemporalCli();
if (!cli) throw new Error('the Temporal CLI is needed (scripts/install-temporal.sh)');

/** The CLI's JSON is the format historyFromJSON reads back. */
async function save(name: string, id: string, runId: string) {
  const json = execFileSync(
    cli as string,
    ['workflow', 'show', '--address', temporal.address, '-w', id, '-r', runId, '--output', 'json'],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
    },
  );
  writeFileSync(out(name), json);
  console.log(`captured ${name}: ${(JSON.parse(json) as { events: unknown[] }).events.length} events`);
}

const full = await startSync(client, target, 'full', { trigger: 'capture', pageBudget: 1000 });
await full.result();
await save('full-sync', full.workflowId, full.runId);
simulator.control.remove('tag', [...simulator.library.tags.keys()][0] as number);
simulator.control.update('scene', [...simulator.library.scenes.keys()][0] as number, { title: 'captured' });
const smart = await startSync(client, target, 'smart', { trigger: 'capture' });
await smart.result();
await save('smart-sync', smart.workflowId, smart.runId);
const incremental = await startSync(client, target, 'incremental', {
  trigger: 'capture',
  since: '2025-01-01T00:00:00Z',
});
await incremental.result();
await save('incremental-sync', incremental.workflowId, incremental.runId);
const entity = await startEntitySync(client, target, { entityType: 'scene', id: 1, trigger: 'capture' });
await entity.result();
await save('entity-sync', entity.workflowId, entity.runId);
await ensureSmartSyncSchedule(client, { taskQueue, syncWorkflowId: workflowId, intervalSeconds: 3600 });
await triggerSmartSyncSchedule(client, workflowId);
for (let attempt = 0; attempt < 100; attempt += 1) {
  const ticks = [];
  for await (const execution of client.workflow.list({ query: `WorkflowType = "scheduledSmartSyncWorkflow"` })) {
    if (execution.status.name === 'COMPLETED') ticks.push(execution);
  }
  if (ticks[0]) {
    await save('scheduled-smart-sync', ticks[0].workflowId, ticks[0].runId);
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
await client.schedule.getHandle(`${workflowId}-smart-schedule`).delete();

worker.shutdown();
await running;
await connection.close();
await client.connection.close();
await stash.close();
await sql.end();
await temporal.stop();
await postgres.stop();
