import { type Sql, type TransactionSql, withSyncTransaction } from '../client.js';
import { type ActivityInput, type ActivityRecord, recordActivity } from '../user-activity.js';
import type { PostProcessScope, StepResult } from './plan.js';
import { changedIds, elapsedMs, type Fragment, loadRunChanges, lockPostProcessing } from './shared.js';
import { anyUsers } from './user-scope.js';

/**
 * user_stats: per user and performer / studio / tag / group, plays (count, total duration, last)
 * and o events (count, last) of the scenes linked to it NOW: each event counts for the scene
 * user_activity_scenes resolves (its own scene while live, else the live scene holding its files,
 * else nowhere), through that scene's current performers, studio, tags (own and inherited, once
 * per scene) and groups, live ones only.
 *
 * A user's stats are small (one row per entity they watched), so a user is rebuilt whole: scope
 * `all` rebuilds every user with activity, `run` the users with an event on a scene the run
 * touched (usersWatchingInRun), all in one transaction, writing only rows that differ.
 */
export async function runUserStats(sql: Sql, scope: PostProcessScope): Promise<StepResult> {
  const startedAt = performance.now();
  let affected = 0;
  if (await anyUsers(sql)) {
    affected = await withSyncTransaction(sql, async (tx) => {
      await lockPostProcessing(tx);
      await tx`create temp table us_users (id bigint primary key) on commit drop`;
      if (scope.kind === 'run') await loadRunChanges(tx, scope.runId);
      const users =
        scope.kind === 'all'
          ? tx`
            select id from users u
            where exists (select 1 from user_activity a where a.user_id = u.id)
               or exists (select 1 from user_stats s where s.user_id = u.id)`
          : usersWatchingInRun(tx);
      const filled = await tx`insert into us_users (id) ${users} on conflict do nothing`;
      if (filled.count > 0) await rebuildStats(tx, tx`select id from us_users`, null);
      return filled.count;
    });
  }
  return { step: 'user-stats', scope: scope.kind, affected, ms: elapsedMs(startedAt) };
}

/**
 * Records a watch event and, in the same transaction, rebuilds the user's rows for what the
 * event's scene links to now (nothing when the scene counts nowhere). `statsUpdated`: rows written.
 */
export async function recordWatch(
  sql: Sql,
  userId: number,
  input: ActivityInput,
): Promise<{ activity: ActivityRecord; statsUpdated: number }> {
  return withSyncTransaction(sql, async (tx) => {
    await lockPostProcessing(tx);
    const activity = await recordActivity(tx, userId, input);
    const scene = tx`select counted_scene_id from user_activity_scenes where activity_id = ${activity.id}`;
    await rebuildStats(
      tx,
      tx`select ${userId}::bigint`,
      tx`
        select 'performer'::text, performer_id from scene_performers where scene_id = (${scene})
        union select 'studio', studio_id from scenes where id = (${scene}) and studio_id is not null
        union select 'tag', tag_id from scene_tags where scene_id = (${scene})
        union select 'tag', tag_id from scene_inherited_tags where scene_id = (${scene})
        union select 'group', group_id from scene_groups where scene_id = (${scene})`,
    );
    const [row] = await tx<{ n: number }[]>`select count(*)::int as n from us_new`;
    return { activity, statsUpdated: row?.n ?? 0 };
  });
}

/**
 * The run's scope: users with an event on a scene the run changed or whose stats-relevant links
 * a changed performer, studio, group or tag can have moved; users with stats for a changed entity
 * (it may be gone); and users with an event on a deleted scene whose files a changed scene holds
 * or held (a merge moved them: where the event counts may have changed). Reads pp_changed.
 */
function usersWatchingInRun(tx: TransactionSql): Fragment {
  const scenes = tx`
    select entity_id from pp_changed where entity_type = 'scene'
    union select scene_id from scene_performers where performer_id in (${changedIds(tx, 'performer')})
    union select id from scenes where studio_id in (${changedIds(tx, 'studio')})
    union select scene_id from scene_groups where group_id in (${changedIds(tx, 'group')})
    union select scene_id from scene_tags where tag_id in (${changedIds(tx, 'tag')})
    union select scene_id from scene_inherited_tags where tag_id in (${changedIds(tx, 'tag')})`;
  const movedPaths = tx`
    select coalesce(array_agg(distinct p), '{}') from scenes s cross join unnest(s.file_paths) p
    where s.id in (${changedIds(tx, 'scene')})`;
  return tx`
    select user_id from user_activity where scene_id in (${scenes})
    union
    select s.user_id from user_stats s join pp_changed c on c.entity_type = s.entity_type and c.entity_id = s.entity_id
    union
    select a.user_id from scenes gone join user_activity a on a.scene_id = gone.id
    where gone.deleted_at is not null and gone.file_paths && (${movedPaths})`;
}

