import type { AppConfig } from '../../config/env.js';
import { connect, type Sql } from '../../db/client.js';
import { pendingMigrations } from '../../db/migrate.js';
import {
  API_LOGIN_ROLE,
  API_ROLE,
  type ConnectionPrivileges,
  connectionPrivileges,
  ensureApiLogin,
  withCredentials,
} from '../../db/roles.js';
import { EXIT, fail } from '../shared.js';
import type { Database } from './services.js';

/** The API's own pool (`api`, and `dev`'s API): a role that cannot write the mirror. */
export interface ApiDatabase {
  sql: Sql;
  close(): Promise<void>;
}

const DOCS = 'docs/readers.md';
/** Tables named in a refusal before "and N more": one line stays one readable line. */
const NAMED = 3;

/**
 * Opens the API's connection and checks, before anything is served, that its role cannot write
 * the mirror (docs/readers.md):
 * - API_DATABASE_URL set: that role; one that can write mirror tables, or lacks what the API
 *   needs, stops the process with one line (exit 78);
 * - unset, on an embedded PostgreSQL this process started: a login in stash_mirror_api with a
 *   new random password, made here, so the default set-up needs nothing configured;
 * - unset, on DATABASE_URL: DATABASE_URL's pool (the owner, who can write), with one warning line.
 * `owner` is null when `api` runs on API_DATABASE_URL alone: then nothing migrates, and a schema
 * older than this code is refused.
 */
export async function openApiDatabase(config: AppConfig, owner: Database | null): Promise<ApiDatabase> {
  let url: string;
  let source: string;
  if (config.API_DATABASE_URL) {
    url = config.API_DATABASE_URL;
    source = 'API_DATABASE_URL';
  } else if (owner?.embedded) {
    url = withCredentials(owner.url, API_LOGIN_ROLE, await ensureApiLogin(owner.sql));
    source = `the API's login ${API_LOGIN_ROLE}`;
  } else if (owner) {
    process.stderr.write(
      `stash-mirror: API_DATABASE_URL is not set: the API connects as DATABASE_URL's role, which can write the mirror; set it to a login in ${API_ROLE} (${DOCS})\n`,
    );
    return { sql: owner.sql, close: async () => {} };
  } else {
    throw new Error('openApiDatabase needs API_DATABASE_URL or the owner database');
  }

  const sql = connect(url, { applicationName: 'stash-mirror api' });
  let problem: string | null;
  try {
    const pending = owner ? [] : await pendingMigrations(sql);
    problem =
      pending.length > 0
        ? `reaches a mirror without ${namesOf(pending)}: run \`stash-mirror migrate\` (as the owner, DATABASE_URL) first`
        : apiConnectionProblem(await connectionPrivileges(sql));
  } catch (error) {
    // postgres.js names the user and host, never the password.
    problem = `cannot be used: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (problem) {
    await sql.end({ timeout: 1 }).catch(() => {});
    fail(`${source} ${problem}`, EXIT.config);
  }
  return { sql, close: () => sql.end({ timeout: 5 }) };
}

/** Why a role must not serve the API (null: it may): it can write the mirror, or lacks what the API needs. */
export function apiConnectionProblem(privileges: ConnectionPrivileges): string | null {
  const role = `"${privileges.role}"`;
  if (privileges.writableMirrorTables.length > 0) {
    return `connects as ${role}, which can write mirror tables (${namesOf(privileges.writableMirrorTables)}): the API must connect as a login in ${API_ROLE}, which cannot (${DOCS})`;
  }
  if (privileges.missingForApi.length > 0) {
    return `connects as ${role}, which lacks ${namesOf(privileges.missingForApi)}: grant it ${API_ROLE} (${DOCS})`;
  }
  return null;
}

function namesOf(names: readonly string[]): string {
  const shown = names.slice(0, NAMED).join(', ');
  return names.length > NAMED ? `${shown} and ${names.length - NAMED} more` : shown;
}
