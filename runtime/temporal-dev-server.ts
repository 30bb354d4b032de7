// Runs `temporal server start-dev` as a child process for local development and tests.
// Without a CLI it falls back to the SDK's TestWorkflowEnvironment.createLocal, which downloads the
// server (internet needed) and gives it only a few seconds to start — hence the preference for the
// project-built CLI (scripts/install-temporal.sh).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { registerSearchAttributes } from '../temporal/search-attributes.js';
import { findFreePort, isPidAlive, LogTail, projectRoot, sleep, terminatePid, waitForPidExit } from './processes.js';
import { findTemporalCli } from './temporal-cli.js';

export type SearchAttributeTypeName = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface DevServerOptions {
  /** SQLite file for durable state; null keeps everything in memory. Default: <root>/.data/temporal/dev.db */
  dbFilename?: string | null;
  /** Address the frontend (and UI) bind to. Default 127.0.0.1. */
  ip?: string;
  /** gRPC port. Default 7233; 0 picks a free port. */
  port?: number;
  /** Web UI port. Default port+1000 (a free port when port is 0); null runs headless. */
  uiPort?: number | null;
  /** Namespace created at start (in addition to "default"). Default "default". */
  namespace?: string;
  /** Values for --dynamic-config-value KEY=VALUE; each value is sent as JSON. */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** Server log level: debug | info | warn | error | never. Default warn. */
  logLevel?: string;
  /**
   * Custom search attributes. Passed as --search-attribute (which only applies when the namespace is
   * first created) and also registered through the operator service after start, so an existing db
   * file gets new attributes too.
   */
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  /** Overrides CLI discovery (findTemporalCli). */
  cliPath?: string;
  /** How long to wait for the server to answer. Default 60 s. */
  startTimeoutMs?: number;
  /** Receives every output line of the server (default: kept only for error messages). */
  onLog?: (line: string) => void;
}

export interface RunningDevServer {
  /** host:port for clients and workers. */
  address: string;
  uiUrl: string | null;
  /** PID of the server process; -1 when the SDK's ephemeral server runs it (pid not exposed). */
  pid: number;
  stop(): Promise<void>;
}

const DEFAULT_PORT = 7233;
const DEFAULT_TIMEOUT_MS = 60_000;

/** Default SQLite file of the dev server: project-local and git-ignored. */
export function defaultTemporalDbFile(root: string = projectRoot()): string {
  return path.join(root, '.data', 'temporal', 'dev.db');
}

const indexedValueTypeName = {
  Text: 'TEXT',
  Keyword: 'KEYWORD',
  Int: 'INT',
  Double: 'DOUBLE',
  Bool: 'BOOL',
  Datetime: 'DATETIME',
  KeywordList: 'KEYWORD_LIST',
} as const satisfies Record<SearchAttributeTypeName, string>;

/** Clients cannot dial a wildcard address. */
function dialHost(ip: string): string {
  if (ip === '0.0.0.0') return '127.0.0.1';
  if (ip === '::' || ip === '[::]') return '[::1]';
  return ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
}

interface Resolved {
  dbFilename: string | null;
  ip: string;
  port: number;
  uiPort: number | null;
  namespace: string;
  logLevel: string;
}

async function resolveOptions(options: DevServerOptions): Promise<Resolved> {
  const ip = options.ip ?? '127.0.0.1';
  const probeHost = ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip;
  const requestedPort = options.port ?? DEFAULT_PORT;
  const port = requestedPort === 0 ? await findFreePort(probeHost) : requestedPort;
  let uiPort: number | null;
  if (options.uiPort === null) uiPort = null;
  else if (options.uiPort === undefined || options.uiPort === 0) {
    // port+1000 may be taken or out of range for a random port: ask for a free one then.
    uiPort = requestedPort === 0 || options.uiPort === 0 ? await findFreePort(probeHost) : port + 1000;
  } else uiPort = options.uiPort;
  const dbFilename = options.dbFilename === undefined ? defaultTemporalDbFile() : options.dbFilename;
  return {
    dbFilename: dbFilename === null ? null : path.resolve(dbFilename),
    ip,
    port,
    uiPort,
    namespace: options.namespace ?? 'default',
    logLevel: options.logLevel ?? 'warn',
  };
}

function buildArgs(resolved: Resolved, options: DevServerOptions): string[] {
  const args = ['server', 'start-dev', '--ip', resolved.ip, '--port', String(resolved.port)];
  if (resolved.dbFilename) args.push('--db-filename', resolved.dbFilename);
  if (resolved.uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(resolved.uiPort));
  args.push('--namespace', resolved.namespace, '--log-level', resolved.logLevel, '--color', 'never');
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  for (const [key, type] of Object.entries(options.searchAttributes ?? {})) {
    args.push('--search-attribute', `${key}=${type}`);
  }
  return args;
}

/**
 * Wraps the command in `setpriv --pdeathsig SIGTERM` when available, so the kernel stops the server
 * even if this process is SIGKILLed (an 'exit' handler never runs then).
 */
function withParentDeathSignal(command: string, args: string[]): [string, string[]] {
  if (process.platform !== 'linux') return [command, args];
  for (const setpriv of ['/usr/bin/setpriv', '/bin/setpriv']) {
    if (existsSync(setpriv)) return [setpriv, ['--pdeathsig', 'SIGTERM', '--', command, ...args]];
  }
  return [command, args];
}

