import { ENTITY_TABLES } from '../../stash/entity-types.js';
import type { TransactionSql } from '../client.js';
import type { Fragment } from './shared.js';

/**
 * The count side of a user's exclusions (see user-exclusion-sets.ts): how many of each counted
 * entity's scenes and images are excluded, and the entities left "empty" by that.
 */

/**
 * ux_counts: per performer, tag, studio, gallery and group (those in `within`, a query of
 * entity_type, entity_id, or all), how many of its scenes and images are in `excluded` (a query
 * of entity_type, entity_id), counted over the same links as entity_counts (images over
 * effective links; a scene's tags own and inherited, once per scene) and, for groups, as the API
 * counts a group's scenes. Rows only where something is excluded.
 */
export function countExcluded(tx: TransactionSql, excluded: Fragment, within: Fragment | null): Promise<void> {
  return countLinked(tx, 'ux_counts', excluded, within);
}

/**
 * ux_counts for the whole of ux_set. When most scenes and images are excluded (an INCLUDE list
 * lets a few through), counting the excluded ones would aggregate nearly every link of the
 * library: then the visible ones are counted and taken off the global counts (entity_counts,
 * which post-processing keeps equal to the same links over live rows), unless a count is
 * waiting for a recount (computed_at '-infinity': its row is not exact yet).
 */
export async function countExcludedWhole(tx: TransactionSql): Promise<void> {
  const [sizes] = await tx<{ excluded: number; live: number; stale: boolean }[]>`
    select
      (select count(*)::int from ux_set where entity_type in ('scene', 'image')) as excluded,
      (select count(*)::int from scenes where deleted_at is null)
        + (select count(*)::int from images where deleted_at is null) as live,
      exists (select 1 from entity_counts where computed_at = '-infinity') as stale`;
  if (!sizes || sizes.stale || sizes.excluded * 2 <= sizes.live) {
    return countExcluded(tx, tx`select entity_type, entity_id from ux_set`, null);
  }
  const visible = (type: 'scene' | 'image') => tx`
    select ${type}::text, e.id from ${tx(ENTITY_TABLES[type])} e
    where e.deleted_at is null
      and not exists (select 1 from ux_set x where x.entity_type = ${type} and x.entity_id = e.id)`;
  await tx`
    create temp table ux_visible on commit drop as ${visible('scene')} union all ${visible('image')}`;
  await tx`analyze ux_visible`;
  await countLinked(tx, 'ux_visible_counts', tx`select * from ux_visible`, null);
  await tx`
    create temp table ux_counts on commit drop as
    select ec.entity_type, ec.entity_id,
      ec.scene_count - coalesce(v.excluded_scene_count, 0) as excluded_scene_count,
      ec.image_count - coalesce(v.excluded_image_count, 0) as excluded_image_count
    from entity_counts ec
    left join ux_visible_counts v on v.entity_type = ec.entity_type and v.entity_id = ec.entity_id
    where ec.scene_count > coalesce(v.excluded_scene_count, 0) or ec.image_count > coalesce(v.excluded_image_count, 0)
    union all
    select 'group', g.id, all_scenes.n - coalesce(v.excluded_scene_count, 0), 0
    from groups g
    cross join lateral (${groupSceneCount(tx, tx`g.id`)}) all_scenes
    left join ux_visible_counts v on v.entity_type = 'group' and v.entity_id = g.id
    where g.deleted_at is null and all_scenes.n > coalesce(v.excluded_scene_count, 0)`;
  await tx`alter table ux_counts add primary key (entity_type, entity_id)`;
}

