import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Sql } from './client.js';

/**
 * The database roles that make the mirror read-only for everyone but the sync
 * (migrations/…_reader-roles.sql, docs/readers.md). The read-only trigger is a convention any
 * client can switch off with set_config; these privileges are enforced by PostgreSQL.
 */

/** NOLOGIN group: SELECT on every table, view and sequence of the mirror. */
export const READER_ROLE = 'stash_mirror_reader';
/** NOLOGIN group: the reader, plus writes to API_WRITABLE_TABLES. The API connects as a member. */
export const API_ROLE = 'stash_mirror_api';
/** The LOGIN role in API_ROLE that an embedded PostgreSQL's API connects as (a new password each start). */
export const API_LOGIN_ROLE = 'stash_mirror_api_login';

/**
 * The tables the API writes: the users' own data, and the derived user tables its recompute after
 * a settings change rewrites. The migration grants API_ROLE exactly these (its list says the same;
 * test/chaos/read-only-role.test.ts compares them).
 */
export const API_WRITABLE_TABLES = [
  'users',
  'user_restrictions',
  'user_hidden_entities',
  'user_activity',
  'user_excluded_entities',
  'user_entity_counts',
  'user_stats',
] as const;

export interface ConnectionPrivileges {
  /** current_user of the connection. */
  role: string;
  /**
   * Tables of the mirror's schema, other than API_WRITABLE_TABLES, that this role can INSERT,
   * UPDATE, DELETE or TRUNCATE, or may alter and drop as a member of their owner. Empty for a
   * reader or the API role; every table for the owner or a superuser.
   */
  writableMirrorTables: string[];
  /** What the API needs and this role lacks, e.g. `SELECT on scenes`, `INSERT on users`. */
  missingForApi: string[];
}

/** What the connection's role may do to the mirror (the API's start-up check). */
export async function connectionPrivileges(sql: Sql): Promise<ConnectionPrivileges> {
  const apiTables = [...API_WRITABLE_TABLES];
  const [row] = await sql<{ role: string; writable: string[] | null; missing: string[] | null }[]>`
    with mirror as (
      select c.oid, c.relname::text as name, c.relkind, c.relowner
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'm')
    )
    select
      current_user::text as role,
      (select array_agg(name order by name) from mirror
       where relkind in ('r', 'p') and name <> all(${apiTables}::text[])
         and (has_table_privilege(oid, 'INSERT, UPDATE, DELETE, TRUNCATE') or pg_has_role(relowner, 'MEMBER'))
      ) as writable,
      (select array_agg(need order by need) from (
         select 'SELECT on ' || name as need from mirror where not has_table_privilege(oid, 'SELECT')
         union all
         select p || ' on ' || t from unnest(${apiTables}::text[]) t
           cross join unnest(array['INSERT', 'UPDATE', 'DELETE']) p
         where not coalesce(has_table_privilege(to_regclass(quote_ident(t)), p), false)
       ) needs
      ) as missing`;
  return { role: row?.role ?? '', writableMirrorTables: row?.writable ?? [], missingForApi: row?.missing ?? [] };
}

/**
 * PostgreSQL's SCRAM-SHA-256 verifier of `password` (what the server stores in pg_authid). Sent
 * in place of the password, so the password itself never reaches the server, its log or an error
 * message that quotes the statement.
 */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/**
 * Creates the LOGIN role `name` in API_ROLE, or resets an existing one (its password, attributes
 * and membership), and returns a fresh random password for it. Needs a superuser or CREATEROLE
 * (an embedded PostgreSQL's own superuser). The password is returned, never logged.
 */
export async function ensureApiLogin(sql: Sql, name: string = API_LOGIN_ROLE): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  // Utility statements take no parameters. The verifier is base64 and `$:` (no quote can occur);
  // the doubling is there anyway, as is the identifier quoting of the name.
  const literal = `'${scramSha256Verifier(password).replaceAll("'", "''")}'`;
  const role = `"${name.replaceAll('"', '""')}"`;
  // A login that can do nothing but what API_ROLE grants, whatever was done to it before.
  const attributes = 'LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';
  await sql.begin(async (tx) => {
    const [existing] = await tx`select 1 from pg_roles where rolname = ${name}`;
    if (existing) await tx.unsafe(`ALTER ROLE ${role} WITH ${attributes} PASSWORD ${literal}`);
    else await tx.unsafe(`CREATE ROLE ${role} WITH ${attributes} PASSWORD ${literal}`);
    const [member] = await tx`select pg_has_role(${name}, ${API_ROLE}, 'MEMBER') as yes`;
    if (!member?.yes) await tx.unsafe(`GRANT ${API_ROLE} TO ${role}`);
  });
  return password;
}

/** `url` with another user and password (the same server and database). */
export function withCredentials(url: string, user: string, password: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(user);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}
