/**
 * What the operator commands (status, runs, logs, cancel, schedule, and `sync --wait`'s progress)
 * open: the database and Temporal, read directly (not through the HTTP API).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { AppConfig } from '../../config/env.js';
import { connect } from '../../db/client.js';
import { fail } from '../shared.js';
import type { UiLink } from './run-view.js';
import { type Database, openDatabase } from './services.js';

// The embedded server's defaults (runtime/embedded-postgres.ts startEmbeddedPostgres).
const EMBEDDED_CREDENTIALS = 'postgres:postgres';
const EMBEDDED_DATABASE = 'stash_mirror';

/**
 * The embedded PostgreSQL that `dev` or `worker` runs right now on the project's data directory,
 * or null. Starting a second server on that directory would fail while they run, so a reader
 * connects to theirs.
 */
async function runningEmbeddedUrl(config: AppConfig): Promise<string | null> {
  const { defaultPostgresDataDir } = await import('../../runtime/embedded-postgres.js');
  const { isPidAlive } = await import('../../runtime/processes.js');
  const dataDir = config.STASH_MIRROR_DATA_DIR
    ? path.resolve(config.STASH_MIRROR_DATA_DIR, 'postgres')
    : defaultPostgresDataDir();
  try {
    // postmaster.pid: line 1 the server's pid, line 4 its port.
    const lines = readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    if (!isPidAlive(pid) || !Number.isInteger(port) || port <= 0) return null;
    return `postgres://${EMBEDDED_CREDENTIALS}@127.0.0.1:${port}/${EMBEDDED_DATABASE}`;
  } catch {
    return null;
  }
}

/** DATABASE_URL, or the embedded server running now; null when neither (nothing is started). */
export async function runningDatabaseUrl(config: AppConfig): Promise<string | null> {
  return config.DATABASE_URL ?? (await runningEmbeddedUrl(config));
}

/** A small pool for reading: DATABASE_URL, the embedded server running now, or else the embedded one started. */
export async function openReadDatabase(config: AppConfig): Promise<Database> {
  const url = await runningDatabaseUrl(config);
  if (!url) return openDatabase(config, 'stash-mirror cli');
  const sql = connect(url, { max: 4, applicationName: 'stash-mirror cli' });
  return { url, sql, embedded: false, close: () => sql.end({ timeout: 5 }) };
}

/** A Temporal client that gives up connecting after `timeoutMs` (throws then). */
export async function connectTemporal(config: AppConfig, timeoutMs = 3000): Promise<Client> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: timeoutMs });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

/** connectTemporal, or one line and exit 1 when Temporal cannot be reached. */
export async function requireTemporal(config: AppConfig): Promise<Client> {
  try {
    return await connectTemporal(config);
  } catch (error) {
    return fail(`Temporal is not reachable at ${config.TEMPORAL_ADDRESS} (${messageOf(error)})`);
  }
}

export function uiLink(config: AppConfig): UiLink {
  return { uiUrl: config.TEMPORAL_UI_URL ?? null, namespace: config.TEMPORAL_NAMESPACE };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `work` with the database open and closes it after. A database without the mirror's tables
 * (never migrated) or one that cannot be reached ends in one line and exit 1, not a stack trace.
 */
export async function withDatabase<T>(config: AppConfig, work: (database: Database) => Promise<T>): Promise<T> {
  const database = await openReadDatabase(config);
  try {
    return await work(database);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === '42P01') fail('the database has no stash-mirror tables yet: run `stash-mirror migrate` first');
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '3D000' || code === '28P01') {
      fail(`cannot read the database (${messageOf(error)})`);
    }
    throw error;
  } finally {
    await database.close().catch(() => {});
  }
}

/** Prints one JSON line (the last stdout line of every `--json` command). */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

export function printLines(lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}