/** `into` (a new temp table): per counted entity, its links to `media` (see countExcluded). */
async function countLinked(tx: TransactionSql, into: string, media: Fragment, within: Fragment | null) {
  await tx`
    create temp table ${tx(into)} (
      entity_type text not null,
      entity_id bigint not null,
      excluded_scene_count integer not null default 0,
      excluded_image_count integer not null default 0,
      primary key (entity_type, entity_id)
    ) on commit drop`;
  const of = (type: string) =>
    tx`select x.entity_id from (${media}) as x (entity_type, entity_id) where x.entity_type = ${type}`;
  const scenes = of('scene');
  const images = of('image');
  const only = (type: CountedType, column: string) =>
    within
      ? tx`and ${tx(column)} in (select w.entity_id from (${within}) as w (entity_type, entity_id) where w.entity_type = ${type})`
      : tx``;
  const per = (type: CountedType, table: string, owner: string, target: string, owners: Fragment) =>
    tx`select ${tx(target)} as id, count(*)::int as n from ${tx(table)}
      where ${tx(owner)} in (${owners}) ${only(type, target)} group by 1`;
  const add = (type: CountedType, column: 'excluded_scene_count' | 'excluded_image_count', counts: Fragment) => tx`
    insert into ${tx(into)} (entity_type, entity_id, ${tx(column)})
    select ${type}::text, c.id, c.n from (${counts}) c
    join ${tx(ENTITY_TABLES[type])} e on e.id = c.id and e.deleted_at is null
    on conflict (entity_type, entity_id) do update set ${tx(column)} = excluded.${tx(column)}`;

  await add(
    'performer',
    'excluded_scene_count',
    per('performer', 'scene_performers', 'scene_id', 'performer_id', scenes),
  );
  await add(
    'performer',
    'excluded_image_count',
    per('performer', 'image_effective_performers', 'image_id', 'performer_id', images),
  );
  await add(
    'tag',
    'excluded_scene_count',
    tx`
      select tag_id as id, count(*)::int as n from (
        select scene_id, tag_id from scene_tags where scene_id in (${scenes}) ${only('tag', 'tag_id')}
        union
        select scene_id, tag_id from scene_inherited_tags where scene_id in (${scenes}) ${only('tag', 'tag_id')}
      ) links group by 1`,
  );
  await add('tag', 'excluded_image_count', per('tag', 'image_effective_tags', 'image_id', 'tag_id', images));
  await add(
    'studio',
    'excluded_scene_count',
    tx`select studio_id as id, count(*)::int as n from scenes
      where id in (${scenes}) and studio_id is not null ${only('studio', 'studio_id')} group by 1`,
  );
  await add(
    'studio',
    'excluded_image_count',
    tx`select studio_id as id, count(*)::int as n from image_effective
      where image_id in (${images}) and studio_id is not null ${only('studio', 'studio_id')} group by 1`,
  );
  await add('gallery', 'excluded_scene_count', per('gallery', 'scene_galleries', 'scene_id', 'gallery_id', scenes));
  await add('gallery', 'excluded_image_count', per('gallery', 'image_galleries', 'image_id', 'gallery_id', images));
  await add('group', 'excluded_scene_count', per('group', 'scene_groups', 'scene_id', 'group_id', scenes));
}

/** The types whose scene and image counts a user's view corrects (user_entity_counts). */
type CountedType = 'performer' | 'tag' | 'studio' | 'gallery' | 'group';

/** A counted entity (in ux_counts) with scenes or images, every one of them excluded, is excluded as `empty`. */
export async function addEmpties(tx: TransactionSql): Promise<void> {
  await tx`
    insert into ux_set (entity_type, entity_id, reason, cascades)
    select c.entity_type, c.entity_id, 'empty', false
    from ux_counts c
    join entity_counts ec on ec.entity_type = c.entity_type and ec.entity_id = c.entity_id
    where ${isEmpty(tx, tx`c`, tx`ec.scene_count`, tx`ec.image_count`)}
    on conflict do nothing`;
  await tx`
    insert into ux_set (entity_type, entity_id, reason, cascades)
    select 'group', c.entity_id, 'empty', false
    from ux_counts c
    cross join lateral (${groupSceneCount(tx, tx`c.entity_id`)}) g
    where c.entity_type = 'group' and ${isEmpty(tx, tx`c`, tx`g.n`, tx`0`)}
    on conflict do nothing`;
}

/**
 * Whether an entity with these global counts and the excluded part `counts` (a row alias with
 * excluded_scene_count / excluded_image_count) has content, all of it excluded. Shared with the
 * run scope's check for empties that appeared or went away (user-scope.ts).
 */
export function isEmpty(tx: TransactionSql, counts: Fragment, scenes: Fragment, images: Fragment): Fragment {
  return tx`(${scenes} + ${images} > 0
    and ${counts}.excluded_scene_count >= ${scenes} and ${counts}.excluded_image_count >= ${images})`;
}

/** `n`: a group's live scenes (what the API shows as its scene_count). */
export function groupSceneCount(tx: TransactionSql, groupId: Fragment): Fragment {
  return tx`
    select count(*)::int as n from scene_groups sg join scenes s on s.id = sg.scene_id and s.deleted_at is null
    where sg.group_id = ${groupId}`;
}
