/**
 * The project's own CLI as a child process (`node bin/stash-mirror.js …`): the simulated Stash
 * and the worker run apart from the bench, so their memory and CPU are theirs alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { terminatePid, waitForPidExit } from '../runtime/processes.js';

export const CLI = fileURLToPath(new URL('../bin/stash-mirror.js', import.meta.url));
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface RunningChild {
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `stash-mirror <args>` and resolves once a line of its output matches `ready`. Its output
 * is passed on to stderr with a `[label]` prefix; an exit before `ready` rejects.
 */
export async function startCli(
  label: string,
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = process.env,
  nodeArgs: string[] = [],
): Promise<RunningChild> {
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${label}: could not start`);
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      for (const line of text.split('\n').filter(Boolean)) process.stderr.write(`[${label}] ${line}\n`);
      if (ready.test(text)) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`${label} exited (${signal ?? code}) before it was ready`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      await terminatePid(pid, { first: 'SIGTERM', escalation: ['SIGKILL'], graceMs: 10_000 });
      await Promise.race([exited, waitForPidExit(pid, 5000)]);
    },
  };
}
