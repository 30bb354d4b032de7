/**
 * Chaos case 10 of issue 13: the mirror is read-only for the API and every reader by the
 * database's own privileges, not only by the trigger a client can switch off with set_config
 * (migrations/…_reader-roles.sql, docs/readers.md).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiConnectionProblem } from '../../cli/actions/api-database.js';
import { envSchema } from '../../config/env.js';
import { connect, type Sql } from '../../db/client.js';
import { migrate } from '../../db/migrate.js';
import {
  API_LOGIN_ROLE,
  API_ROLE,
  API_WRITABLE_TABLES,
  connectionPrivileges,
  READER_ROLE,
  withCredentials,
} from '../../db/roles.js';
import { startEmbeddedPostgres } from '../../runtime/embedded-postgres.js';
import { findFreePort } from '../../runtime/processes.js';
import { API_ROUTES } from '../api/routes.js';
import { type ApiServer, startApi, waitFor } from '../api/support.js';
import { cliEnv, runCli, startCli } from '../cli/support.js';
import { createTestStack, type TestStack } from '../support/stack.js';

const API_TABLES: ReadonlySet<string> = new Set(API_WRITABLE_TABLES);

interface Relation {
  name: string;
  /** r: table, v: view. */
  kind: string;
  /** A column an UPDATE may set to itself (not generated, not an identity). */
  column: string | null;
}

/** Every table and view of the mirror's schema, as its owner sees them. */
async function relationsOf(sql: Sql): Promise<Relation[]> {
  return sql<Relation[]>`
    select c.relname::text as name, c.relkind::text as kind,
      (select a.attname::text from pg_attribute a
       where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = '' and a.attidentity = ''
       order by a.attnum limit 1) as column
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'm')
    order by 1`;
}

/** Row count of every table: what a refused write must leave as it was. */
async function rowCounts(sql: Sql, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const [row] = await sql`select count(*)::int as n from ${sql(table)}`;
    counts[table] = row?.n as number;
  }
  return counts;
}

/** The error a statement fails with (null: it succeeded). */
async function errorOf(run: () => Promise<unknown>): Promise<{ code: string; message: string } | null> {
  try {
    await run();
    return null;
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    return { code: String(code), message: String(message) };
  }
}

