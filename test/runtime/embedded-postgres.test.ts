import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../runtime/embedded-postgres.js';
import { isPidAlive, isPortOpen } from '../../runtime/processes.js';

// mkdtemp makes a 0700 directory; the postgres user (we may be root) must be able to traverse it.
const scratch = mkdtempSync(path.join(os.tmpdir(), 'stash-mirror-pg-test-'));
chmodSync(scratch, 0o755);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function postmasterPid(dataDir: string): number {
  return Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

async function query<T extends Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    return [...(await sql.unsafe<T[]>(text))];
  } finally {
    await sql.end();
  }
}

describe('startEmbeddedPostgres', () => {
  it('runs a throwaway cluster on a free port and removes every trace on stop', async () => {
    const signalListeners = process.listenerCount('SIGINT');
    const pg = await startEmbeddedPostgres({ port: 0, persistent: false });
    const pid = postmasterPid(pg.dataDir);
    try {
      expect(pg.port).toBeGreaterThan(0);
      expect(pg.databaseUrl).toContain(`127.0.0.1:${pg.port}/stash_mirror`);
      const rows = await query<{ one: number; db: string }>(
        pg.databaseUrl,
        'select 1 as one, current_database() as db',
      );
      expect(rows).toEqual([{ one: 1, db: 'stash_mirror' }]);
      // Importing embedded-postgres must not leave its process.exit()-calling signal handlers behind.
      expect(process.listenerCount('SIGINT')).toBe(signalListeners);
    } finally {
      await pg.stop();
    }
    expect(isPidAlive(pid)).toBe(false);
    expect(await isPortOpen(pg.port)).toBe(false);
    expect(existsSync(pg.dataDir)).toBe(false);
    await pg.stop(); // idempotent
  });

  it('reuses a persistent data directory across starts', async () => {
    const dataDir = path.join(scratch, 'persistent');
    const first = await startEmbeddedPostgres({ dataDir, port: 0, database: 'reuse_test' });
    try {
      await query(first.databaseUrl, "create table kept (v text); insert into kept values ('from the first run')");
    } finally {
      await first.stop();
    }
    expect(await isPortOpen(first.port)).toBe(false);
    expect(existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);

    const second = await startEmbeddedPostgres({ dataDir, port: 0, database: 'reuse_test' });
    try {
      expect(await query(second.databaseUrl, 'select v from kept')).toEqual([{ v: 'from the first run' }]);
    } finally {
      await second.stop();
    }
  });

  it('recovers a data directory whose owner was SIGKILLed (orphaned postgres, stale postmaster.pid)', async () => {
    const dataDir = path.join(scratch, 'orphaned');
    const moduleUrl = pathToFileURL(fileURLToPath(new URL('../../runtime/embedded-postgres.ts', import.meta.url)));
    const script = path.join(scratch, 'crash.mts');
    writeFileSync(
      script,
      `import { startEmbeddedPostgres } from ${JSON.stringify(moduleUrl.href)};\n` +
        `await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: 0 });\n` +
        `process.kill(process.pid, 'SIGKILL');\n`,
    );
    const crashed = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    expect(crashed.signal).toBe('SIGKILL');
    const orphan = postmasterPid(dataDir);
    expect(isPidAlive(orphan)).toBe(true);

    const pg = await startEmbeddedPostgres({ dataDir, port: 0 });
    try {
      expect(isPidAlive(orphan)).toBe(false);
      expect(await query(pg.databaseUrl, 'select 2 as two')).toEqual([{ two: 2 }]);
    } finally {
      await pg.stop();
    }
  });

  it('refuses to initdb into a directory with foreign files', async () => {
    const dataDir = path.join(scratch, 'foreign');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path.join(dataDir, 'notes.txt'), 'not a cluster');
    await expect(startEmbeddedPostgres({ dataDir, port: 0 })).rejects.toThrow(/not a PostgreSQL data directory/);
    expect(readFileSync(path.join(dataDir, 'notes.txt'), 'utf8')).toBe('not a cluster');
  });
});
