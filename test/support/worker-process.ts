import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestStack } from './stack.js';

const CLI = fileURLToPath(new URL('../../bin/stash-mirror.js', import.meta.url));

/**
 * `stash-mirror worker` as its own process (so a test can SIGKILL it), on the stack's database,
 * simulator, Temporal, task queue and workflow id. `env` overrides or adds variables.
 * Its stderr is kept (last 64 KiB) for failure messages: `stderrTail()`.
 */
export function startWorkerProcess(
  stack: Pick<TestStack, 'db' | 'stashUrl' | 'temporalAddress' | 'taskQueue' | 'workflowId'>,
  env: Record<string, string> = {},
): ChildProcess & { stderrTail(): string } {
  const child = spawn(process.execPath, [CLI, 'worker'], {
    env: {
      ...process.env,
      DATABASE_URL: stack.db.url,
      STASH_URL: stack.stashUrl,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      // This test's own lock id, and no schedule: a scheduled smart sync under another id would
      // sync the same database beside the run under test.
      SYNC_WORKFLOW_ID: stack.workflowId,
      SMART_SYNC_SCHEDULE: 'off',
      SYNC_PAGE_SIZE: '50',
      LOG_LEVEL: 'warn',
      // No metrics endpoint: several worker processes at once would fight over the default port.
      WORKER_METRICS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-65_536);
  });
  return Object.assign(child, { stderrTail: () => tail });
}

/** SIGKILL, and resolve when the process is gone. */
export async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
