import { type Sql, type TransactionSql, withSyncTransaction } from './client.js';
import { lockPostProcessing } from './postprocess/shared.js';
import type { UserRole } from './user-vocabulary.js';

type Db = Sql | TransactionSql;

/**
 * The mirror's users (own data, not Stash's): every read and write of `users`. Deleting one also
 * removes what was derived for them (the guarded user_* tables), which needs the sync writer.
 */

export interface User {
  id: number;
  name: string;
  role: UserRole;
  createdAt: Date;
  updatedAt: Date;
}

interface UserRow {
  id: number;
  name: string;
  role: UserRole;
  created_at: Date;
  updated_at: Date;
}

function toUser(row: UserRow): User {
  return { id: row.id, name: row.name, role: row.role, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** The new user, or null when the name is taken (names are unique). */
export async function createUser(db: Db, input: { name: string; role: UserRole }): Promise<User | null> {
  const [row] = await db<UserRow[]>`
    insert into users (name, role) values (${input.name}, ${input.role})
    on conflict (name) do nothing
    returning *`;
  return row ? toUser(row) : null;
}

export async function listUsers(db: Db): Promise<User[]> {
  const rows = await db<UserRow[]>`select * from users order by id`;
  return rows.map(toUser);
}

export async function findUser(db: Db, id: number): Promise<User | null> {
  const [row] = await db<UserRow[]>`select * from users where id = ${id}`;
  return row ? toUser(row) : null;
}

export type UserUpdate = { name?: string | undefined; role?: UserRole | undefined };

/** The updated user; null when there is none; 'name-taken' when another user has that name. */
export async function updateUser(db: Db, id: number, patch: UserUpdate): Promise<User | null | 'name-taken'> {
  if (patch.name !== undefined) {
    const [other] = await db`select 1 from users where name = ${patch.name} and id <> ${id}`;
    if (other) return 'name-taken';
  }
  try {
    const [row] = await db<UserRow[]>`
      update users
      set name = coalesce(${patch.name ?? null}::text, name), role = coalesce(${patch.role ?? null}::text, role),
          updated_at = now()
      where id = ${id}
      returning *`;
    return row ? toUser(row) : null;
  } catch (error) {
    // A concurrent rename to the same name got there between the check and the update.
    if ((error as { code?: string }).code === '23505') return 'name-taken';
    throw error;
  }
}

/**
 * Deletes a user, their own data (restrictions, hidden entities, activity: foreign keys) and
 * their derived rows, in one transaction. Serialised with post-processing, so a recompute of
 * this user running meanwhile cannot write rows back after the delete.
 */
export async function deleteUser(sql: Sql, id: number): Promise<boolean> {
  return withSyncTransaction(sql, async (tx) => {
    await lockPostProcessing(tx);
    await tx`delete from user_excluded_entities where user_id = ${id}`;
    await tx`delete from user_entity_counts where user_id = ${id}`;
    await tx`delete from user_stats where user_id = ${id}`;
    const deleted = await tx`delete from users where id = ${id}`;
    return deleted.count > 0;
  });
}
