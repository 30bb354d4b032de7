import type { Client } from '@temporalio/client';
import { parseSyncRunId } from '../../temporal/run-identity.js';
import {
  SyncAlreadyRunningError,
  type SyncTarget,
  startEntitySync,
  startSync,
  withDeadline,
} from '../../temporal/sync-client.js';
import type { HookSyncStarter, SmartStart } from './coalescer.js';

/** sync_runs.trigger of the syncs Stash's hooks start. */
export const HOOK_TRIGGER = 'hook';

/** A start must not hang on an unreachable Temporal (the coalescer retries). */
const START_DEADLINE_MS = 10_000;
/** When the lock's holder could not be named (it was closing), try again after this. */
const UNNAMED_HOLDER_PAUSE_MS = 500;

/**
 * Starts the coalescer's syncs through Temporal: single-entity syncs beside the main sync, smart
 * syncs under the fixed id (one at a time; a refusal names the run holding the lock, whose end
 * the coalescer then waits for).
 */
export function temporalHookStarter(client: Client, target: Required<SyncTarget>): HookSyncStarter {
  return {
    async startEntity(entityType, id) {
      try {
        await withDeadline(client, START_DEADLINE_MS, () =>
          startEntitySync(client, target, { entityType, id, trigger: HOOK_TRIGGER }),
        );
        return 'started';
      } catch (error) {
        if (error instanceof SyncAlreadyRunningError) return 'busy';
        throw error;
      }
    },
    async startSmart(): Promise<SmartStart> {
      try {
        const run = await withDeadline(client, START_DEADLINE_MS, () =>
          startSync(client, target, 'smart', { trigger: HOOK_TRIGGER }),
        );
        return { outcome: 'started', runId: run.syncRunId, finished: run.result() };
      } catch (error) {
        if (!(error instanceof SyncAlreadyRunningError)) throw error;
        const holder = error.runningRunId ?? null;
        return { outcome: 'busy', runId: holder, finished: runEnded(client, holder) };
      }
    },
  };
}

/** Settles when the chain named `runId` has ended (a result, a failure or a cancellation alike). */
async function runEnded(client: Client, runId: string | null): Promise<void> {
  const parsed = runId ? parseSyncRunId(runId) : null;
  if (!parsed) {
    await new Promise((resolve) => setTimeout(resolve, UNNAMED_HOLDER_PAUSE_MS));
    return;
  }
  const handle = client.workflow.getHandle(parsed.workflowId, undefined, { firstExecutionRunId: parsed.firstRunId });
  await handle.result().catch(() => undefined);
}
