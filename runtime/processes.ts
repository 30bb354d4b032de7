// Small process and port helpers shared by the local-stack launchers (Temporal dev server,
// embedded PostgreSQL). Linux-first: /proc is consulted where it exists, and skipped elsewhere.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

/** The repository root: this file lives in <root>/runtime/. */
export function projectRoot(): string {
  return fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
}

/**
 * Asks the kernel for a free TCP port on `host`. There is a small window between closing the probe
 * socket and the server binding it; the launchers fail with a clear error if someone takes it.
 */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

/** True when something accepts TCP connections on host:port. */
export async function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * True when `pid` names a live process. A zombie (exited, not yet reaped — common for orphans in
 * containers whose PID 1 does not reap) counts as gone, which `kill(pid, 0)` alone would not say.
 */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (not Linux): trust kill(0)
  }
}

/** The command line of a process, or null when it cannot be read. */
export function processCommandLine(pid: number): string[] | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until the process is gone; false if it is still alive after `timeoutMs`. */
export async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isPidAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/**
 * Sends `first` (SIGTERM by default), waits `graceMs`, then escalates through `escalation` (SIGKILL
 * by default), waiting `graceMs` after each. Resolves once the process is gone.
 */
export async function terminatePid(
  pid: number,
  options: { first?: NodeJS.Signals; escalation?: NodeJS.Signals[]; graceMs?: number } = {},
): Promise<void> {
  const graceMs = options.graceMs ?? 5000;
  if (!isPidAlive(pid)) return;
  signal(pid, options.first ?? 'SIGTERM');
  if (await waitForPidExit(pid, graceMs)) return;
  for (const next of options.escalation ?? ['SIGKILL']) {
    signal(pid, next);
    if (await waitForPidExit(pid, graceMs)) return;
  }
  throw new Error(`process ${pid} did not exit after ${options.first ?? 'SIGTERM'} and escalation`);
}

/** Keeps the last `max` lines of a child's output, for error messages. */
export class LogTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly max = 60) {}

  push(chunk: string | Buffer): string[] {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      if (this.lines.length > this.max) this.lines.shift();
    }
    return parts;
  }

  toString(): string {
    return [...this.lines, ...(this.partial ? [this.partial] : [])].join('\n');
  }
}