/** A LOGIN role in `group` with a random name and password (cluster-wide: dropped in afterAll). */
async function createLogin(admin: Sql, group: string): Promise<{ name: string; password: string }> {
  const name = `rr_${group.replace('stash_mirror_', '')}_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(16).toString('hex');
  await admin.unsafe(`create role ${name} login password '${password}' in role ${group}`);
  return { name, password };
}

describe('the mirror is read-only by role, not only by trigger (chaos case 10)', () => {
  let stack: TestStack;
  let relations: Relation[];
  let tables: string[];
  const logins: string[] = [];
  const pools: Record<'reader' | 'api', Sql> = {} as Record<'reader' | 'api', Sql>;
  const urls: Record<'reader' | 'api', string> = {} as Record<'reader' | 'api', string>;
  let api: ApiServer | undefined;

  beforeAll(async () => {
    stack = await createTestStack({ seed: 10, scale: 'tiny' });
    await stack.startWorker({ pageSize: 50 });
    expect((await (await stack.startFull()).result()).status).toBe('completed');
    relations = await relationsOf(stack.db.sql);
    tables = relations.filter((relation) => relation.kind === 'r' || relation.kind === 'p').map((r) => r.name);
    for (const [key, group] of [
      ['reader', READER_ROLE],
      ['api', API_ROLE],
    ] as const) {
      const login = await createLogin(stack.db.sql, group);
      logins.push(login.name);
      urls[key] = withCredentials(stack.db.url, login.name, login.password);
      pools[key] = connect(urls[key], { max: 2, applicationName: `stash-mirror test ${key}` });
    }
  }, 240_000);

  afterAll(async () => {
    await api?.close();
    await pools.reader?.end({ timeout: 5 });
    await pools.api?.end({ timeout: 5 });
    const admin = stack?.db.sql;
    for (const login of logins) await admin?.unsafe(`drop role if exists ${login}`);
    await stack?.close();
  });

  it('grants the reader SELECT on everything and the API writes on exactly its seven user tables', async () => {
    const sql = stack.db.sql;
    // The mirror as the migrations left it: entity, link, derived, bookkeeping and user tables.
    expect(tables).toEqual(expect.arrayContaining(['scenes', 'scene_tags', 'entity_counts', 'sync_runs', 'users']));
    const grants = await sql<{ role: string; name: string; select: boolean; write: boolean; truncate: boolean }[]>`
      select r.role, c.name,
        has_table_privilege(r.role, c.name, 'SELECT') as select,
        has_table_privilege(r.role, c.name, 'INSERT, UPDATE, DELETE') as write,
        has_table_privilege(r.role, c.name, 'TRUNCATE') as truncate
      from unnest(${[READER_ROLE, API_ROLE]}::text[]) r(role)
      cross join unnest(${relations.map((relation) => relation.name)}::text[]) c(name)`;
    for (const grant of grants) expect(grant.select, `${grant.role} SELECT on ${grant.name}`).toBe(true);
    expect(grants.filter((grant) => grant.truncate)).toEqual([]);
    expect(grants.filter((grant) => grant.role === READER_ROLE && grant.write)).toEqual([]);
    const apiWrites = grants.filter((grant) => grant.role === API_ROLE && grant.write).map((grant) => grant.name);
    // The migration's list and db/roles.ts's are the same list.
    expect(apiWrites.sort()).toEqual([...API_WRITABLE_TABLES].sort());
  });

  it.each(['reader', 'api'] as const)(
    'as the %s role, every write to a mirror table is refused with permission denied, even with the trigger switched off',
    async (key) => {
      const before = await rowCounts(stack.db.sql, tables);
      const connection = await pools[key].reserve();
      try {
        // The bypass that beats the trigger: what the sync itself runs.
        await connection`select set_config('stash_mirror.writer', 'sync', false)`;
        const refused: string[] = [];
        for (const relation of relations.filter((r) => tables.includes(r.name))) {
          const table = connection(relation.name);
          const statements: Array<[string, () => Promise<unknown>]> = [
            ['TRUNCATE', () => connection`truncate ${table} cascade`],
          ];
          // The API role's own tables are written through the API below; TRUNCATE stays refused.
          if (key === 'reader' || !API_TABLES.has(relation.name)) {
            statements.push(
              ['INSERT', () => connection`insert into ${table} default values`],
              ['DELETE', () => connection`delete from ${table}`],
            );
            if (relation.column) {
              const column = connection(relation.column);
              statements.push(['UPDATE', () => connection`update ${table} set ${column} = ${column}`]);
            }
          }
          for (const [what, run] of statements) {
            const error = await errorOf(run);
            expect(error, `${what} on ${relation.name}`).toEqual({
              code: '42501',
              message: `permission denied for table ${relation.name}`,
            });
            refused.push(`${what} ${relation.name}`);
          }
        }
        expect(refused.length).toBeGreaterThan(tables.length);
      } finally {
        connection.release();
      }
      expect(await rowCounts(stack.db.sql, tables)).toEqual(before);
    },
  );

  it.each(['reader', 'api'] as const)(
    'as the %s role, altering the guard, the schema or the session is refused',
    async (key) => {
      const sql = pools[key];
      const attempts: Record<string, () => Promise<unknown>> = {
        'ALTER TABLE ADD COLUMN': () => sql`alter table scenes add column injected int`,
        'DISABLE TRIGGER': () => sql`alter table scenes disable trigger stash_mirror_read_only`,
        'DROP TRIGGER': () => sql`drop trigger stash_mirror_read_only on scenes`,
        'DROP TABLE': () => sql`drop table sync_runs`,
        'replace the trigger function': () =>
          sql`create or replace function stash_mirror_refuse_foreign_writes() returns trigger language plpgsql as 'begin return null; end'`,
        'CREATE TABLE in the schema': () => sql`create table public.injected (i int)`,
        // A function in the mirror's schema could shadow what the sync's queries resolve.
        'CREATE FUNCTION in the schema': () =>
          sql`create function public.lower(varchar) returns text language sql as 'select 1::text'`,
        // Replica mode skips ordinary triggers: superusers only.
        session_replication_role: () => sql`set session_replication_role = replica`,
        'SET ROLE to the owner': () => sql`set role postgres`,
        'the grant function': () => sql`select stash_mirror_grant_roles()`,
      };
      for (const [what, run] of Object.entries(attempts)) {
        const error = await errorOf(run);
        expect(error?.code, `${what}: ${error?.message}`).toBe('42501');
        expect(error?.message, what).toMatch(/^(permission denied|must be owner)/);
      }
      const [trigger] = await stack.db.sql`
        select tgenabled from pg_trigger where tgrelid = 'scenes'::regclass and tgname = 'stash_mirror_read_only'`;
      expect(trigger?.tgenabled).toBe('O');
    },
  );

  it.each(['reader', 'api'] as const)('as the %s role, every table and view reads', async (key) => {
    const counts = await rowCounts(
      pools[key],
      relations.map((relation) => relation.name),
    );
    expect(counts).toEqual(
      await rowCounts(
        stack.db.sql,
        relations.map((relation) => relation.name),
      ),
    );
    expect(counts.scenes).toBe(stack.simulator.library.scenes.size);
  });

  it('the start-up check tells a role that can write from one that cannot', async () => {
    const owner = await connectionPrivileges(stack.db.sql);
    expect(owner.writableMirrorTables).toEqual(expect.arrayContaining(['scenes', 'sync_runs', 'sync_log']));
    expect(apiConnectionProblem(owner)).toMatch(
      /^connects as "[^"]+", which can write mirror tables \(\w+, \w+, \w+ and \d+ more\): the API must connect as a login in stash_mirror_api, which cannot \(docs\/readers\.md\)$/,
    );
    const reader = await connectionPrivileges(pools.reader);
    expect(reader.writableMirrorTables).toEqual([]);
    expect(apiConnectionProblem(reader)).toMatch(
      /^connects as "rr_reader_\w+", which lacks DELETE on \w+, .* and \d+ more: grant it stash_mirror_api/,
    );
    const apiRole = await connectionPrivileges(pools.api);
    expect(apiRole).toEqual({ role: logins[1], writableMirrorTables: [], missingForApi: [] });
    expect(apiConnectionProblem(apiRole)).toBeNull();
  });

  it('the real API serves reads and user-settings writes on the restricted connection', async () => {
    api = await startApi(stack, { sql: pools.api });
    const sql = stack.db.sql;
    const [scene] = await sql<{ scene_id: number; tag_id: number }[]>`
      select scene_id, tag_id from scene_tags order by scene_id, tag_id limit 1`;
    if (!scene) throw new Error('the tiny library has no tagged scene');

    const found = await api.request<{ findScenes: { count: number } }>('POST', '/api/library/scenes', {
      body: { filter: { per_page: 5 } },
    });
    expect(found.status, JSON.stringify(found.body)).toBe(200);
    expect(found.body.findScenes.count).toBe(stack.simulator.library.scenes.size);
    for (const path of [
      `/api/library/scenes/${scene.scene_id}`,
      '/api/sync/status',
      '/api/sync/runs',
      `/api/scenes/${scene.scene_id}/sync-logs`,
      '/metrics',
      '/readyz',
    ]) {
      expect((await api.request('GET', path)).status, path).toBe(200);
    }

    const user = await api.request<{ id: string }>('POST', '/api/users', { body: { name: 'rr viewer', role: 'user' } });
    expect(user.status, JSON.stringify(user.body)).toBe(201);
    const id = user.body.id;
    const restricted = await api.request<{ recompute: { excluded: number } }>('PUT', `/api/users/${id}/restrictions`, {
      body: { tags: { mode: 'EXCLUDE', ids: [String(scene.tag_id)] } },
    });
    expect(restricted.status, JSON.stringify(restricted.body)).toBe(200);
    expect(restricted.body.recompute.excluded).toBeGreaterThan(0);
    const hidden = await api.request('POST', `/api/users/${id}/hidden`, {
      body: { entityType: 'performer', id: String((await sql`select id from performers limit 1`)[0]?.id) },
    });
    expect(hidden.status, JSON.stringify(hidden.body)).toBe(201);
    // The user's view leaves the restricted scene out; everyone else's does not.
    const asUser = { headers: { 'x-mirror-user': id } };
    expect((await api.request('GET', `/api/library/scenes/${scene.scene_id}`, asUser)).status).toBe(404);
    const watched = await api.request('POST', `/api/users/${id}/activity`, {
      body: { sceneId: String(scene.scene_id), event: 'play', at: '2025-01-01T00:00:00Z', durationSeconds: 60 },
    });
    expect(watched.status, JSON.stringify(watched.body)).toBe(201);
    expect((await api.request('GET', `/api/users/${id}/stats?type=tag`)).status).toBe(200);
    const [performer] = await sql`select entity_id from user_hidden_entities where user_id = ${id}`;
    expect((await api.request('DELETE', `/api/users/${id}/hidden/performer/${performer?.entity_id}`)).status).toBe(200);
    expect((await api.request('PATCH', `/api/users/${id}`, { body: { role: 'admin' } })).status).toBe(200);
    const [derived] = await sql`select count(*)::int as n from user_excluded_entities where user_id = ${id}`;
    expect(derived?.n).toBe(0);
    expect((await api.request('DELETE', `/api/users/${id}`)).status).toBe(204);
    expect(await sql`select 1 from users where id = ${id}`).toHaveLength(0);

    // Every route: none runs into a missing privilege.
    for (const route of API_ROUTES) {
      const response = await api.request(
        route.method,
        route.path,
        route.body === undefined ? {} : { body: route.body },
      );
      expect(response.status, `${route.method} ${route.path}: ${JSON.stringify(response.body)}`).toBeLessThan(500);
    }
    expect(api.logs.filter((line) => /permission denied|must be owner/.test(line))).toEqual([]);
  });

  describe('`stash-mirror api` checks its connection at start', () => {
    it.each([
      [
        'the owner',
        () => stack.db.url,
        /^stash-mirror: API_DATABASE_URL connects as "[^"]+", which can write mirror tables \(.+ and \d+ more\): the API must connect as a login in stash_mirror_api, which cannot \(docs\/readers\.md\)\n$/,
      ],
      [
        'a wrong password',
        () => withCredentials(stack.db.url, logins[1] as string, 'wrong-password-7f3a'),
        /^stash-mirror: API_DATABASE_URL cannot be used: password authentication failed for user "rr_api_\w+"\n$/,
      ],
    ])('refuses %s with one line, exit 78', async (_name, url, line) => {
      const result = await runCli(['api'], cliEnv(stack, { API_DATABASE_URL: url(), PORT: '0' }));
      expect(result.code).toBe(78);
      expect(result.stderr).toMatch(line);
      expect(result.stderr).not.toContain('wrong-password-7f3a');
      expect(result.stdout).toBe('');
    });

    it('refuses a mirror its migrations have not reached, when it has no owner connection to migrate with', async () => {
      const name = `rr_empty_${randomBytes(4).toString('hex')}`;
      await stack.db.sql.unsafe(`create database ${name}`);
      try {
        const url = new URL(urls.api);
        url.pathname = `/${name}`;
        const result = await runCli(['api'], cliEnv(stack, { DATABASE_URL: '', API_DATABASE_URL: url.toString() }));
        expect(result.code).toBe(78);
        expect(result.stderr).toMatch(
          /^stash-mirror: API_DATABASE_URL reaches a mirror without 1732000000000_mirror-schema, .+ and \d+ more: run `stash-mirror migrate` \(as the owner, DATABASE_URL\) first\n$/,
        );
      } finally {
        await stack.db.sql.unsafe(`drop database ${name} with (force)`);
      }
    });

    it('serves on API_DATABASE_URL alone, as that role', async () => {
      const port = await findFreePort();
      const env = cliEnv(stack, { DATABASE_URL: '', API_DATABASE_URL: urls.api, PORT: String(port) });
      const { child, done } = startCli(['api'], env);
      try {
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/users`).catch(() => null))?.ok, 30_000);
        const connections = await stack.db.sql`
          select distinct usename::text as role from pg_stat_activity
          where datname = current_database() and application_name = 'stash-mirror api'`;
        expect(connections.map((row) => row.role)).toEqual([logins[1]]);
      } finally {
        child.kill('SIGTERM');
      }
      const result = await done;
      expect(result.stderr).not.toMatch(/API_DATABASE_URL is not set/);
    });

    it('warns in one line when it connects as the owner (API_DATABASE_URL unset)', async () => {
      const port = await findFreePort();
      const { child, done } = startCli(['api'], cliEnv(stack, { PORT: String(port) }));
      try {
        await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/users`).catch(() => null))?.ok, 30_000);
      } finally {
        child.kill('SIGTERM');
      }
      const result = await done;
      const warnings = result.stderr.split('\n').filter((line) => line.includes('API_DATABASE_URL'));
      expect(warnings).toEqual([
        "stash-mirror: API_DATABASE_URL is not set: the API connects as DATABASE_URL's role, which can write the mirror; set it to a login in stash_mirror_api (docs/readers.md)",
      ]);
    });
  });
});

describe('`stash-mirror dev` on the embedded PostgreSQL gives its API a restricted login of its own', () => {
  it('the API connects as stash_mirror_api_login, whose credentials appear nowhere in the output', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'stash-mirror-roles-'));
    // As root, PostgreSQL runs as the postgres user, who must reach the data directory.
    chmodSync(dataDir, 0o755);
    const port = await findFreePort();
    const suffix = randomBytes(4).toString('hex');
    // The README's first command, on its defaults: no DATABASE_URL, no STASH_URL, nothing else set.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...Object.fromEntries(Object.keys(envSchema.shape).map((key) => [key, ''])),
      STASH_MIRROR_DATA_DIR: dataDir,
      // The test run's Temporal, on a task queue and lock id of its own.
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: `roles-${suffix}`,
      SYNC_WORKFLOW_ID: `roles-${suffix}`,
      SMART_SYNC_SCHEDULE: 'off',
      WORKER_METRICS_PORT: '0',
      PORT: String(port),
    };
    const { child, done } = startCli(['dev', '--scale', 'tiny', '--no-initial-sync'], env);
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += String(chunk);
    });
    let superuser: Sql | undefined;
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/users`).catch(() => null))?.ok, 120_000);
      const pgPort = /embedded PostgreSQL on port (\d+)/.exec(stderr)?.[1];
      expect(pgPort).toBeDefined();
      superuser = connect(`postgres://postgres:postgres@127.0.0.1:${pgPort}/stash_mirror`, { max: 1 });
      const connections = await superuser`
        select distinct usename::text as role from pg_stat_activity where application_name = 'stash-mirror api'`;
      expect(connections.map((row) => row.role)).toEqual([API_LOGIN_ROLE]);
      const [login] = await superuser`
        select rolcanlogin, rolsuper, pg_has_role(rolname, ${API_ROLE}, 'MEMBER') as member
        from pg_roles where rolname = ${API_LOGIN_ROLE}`;
      expect(login).toEqual({ rolcanlogin: true, rolsuper: false, member: true });
    } finally {
      await superuser?.end({ timeout: 5 });
      child.kill('SIGTERM');
      await done;
      rmSync(dataDir, { recursive: true, force: true });
    }
    const result = await done;
    expect(result.stdout).toMatch(/^Ready\. Ctrl-C stops everything\.$/m);
    // Neither the login's URL nor its password (or its verifier) is ever printed.
    expect(result.stdout + result.stderr).not.toMatch(new RegExp(`${API_LOGIN_ROLE}|SCRAM-SHA-256|API_DATABASE_URL`));
  }, 180_000);
});