/**
 * Recomputes the stats of `users` (a query of user ids) into us_new, restricted to `only` (a
 * query of entity_type, entity_id) when given, and makes user_stats equal to it for those keys.
 */
async function rebuildStats(tx: TransactionSql, users: Fragment, only: Fragment | null): Promise<void> {
  await tx`
    create temp table us_new (
      user_id bigint not null,
      entity_type text not null,
      entity_id bigint not null,
      play_count integer not null,
      play_duration double precision not null,
      o_count integer not null,
      last_played_at timestamptz,
      last_o_at timestamptz,
      primary key (user_id, entity_type, entity_id)
    ) on commit drop`;
  await tx`create temp table us_only (entity_type text, entity_id bigint) on commit drop`;
  if (only) await tx`insert into us_only ${only}`;
  const restrict = only ? tx`where (l.entity_type, l.entity_id) in (select entity_type, entity_id from us_only)` : tx``;
  await tx`
    with events as (
      select user_id, event, at, coalesce(duration_seconds, 0) as duration, counted_scene_id as scene_id
      from user_activity_scenes
      where user_id in (${users}) and counted_scene_id is not null
    ),
    links as (
      ${viaLinkTable(tx, 'performer', 'scene_performers', 'performer_id', 'performers')}
      union all
      ${viaLinkTable(tx, 'group', 'scene_groups', 'group_id', 'groups')}
      union all
      select e.*, 'studio', s.studio_id
      from events e
      join scenes s on s.id = e.scene_id
      join studios st on st.id = s.studio_id and st.deleted_at is null
      union all
      select e.*, 'tag', t.id
      from events e
      cross join lateral (
        select tag_id from scene_tags where scene_id = e.scene_id
        union
        select tag_id from scene_inherited_tags where scene_id = e.scene_id
      ) l
      join tags t on t.id = l.tag_id and t.deleted_at is null
    )
    insert into us_new
    select user_id, entity_type, entity_id,
      count(*) filter (where event = 'play'),
      coalesce(sum(duration) filter (where event = 'play'), 0),
      count(*) filter (where event = 'o'),
      max(at) filter (where event = 'play'),
      max(at) filter (where event = 'o')
    from links l ${restrict}
    group by user_id, entity_type, entity_id`;

  const inScope = only ? tx`and (s.entity_type, s.entity_id) in (select entity_type, entity_id from us_only)` : tx``;
  await tx`
    delete from user_stats s
    where s.user_id in (${users}) ${inScope} and not exists (
      select 1 from us_new n
      where n.user_id = s.user_id and n.entity_type = s.entity_type and n.entity_id = s.entity_id
        and row(n.play_count, n.play_duration, n.o_count, n.last_played_at, n.last_o_at)
          is not distinct from row(s.play_count, s.play_duration, s.o_count, s.last_played_at, s.last_o_at))`;
  await tx`
    delete from us_new n using user_stats s
    where s.user_id = n.user_id and s.entity_type = n.entity_type and s.entity_id = n.entity_id`;
  await tx`
    insert into user_stats (user_id, entity_type, entity_id, play_count, play_duration, o_count, last_played_at, last_o_at)
    select user_id, entity_type, entity_id, play_count, play_duration, o_count, last_played_at, last_o_at from us_new`;
}

/** Each event (CTE `events`) once per live `type` entity its scene links to through `table`. */
function viaLinkTable(tx: TransactionSql, type: string, table: string, column: string, entities: string): Fragment {
  return tx`
    select e.*, ${type}::text as entity_type, x.id as entity_id
    from events e
    join ${tx(table)} l on l.scene_id = e.scene_id
    join ${tx(entities)} x on x.id = l.${tx(column)} and x.deleted_at is null`;
}
