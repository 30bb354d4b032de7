import { type Sql, type TransactionSql, withSyncTransaction } from '../client.js';
import { runStartedAt } from '../runs.js';
import { readRestrictions } from '../user-settings.js';
import type { PostProcessScope, StepResult } from './plan.js';
import { elapsedMs, loadRunChanges, lockPostProcessing } from './shared.js';
import { computeExclusionSet } from './user-exclusion-sets.js';
import { recomputeForRun } from './user-exclusions-run.js';
import { anyUsers, usersExcludingInRun } from './user-scope.js';

/**
 * user_excluded_entities and user_entity_counts: what each user may not see, and how much of
 * every count that is (docs/user-views.md). One user at a time, each in its own transaction:
 * the set is computed into temp tables (user-exclusion-sets.ts) and merged into the user's rows
 * in that transaction, so a reader sees the old set or the new one, never a mix (MVCC). Rows
 * that did not change are not written, so a recompute that changes nothing leaves no trace.
 *
 * Scope `all` recomputes every user whole (and clears the rows of users who no longer need any);
 * `run` only the users the run's changes can affect (user-scope.ts), and of each only what those
 * changes can have moved (user-exclusions-run.ts). No users: one query.
 */
export async function runUserExclusions(sql: Sql, scope: PostProcessScope): Promise<StepResult> {
  const startedAt = performance.now();
  let users: number[] = [];
  if (await anyUsers(sql)) {
    if (scope.kind === 'all') {
      users = await allUsersWithViews(sql);
      for (const userId of users) await recomputeUserExclusions(sql, userId);
    } else {
      users = await withSyncTransaction(sql, (tx) => usersExcludingInRun(tx, scope.runId));
      const since = users.length > 0 ? await runStartedAt(sql, scope.runId) : null;
      for (const userId of users) await recomputeUserForRun(sql, userId, scope.runId, since);
    }
  }
  return { step: 'user-exclusions', scope: scope.kind, affected: users.length, ms: elapsedMs(startedAt) };
}

/** One user after a sync: what the run's changes can have moved (its own transaction, like a whole recompute). */
async function recomputeUserForRun(sql: Sql, userId: number, runId: string, since: Date | null): Promise<void> {
  await withSyncTransaction(sql, async (tx) => {
    await lockPostProcessing(tx);
    if (!(await needsView(tx, userId))) return clearUser(tx, userId);
    await loadRunChanges(tx, runId);
    await recomputeForRun(tx, userId, await readRestrictions(tx, userId), since);
  });
}

/** What a recompute reports (the API answers it after a restriction or hidden change). */
export interface ExclusionRecompute {
  userId: number;
  /** The user's excluded entities now (all types, all reasons). */
  excluded: number;
  recomputedAt: Date;
  ms: number;
}

/**
 * Recomputes one user's exclusions and count corrections. Admins, and users without
 * restrictions or hidden entities, end with none. Serialised with post-processing (one
 * advisory lock), so it reads derived tables no step is rewriting. `change` (an API write of the
 * user's settings) runs first in the same transaction: the setting and its consequences commit
 * together, or neither does.
 */
export async function recomputeUserExclusions(
  sql: Sql,
  userId: number,
  change?: (tx: TransactionSql) => Promise<void>,
): Promise<ExclusionRecompute> {
  const startedAt = performance.now();
  const excluded = await withSyncTransaction(sql, async (tx) => {
    await lockPostProcessing(tx);
    if (change) await change(tx);
    // The recursive and per-entity aggregates of a large library spill to disk at the default 4MB.
    await tx`set local work_mem = '64MB'`;
    if (await needsView(tx, userId)) {
      await computeExclusionSet(tx, userId, await readRestrictions(tx, userId));
      await mergeExclusions(tx, userId);
    } else {
      await clearUser(tx, userId);
    }
    const [row] = await tx<{ n: number }[]>`
      select count(*)::int as n from user_excluded_entities where user_id = ${userId}`;
    return row?.n ?? 0;
  });
  return { userId, excluded, recomputedAt: new Date(), ms: elapsedMs(startedAt) };
}

async function clearUser(tx: TransactionSql, userId: number): Promise<void> {
  await tx`delete from user_excluded_entities where user_id = ${userId}`;
  await tx`delete from user_entity_counts where user_id = ${userId}`;
}

/** A user (not an admin) with at least one restriction or hidden entity. */
async function needsView(tx: TransactionSql, userId: number): Promise<boolean> {
  const [row] = await tx<{ needed: boolean }[]>`
    select exists (
      select 1 from users u
      where u.id = ${userId} and u.role = 'user'
        and (exists (select 1 from user_restrictions r where r.user_id = u.id)
          or exists (select 1 from user_hidden_entities h where h.user_id = u.id))
    ) as needed`;
  return Boolean(row?.needed);
}

/** Every user with something to compute, or rows to clear. */
async function allUsersWithViews(sql: Sql): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    select u.id from users u
    where exists (select 1 from user_restrictions r where r.user_id = u.id)
       or exists (select 1 from user_hidden_entities h where h.user_id = u.id)
       or exists (select 1 from user_excluded_entities e where e.user_id = u.id)
       or exists (select 1 from user_entity_counts c where c.user_id = u.id)
    order by u.id`;
  return rows.map((row) => Number(row.id));
}

/**
 * Makes the user's rows equal to ux_set / ux_counts, writing only what differs: rows gone or
 * changed are deleted, identical staging rows dropped (a temp table: no WAL), the rest inserted.
 */
async function mergeExclusions(tx: TransactionSql, userId: number): Promise<void> {
  await tx`
    delete from user_excluded_entities e
    where e.user_id = ${userId} and not exists (
      select 1 from ux_set n
      where n.entity_type = e.entity_type and n.entity_id = e.entity_id and n.reason = e.reason
        and n.cascades = e.cascades)`;
  await tx`
    delete from ux_set n using user_excluded_entities e
    where e.user_id = ${userId} and e.entity_type = n.entity_type and e.entity_id = n.entity_id`;
  const inserted = await tx`
    insert into user_excluded_entities (user_id, entity_type, entity_id, reason, cascades)
    select ${userId}, entity_type, entity_id, reason, cascades from ux_set`;

  await tx`
    delete from user_entity_counts c
    where c.user_id = ${userId} and not exists (
      select 1 from ux_counts n
      where n.entity_type = c.entity_type and n.entity_id = c.entity_id
        and n.excluded_scene_count = c.excluded_scene_count and n.excluded_image_count = c.excluded_image_count)`;
  await tx`
    delete from ux_counts n using user_entity_counts c
    where c.user_id = ${userId} and c.entity_type = n.entity_type and c.entity_id = n.entity_id`;
  await tx`
    insert into user_entity_counts (user_id, entity_type, entity_id, excluded_scene_count, excluded_image_count)
    select ${userId}, entity_type, entity_id, excluded_scene_count, excluded_image_count from ux_counts`;
  // Fresh statistics after a big first fill: the library reads' anti-join on this table is planned from them.
  if (inserted.count >= ANALYZE_AFTER_ROWS) await tx`analyze user_excluded_entities`;
}

const ANALYZE_AFTER_ROWS = 10_000;