describe('on a fresh server: racing migrations, and an owner without CREATEROLE', () => {
  let server: Awaited<ReturnType<typeof startEmbeddedPostgres>>;
  let admin: Sql;
  const urlOf = (database: string, user = 'postgres', password = 'postgres') => {
    const url = new URL(withCredentials(server.databaseUrl, user, password));
    url.pathname = `/${database}`;
    return url.toString();
  };

  beforeAll(async () => {
    server = await startEmbeddedPostgres({ port: 0, persistent: false, database: 'postgres' });
    admin = connect(server.databaseUrl, { max: 1 });
  }, 120_000);
  afterAll(async () => {
    await admin?.end({ timeout: 5 });
    await server?.stop();
  });

  const roleCount = async () =>
    Number(
      (await admin`select count(*)::int as n from pg_roles where rolname = any(${[READER_ROLE, API_ROLE]}::text[])`)[0]
        ?.n,
    );

  it('an owner without CREATEROLE migrates (no roles made); the documented DBA steps then make it read-only', async () => {
    await admin.unsafe(`create role mirror_owner login password 'owner-pw' createdb nocreaterole`);
    await admin.unsafe('create database owned owner mirror_owner');
    await migrate(urlOf('owned', 'mirror_owner', 'owner-pw'));
    expect(await roleCount()).toBe(0);

    // docs/readers.md, "Without CREATEROLE": a superuser makes the roles, the owner grants.
    await admin.unsafe(`create role ${READER_ROLE} nologin`);
    await admin.unsafe(`create role ${API_ROLE} nologin in role ${READER_ROLE}`);
    const owner = connect(urlOf('owned', 'mirror_owner', 'owner-pw'), { max: 1 });
    await admin.unsafe(`create role an_app login password 'app-pw' in role ${READER_ROLE}`);
    const app = connect(urlOf('owned', 'an_app', 'app-pw'), { max: 1 });
    try {
      expect((await errorOf(() => app`select count(*) from scenes`))?.message).toBe(
        'permission denied for table scenes',
      );
      await owner`select stash_mirror_grant_roles()`;
      expect(await app`select count(*)::int as n from scenes`).toEqual([{ n: 0 }]);
      await app`select set_config('stash_mirror.writer', 'sync', false)`;
      expect(await errorOf(() => app`insert into users (name, role) values ('x', 'user')`)).toEqual({
        code: '42501',
        message: 'permission denied for table users',
      });
      // A table a later migration creates is readable without another grant (default privileges).
      await owner`create table later_table (i int)`;
      expect(await app`select count(*)::int as n from later_table`).toEqual([{ n: 0 }]);
    } finally {
      await app.end({ timeout: 5 });
      await owner.end({ timeout: 5 });
    }
    await admin.unsafe('drop database owned with (force)');
    await admin.unsafe(`drop role an_app`);
    await admin.unsafe(`drop role ${API_ROLE}, ${READER_ROLE}`);
  });

  it('databases migrated at once all get the roles, created once', async () => {
    const names = ['race_a', 'race_b', 'race_c', 'race_d'];
    for (const name of names) await admin.unsafe(`create database ${name}`);
    const results = await Promise.allSettled(names.map((name) => migrate(urlOf(name))));
    expect(results.map((result) => result.status)).toEqual(names.map(() => 'fulfilled'));
    expect(await roleCount()).toBe(2);
    for (const name of names) {
      const sql = connect(urlOf(name), { max: 1 });
      try {
        const [row] = await sql`
          select has_table_privilege(${READER_ROLE}, 'scenes', 'SELECT') as reads,
                 has_table_privilege(${API_ROLE}, 'users', 'INSERT') as writes_users,
                 has_table_privilege(${API_ROLE}, 'scenes', 'INSERT') as writes_scenes`;
        expect(row, name).toEqual({ reads: true, writes_users: true, writes_scenes: false });
      } finally {
        await sql.end({ timeout: 5 });
      }
    }
  });
});
