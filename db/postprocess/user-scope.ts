import type { Sql, TransactionSql } from '../client.js';
import { runStartedAt } from '../runs.js';
import { INCLUDE_READS } from '../user-vocabulary.js';
import { type Fragment, loadRunChanges } from './shared.js';
import { CASCADE_EDGES, COUNTED_EDGES } from './user-edges.js';
import { groupSceneCount, isEmpty } from './user-exclusion-counts.js';
import { unionAll } from './user-exclusion-sets.js';

/**
 * Which users a run's changes can affect (post-processing's `run` scope), so the user steps
 * recompute those and leave every other user's rows untouched. Over-approximations only cost a
 * recompute that changes nothing; docs/user-views.md ("When it is recomputed") argues why
 * nothing is missed.
 */

/** Nothing to do for any user step while there are no users (one indexed probe). */
export async function anyUsers(sql: Sql): Promise<boolean> {
  const [row] = await sql<{ any: boolean }[]>`select exists (select 1 from users) as any`;
  return Boolean(row?.any);
}

/**
 * Users whose exclusions the run can have changed. A changed entity (created, updated, deleted,
 * revived; pp_changed) affects a user when
 *   (a) it is one of the user's excluded entities, hidden entities, restriction ids, or an entity
 *       with excluded scenes or images (its exclusion, or the links behind a count, may change);
 *   (b) it now links to an entity the user excludes, hid or restricted (it may have become
 *       excluded: a scene tagged with an excluded tag, a tag given an excluded parent);
 *   (c) the user has an INCLUDE list of a dimension the changed type can carry (INCLUDE_READS);
 *   (d) an entity with excluded content had its global count recounted in this run, and now is
 *       "empty" without being excluded, or is excluded as empty and no longer is;
 *   (e) it was created or revived, and scenes or images the user excludes already link to it (the
 *       mirror keeps links to entities it has not synced yet): it may be born empty.
 * Each user_* table is probed through its (entity_type, entity_id) index with the few keys the
 * run yields, never scanned.
 */
export async function usersExcludingInRun(tx: TransactionSql, runId: string): Promise<number[]> {
  await loadRunChanges(tx, runId);
  const since = await runStartedAt(tx, runId);
  const dimensions = Object.keys(INCLUDE_READS);
  const reads = Object.values(INCLUDE_READS).map((types) => `{${types.join(',')}}`);
  const rows = await tx<{ user_id: number }[]>`
    with changed as materialized (select distinct entity_type, entity_id from pp_changed),
    linked (entity_type, entity_id) as materialized (${linkTargets(tx)}),
    born (entity_type, entity_id) as materialized (${contentOfBorn(tx)}),
    keys as materialized (
      select entity_type, entity_id from changed
      union select entity_type, entity_id from linked
      union select entity_type, entity_id from born)
    ${marks(tx, tx`keys`)}
    union
    select c.user_id from user_entity_counts c join changed k on k.entity_type = c.entity_type and k.entity_id = c.entity_id
    union
    select r.user_id from user_restrictions r
    join unnest(${dimensions}::text[], ${reads}::text[]) as d (dimension, reads) on d.dimension = r.entity_type
    where r.mode = 'INCLUDE' and exists (select 1 from changed c where c.entity_type = any(d.reads::text[]))
    union
    ${flippedEmpties(tx, since)}`;
  return rows.map((row) => Number(row.user_id)).sort((a, b) => a - b);
}

/** Users who exclude, hid or restricted one of `keys` (a relation of entity_type, entity_id). */
function marks(tx: TransactionSql, keys: Fragment): Fragment {
  return tx`
    select e.user_id from user_excluded_entities e join ${keys} k on k.entity_type = e.entity_type and k.entity_id = e.entity_id
    union
    select h.user_id from user_hidden_entities h join ${keys} k on k.entity_type = h.entity_type and k.entity_id = h.entity_id
    union
    select r.user_id from user_restrictions r join ${keys} k on k.entity_type = r.entity_type and k.entity_id = any(r.entity_ids)`;
}

/** (entity_type, entity_id) the changed entities link to now, along every link an exclusion cascades over. */
function linkTargets(tx: TransactionSql): Fragment {
  const changed = (type: string) => tx`select entity_id from pp_changed where entity_type = ${type}`;
  return unionAll(
    tx,
    CASCADE_EDGES.map(
      (e) =>
        tx`select ${e.target}::text, ${tx(e.targetColumn)} from ${tx(e.table)}
          where ${tx(e.ownerColumn)} in (${changed(e.owner)})`,
    ),
  );
}

/** Rule (e): (scene | image, id) linking to a performer, tag, studio, gallery or group created or revived in the run. */
function contentOfBorn(tx: TransactionSql): Fragment {
  const born = (type: string) =>
    tx`select entity_id from pp_changed where entity_type = ${type} and change_type in ('created', 'revived')`;
  return unionAll(
    tx,
    COUNTED_EDGES.map(
      (e) =>
        tx`select ${e.owner}::text, ${tx(e.ownerColumn)} from ${tx(e.table)}
          where ${tx(e.targetColumn)} in (${born(e.target)})`,
    ),
  );
}

/**
 * Rule (d): counted entities with excluded content whose "empty" state disagrees with the
 * stored set. Only rows recounted since the run began (entity_counts.computed_at; all of them
 * when the run's start is unknown), and groups (counted from scene_groups) when scenes or groups
 * changed. A count moves when a scene or image LEFT an entity, which the changed entity's
 * current links no longer show: this is how such a change is seen.
 */
function flippedEmpties(tx: TransactionSql, since: Date | null): Fragment {
  const stored = (alias: string) => tx`
    left join user_excluded_entities e
      on e.user_id = ${tx(alias)}.user_id and e.entity_type = ${tx(alias)}.entity_type and e.entity_id = ${tx(alias)}.entity_id`;
  const disagrees = (empty: Fragment) =>
    tx`((${empty}) and e.entity_id is null) or (not (${empty}) and e.reason = 'empty')`;
  return tx`
    select d.user_id from user_entity_counts d
    join entity_counts ec on ec.entity_type = d.entity_type and ec.entity_id = d.entity_id
    ${stored('d')}
    where (${since}::timestamptz is null or ec.computed_at >= ${since}::timestamptz)
      and (${disagrees(isEmpty(tx, tx`d`, tx`ec.scene_count`, tx`ec.image_count`))})
    union
    select d.user_id from user_entity_counts d
    cross join lateral (${groupSceneCount(tx, tx`d.entity_id`)}) g
    ${stored('d')}
    where d.entity_type = 'group'
      and exists (select 1 from pp_changed c where c.entity_type in ('scene', 'group'))
      and (${disagrees(isEmpty(tx, tx`d`, tx`g.n`, tx`0`))})`;
}
