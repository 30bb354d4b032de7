import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Sql } from '../db/client.js';
import { SYNC_WORKFLOW_ID } from '../temporal/constants.js';
import type { SyncTarget } from '../temporal/sync-client.js';
import type { HookCoalescerOptions } from './hooks/coalescer.js';

/** What createApiApp needs; the CLI (`api`, `dev`) and the tests build it. */
export interface ApiDependencies {
  sql: Sql;
  temporal: Client;
  taskQueue: string;
  workflowId?: string | undefined;
  apiToken?: string | undefined;
  temporalUiUrl?: string | undefined;
  /** Temporal namespace, for Web UI links (default: the client's own). */
  namespace?: string | undefined;
  /** Structured request and error logs (default: pino at info on stdout). */
  logger?: Logger | undefined;
  /** Milliseconds between Server-Sent progress events (default 1000). */
  sseIntervalMs?: number | undefined;
  /** How POST /api/hooks/stash coalesces bursts (HOOK_* settings; defaults in api/hooks/coalescer.ts). */
  hooks?: Partial<HookCoalescerOptions> | undefined;
}

/** The resolved dependencies every route module receives. */
export interface ApiContext {
  sql: Sql;
  temporal: Client;
  target: Required<SyncTarget>;
  namespace: string;
  temporalUiUrl: string | null;
  logger: Logger;
  sseIntervalMs: number;
}

/** Hono's per-request variables: the request id set by the request-id middleware. */
export interface AppEnv {
  Variables: { requestId: string };
}

export function resolveContext(deps: ApiDependencies, logger: Logger): ApiContext {
  return {
    sql: deps.sql,
    temporal: deps.temporal,
    target: { taskQueue: deps.taskQueue, workflowId: deps.workflowId ?? SYNC_WORKFLOW_ID },
    namespace: deps.namespace ?? deps.temporal.options.namespace,
    temporalUiUrl: deps.temporalUiUrl ? deps.temporalUiUrl.replace(/\/+$/, '') : null,
    logger,
    sseIntervalMs: deps.sseIntervalMs ?? 1000,
  };
}
