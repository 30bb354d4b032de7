import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { envSchema } from '../../config/env.js';
import type { TestStack } from '../support/stack.js';

const CLI = fileURLToPath(new URL('../../bin/stash-mirror.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's lines without the trailing empty one. */
  lines: string[];
}

export interface CliProcess {
  child: ChildProcess;
  /** Resolves when the process has exited. */
  done: Promise<CliResult>;
}

/**
 * The environment a user would give `stash-mirror` to reach the test stack: its database, Temporal,
 * task queue, lock id and simulated Stash. Every other setting is blanked (an empty value means
 * unset, and dotenv never overrides a variable that is present), so neither a developer's
 * environment nor a `.env` file reaches the command under test.
 */
export function cliEnv(stack: TestStack, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const blank = Object.fromEntries(Object.keys(envSchema.shape).map((key) => [key, '']));
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TZ: 'UTC',
    ...blank,
    DATABASE_URL: stack.db.url,
    TEMPORAL_ADDRESS: stack.temporalAddress,
    TEMPORAL_TASK_QUEUE: stack.taskQueue,
    SYNC_WORKFLOW_ID: stack.workflowId,
    STASH_URL: stack.stashUrl,
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

/**
 * Starts `node bin/stash-mirror.js <args>` with stdout and stderr piped (neither is a terminal),
 * as a script or CI job runs it. Asynchronous on purpose: the test's in-process worker must keep
 * running while the command waits for a sync.
 */
export function startCli(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const lines = stdout.split('\n');
      if (lines.at(-1) === '') lines.pop();
      resolve({ code, stdout, stderr, lines });
    });
  });
  return { child, done };
}

/** Runs one command to its end (killed after `timeoutMs`). */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  const { child, done } = startCli(args, env);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

/** The last stdout line as JSON (every `--json` command prints its object there). */
export function lastJson<T = Record<string, unknown>>(result: CliResult): T {
  const last = result.lines.at(-1);
  if (last === undefined) throw new Error(`no stdout (exit ${result.code}; stderr: ${result.stderr})`);
  return JSON.parse(last) as T;
}

/** A failing assertion's context: what the command printed. */
export function describeRun(result: CliResult): string {
  return `exit ${result.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}
