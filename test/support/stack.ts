import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import type { MainSyncType } from '../../db/vocabulary.js';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../simulator/index.js';
import { createStashClient } from '../../stash/client.js';
import type { EntityType } from '../../stash/entity-types.js';
import { scheduleIdFor } from '../../temporal/schedule.js';
import {
  connectClient,
  type StartedSync,
  startEntitySync,
  startFullSync,
  startSync,
} from '../../temporal/sync-client.js';
import { createWorker } from '../../worker/create-worker.js';
import { installTemporalLogging } from '../../worker/runtime-logging.js';
import type { EntitySyncSummary } from '../../workflows/entity-sync.js';
import type { FullSyncInput, SyncInput } from '../../workflows/sync-run.js';
import { createTestDatabase, type TestDatabase } from './db.js';

installTemporalLogging(process.env.TEST_LOG_LEVEL ?? 'warn');

export interface TestStack {
  db: TestDatabase;
  simulator: Simulator;
  stashUrl: string;
  client: Client;
  taskQueue: string;
  workflowId: string;
  temporalAddress: string;
  /**
   * `stashUrl`: STASH_URL as the worker is given it (default: the simulator's base URL).
   * `metrics`: serve the worker's metrics on a free port; `metricsUrl` is where. `apiKey`: the
   * key the worker sends (a wrong one tests Stash's 401).
   */
  startWorker(options?: {
    pageSize?: number;
    maxDeleteShare?: number;
    stashUrl?: string;
    metrics?: boolean;
    /** STASH_API_KEY as the worker is given it (default: the simulator's own key). */
    apiKey?: string;
    /** STASH_UNAVAILABLE_BUDGET_SECONDS (default: the worker's own, 900). */
    stashUnavailableBudgetSeconds?: number;
  }): Promise<{ metricsUrl: string | null }>;
  stopWorker(): Promise<void>;
  startFull(input?: FullSyncInput): Promise<StartedSync>;
  start(kind: MainSyncType, input?: SyncInput): Promise<StartedSync>;
  /** A single-entity sync beside the main sync. */
  startEntity(type: EntityType, id: number): Promise<StartedSync<EntitySyncSummary>>;
  /** Stops the worker, deletes the smart-sync schedule if one was made, drops the database. */
  close(): Promise<void>;
}

export interface TestStackOptions {
  /**
   * A migrated database the caller made (a private PostgreSQL a chaos test stops and starts);
   * close() calls its drop(). Default: a fresh database on the shared test server.
   */
  database?: TestDatabase;
}

/**
 * A fresh database, a simulated Stash on a real port, a Temporal client and (on demand) an
 * in-process worker on a task queue and workflow id of its own, so test files run side by side
 * on the one shared Temporal dev server.
 */
export async function createTestStack(
  simulatorOptions: SimulatorOptions = {},
  temporalAddress = inject('temporalAddress'),
  options: TestStackOptions = {},
): Promise<TestStack> {
  const db = options.database ?? (await createTestDatabase('sync'));
  const simulator = createSimulator(simulatorOptions);
  const listening = await simulator.listen({ port: 0 });
  const client = await connectClient({ address: temporalAddress, namespace: 'default', taskQueue: 'unused' });
  const suffix = randomBytes(4).toString('hex');
  const taskQueue = `test-${suffix}`;
  const workflowId = `stash-mirror-sync-${suffix}`;
  let running: { worker: Worker; done: Promise<void>; close: () => Promise<void> } | undefined;

  const stack: TestStack = {
    db,
    simulator,
    stashUrl: listening.url,
    client,
    taskQueue,
    workflowId,
    temporalAddress,
    async startWorker(options = {}) {
      const { worker, connection, metrics } = await createWorker({
        temporalAddress,
        namespace: 'default',
        taskQueue,
        sql: db.sql,
        stash: createStashClient({
          url: options.stashUrl ?? listening.url,
          apiKey: options.apiKey ?? simulatorOptions.apiKey ?? undefined,
        }),
        pageSize: options.pageSize ?? 100,
        maxDeleteShare: options.maxDeleteShare ?? 0.5,
        logRetentionDays: 90,
        ...(options.stashUnavailableBudgetSeconds !== undefined
          ? { stashUnavailableBudgetSeconds: options.stashUnavailableBudgetSeconds }
          : {}),
        ...(options.metrics ? { metrics: { host: '127.0.0.1', port: 0 } } : {}),
      });
      const done = worker.run();
      running = {
        worker,
        done,
        close: async () => {
          await metrics?.close();
          await connection.close();
        },
      };
      return { metricsUrl: metrics?.url ?? null };
    },
    async stopWorker() {
      if (!running) return;
      running.worker.shutdown();
      await running.done.catch(() => {});
      await running.close();
      running = undefined;
    },
    start(kind, input = {}) {
      return startSync(client, { taskQueue, workflowId }, kind, { trigger: 'test', ...input });
    },
    startEntity(entityType, id) {
      return startEntitySync(client, { taskQueue, workflowId }, { entityType, id, trigger: 'test' });
    },
    startFull(input = {}) {
      return startFullSync(client, { taskQueue, workflowId }, { trigger: 'test', ...input });
    },
    async close() {
      await stack.stopWorker();
      // A schedule a test created (API, CLI, worker start) must not fire into the next test's stack.
      await client.schedule
        .getHandle(scheduleIdFor(workflowId))
        .delete()
        .catch(() => {});
      await client.connection.close();
      await listening.close();
      await db.drop();
    },
  };
  return stack;
}

/** A fingerprint of every mirror table's content (including synced_at / computed_at stamps). */
export async function mirrorFingerprint(sql: TestDatabase['sql']): Promise<Record<string, string>> {
  const tables = [
    'studios',
    'tags',
    'performers',
    'groups',
    'galleries',
    'scenes',
    'images',
    'scene_performers',
    'scene_tags',
    'scene_galleries',
    'scene_groups',
    'image_galleries',
    'image_performers',
    'image_tags',
    'gallery_performers',
    'gallery_tags',
    'performer_tags',
    'studio_tags',
    'group_tags',
    'tag_parents',
    'group_relations',
    'image_effective',
    'image_effective_performers',
    'image_effective_tags',
    'scene_inherited_tags',
    'entity_counts',
  ];
  const result: Record<string, string> = {};
  for (const table of tables) {
    const [row] = await sql.unsafe(
      `select count(*)::int as n, coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as h from "${table}" t`,
    );
    result[table] = `${row?.n}:${row?.h}`;
  }
  return result;
}