/** One readiness probe: the namespace is created shortly after the port opens, so ask for it. */
async function probe(address: string, namespace: string): Promise<Connection> {
  const connection = await Connection.connect({ address, connectTimeout: 2000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return connection;
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw error;
  }
}

type ProbeOutcome = { connection: Connection } | { error: unknown } | { died: string };

/** Probes until the server answers; each probe races `died`, so an early exit is reported at once. */
async function waitUntilServing(
  address: string,
  namespace: string,
  deadline: number,
  died: Promise<string>,
): Promise<Connection> {
  let lastError: unknown;
  while (Date.now() < deadline) {
    const attempt = probe(address, namespace);
    const outcome: ProbeOutcome = await Promise.race([
      attempt.then(
        (connection) => ({ connection }),
        (error: unknown) => ({ error }),
      ),
      died.then((reason) => ({ died: reason })),
    ]);
    if ('connection' in outcome) return outcome.connection;
    if ('died' in outcome) {
      attempt.then((late) => late.close()).catch(() => undefined);
      throw new Error(outcome.died);
    }
    lastError = outcome.error;
    await sleep(250);
  }
  throw new Error(`timed out: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

export async function startTemporalDevServer(options: DevServerOptions = {}): Promise<RunningDevServer> {
  const resolved = await resolveOptions(options);
  if (resolved.dbFilename) mkdirSync(path.dirname(resolved.dbFilename), { recursive: true });
  const cli = options.cliPath ?? findTemporalCli();
  if (!cli) return startWithSdkDownload(resolved, options);

  const address = `${dialHost(resolved.ip)}:${resolved.port}`;
  const [command, args] = withParentDeathSignal(cli, buildArgs(resolved, options));
  const tail = new LogTail();
  const started = Date.now();
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const died = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not run ${cli}: ${error.message}`));
    child.once('close', (code, signal) => resolve(`exited with ${signal ? `signal ${signal}` : `code ${code}`}`));
  });
  const onOutput = (chunk: Buffer): void => {
    for (const line of tail.push(chunk)) options.onLog?.(line);
  };
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  // Last-resort cleanup: 'exit' handlers must be synchronous, so only a signal is sent.
  const killOnExit = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.on('exit', killOnExit);

  const describe = (): string => `temporal dev server (${cli} ${args.slice(args.indexOf('server')).join(' ')})`;
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    const pid = child.pid;
    if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    // SIGTERM lets it flush SQLite; SIGKILL after a few seconds so stop() never hangs.
    await terminatePid(pid, { first: 'SIGTERM', escalation: ['SIGKILL'], graceMs: 5000 });
    // Let Node reap the child so the pid is really gone when stop() resolves.
    await waitForPidExit(pid, 2000);
  };

  let connection: Connection;
  try {
    const deadline = started + (options.startTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    connection = await waitUntilServing(address, resolved.namespace, deadline, died);
  } catch (error) {
    await stop().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${describe()} did not start at ${address}: ${reason}\n--- last output ---\n${tail.toString()}`);
  }
  try {
    if (options.searchAttributes) {
      await registerSearchAttributes(
        connection,
        resolved.namespace,
        Object.entries(options.searchAttributes).map(([name, type]) => ({ name, type: indexedValueTypeName[type] })),
      );
    }
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  } finally {
    await connection.close().catch(() => undefined);
  }

  return {
    address,
    uiUrl: resolved.uiPort === null ? null : `http://${dialHost(resolved.ip)}:${resolved.uiPort}`,
    pid: child.pid ?? -1,
    stop,
  };
}

/** Fallback when no CLI exists: the SDK downloads the dev server (fails offline). */
async function startWithSdkDownload(resolved: Resolved, options: DevServerOptions): Promise<RunningDevServer> {
  const hint =
    'No Temporal CLI found (TEMPORAL_CLI_PATH, .tools/bin/temporal, PATH). Run `bash scripts/install-temporal.sh` ' +
    '(needs Go, e.g. /usr/local/go/bin/go) or set TEMPORAL_CLI_PATH to a `temporal` binary.';
  let testing: typeof import('@temporalio/testing');
  try {
    testing = await import('@temporalio/testing');
  } catch {
    throw new Error(`${hint} (@temporalio/testing, the download fallback, is not installed either)`);
  }
  const extraArgs: string[] = [];
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) {
    extraArgs.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  for (const [key, type] of Object.entries(options.searchAttributes ?? {})) {
    extraArgs.push('--search-attribute', `${key}=${type}`);
  }
  let env: Awaited<ReturnType<typeof testing.TestWorkflowEnvironment.createLocal>>;
  try {
    env = await testing.TestWorkflowEnvironment.createLocal({
      server: {
        ...(resolved.dbFilename ? { dbFilename: resolved.dbFilename } : {}),
        ip: resolved.ip,
        port: resolved.port,
        namespace: resolved.namespace,
        ui: resolved.uiPort !== null,
        ...(resolved.uiPort !== null ? { uiPort: resolved.uiPort } : {}),
        log: { format: 'pretty', level: resolved.logLevel },
        extraArgs,
      },
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${hint} The SDK's download fallback failed too: ${reason}`);
  }
  return {
    address: env.address,
    uiUrl: resolved.uiPort === null ? null : `http://${dialHost(resolved.ip)}:${resolved.uiPort}`,
    pid: -1,
    stop: () => env.teardown(),
  };
}

/** True while the server process is alive (handy for tests and health output). */
export function isDevServerRunning(server: RunningDevServer): boolean {
  return server.pid > 0 && isPidAlive(server.pid);
}
