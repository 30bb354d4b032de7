import type { TransactionSql } from '../client.js';
import type { Restrictions } from '../user-settings.js';
import type { Fragment } from './shared.js';
import { addEmpties, countExcluded } from './user-exclusion-counts.js';
import { createKeyTable, startStages } from './user-exclusion-sets.js';

/**
 * One user's exclusions after a sync, recomputed only where the run's changes (pp_changed) can
 * have moved them, and equal to what a whole recompute gives (postprocess-property.test.ts):
 *
 *  1. containers (tags, studios, groups, galleries, performers: a few thousand rows at most) are
 *     recomputed whole; those whose exclusion changed (reason or `cascades`) are compared out;
 *  2. scenes and images are recomputed only where they can have changed: those the run changed,
 *     those linked to a container whose exclusion changed, and those whose inherited or effective
 *     links a changed performer, studio, group, tag or gallery can have moved;
 *  3. the excluded counts are recounted for the entities those scenes and images link to, the
 *     entities the counts step recounted in this run (a scene that LEFT an entity moved its
 *     count: that is how a lost link is seen), containers that changed, and the user's groups;
 *  4. "empty" is re-decided for those same entities.
 * Each part is merged into the user's rows writing only what differs, in the caller's transaction.
 */
export async function recomputeForRun(
  tx: TransactionSql,
  userId: number,
  restrictions: Restrictions,
  since: Date | null,
): Promise<void> {
  const stages = await startStages(tx, userId, restrictions, tx`select entity_type, entity_id from ux_media`);
  await stages.containers();
  await containerChanges(tx, userId);
  await candidateMedia(tx);
  await stages.media();
  await mergeRows(tx, userId, (row) => tx`${row}.entity_type in ('scene', 'image') and ${keyIn(tx, row, 'ux_media')}`);

  await candidateEntities(tx, userId, since);
  await countExcluded(
    tx,
    tx`select entity_type, entity_id from user_excluded_entities
      where user_id = ${userId} and entity_type in ('scene', 'image')`,
    tx`select entity_type, entity_id from ux_entities`,
  );
  await addEmpties(tx);
  await mergeCounts(tx, userId);

  // Containers: every reason but `empty` from the whole recompute (a stronger reason replaces a
  // stored `empty`); `empty` only for the recounted entities (elsewhere it cannot have changed).
  const containers = (row: Fragment) => tx`${row}.entity_type in ${tx(CONTAINERS)} and ${row}.reason <> 'empty'`;
  await tx`
    delete from user_excluded_entities e using ux_set n
    where e.user_id = ${userId} and e.reason = 'empty' and ${containers(tx`n`)}
      and n.entity_type = e.entity_type and n.entity_id = e.entity_id`;
  await mergeRows(tx, userId, containers);
  await mergeRows(tx, userId, (row) => tx`${row}.reason = 'empty' and ${keyIn(tx, row, 'ux_entities')}`);
}

const CONTAINERS = ['tag', 'studio', 'group', 'gallery', 'performer'];

/** `(row.entity_type, row.entity_id)` is a key of the temp table `table`. */
function keyIn(tx: TransactionSql, row: Fragment, table: string): Fragment {
  return tx`(${row}.entity_type, ${row}.entity_id) in (select entity_type, entity_id from ${tx(table)})`;
}

/**
 * Makes the user's rows that `rows` selects (a condition on a row alias: `e` stored, `n` staged)
 * equal to the staged ones it selects: stored rows without an identical staged row go, staged
 * rows not stored are inserted. ux_set itself is left as it is (later parts still read it);
 * few rows move, so both anti-joins are index probes.
 */
async function mergeRows(tx: TransactionSql, userId: number, rows: (row: Fragment) => Fragment): Promise<void> {
  await tx`
    delete from user_excluded_entities e
    where e.user_id = ${userId} and ${rows(tx`e`)} and not exists (
      select 1 from ux_set n
      where n.entity_type = e.entity_type and n.entity_id = e.entity_id and n.reason = e.reason
        and n.cascades = e.cascades and ${rows(tx`n`)})`;
  await tx`
    insert into user_excluded_entities (user_id, entity_type, entity_id, reason, cascades)
    select ${userId}, n.entity_type, n.entity_id, n.reason, n.cascades from ux_set n
    where ${rows(tx`n`)} and not exists (
      select 1 from user_excluded_entities e
      where e.user_id = ${userId} and e.entity_type = n.entity_type and e.entity_id = n.entity_id)`;
}

/** The user's count rows of the recounted entities (ux_entities) made equal to ux_counts. */
async function mergeCounts(tx: TransactionSql, userId: number): Promise<void> {
  await tx`
    delete from user_entity_counts c
    where c.user_id = ${userId} and ${keyIn(tx, tx`c`, 'ux_entities')} and not exists (
      select 1 from ux_counts n
      where n.entity_type = c.entity_type and n.entity_id = c.entity_id
        and n.excluded_scene_count = c.excluded_scene_count and n.excluded_image_count = c.excluded_image_count)`;
  await tx`
    insert into user_entity_counts (user_id, entity_type, entity_id, excluded_scene_count, excluded_image_count)
    select ${userId}, n.entity_type, n.entity_id, n.excluded_scene_count, n.excluded_image_count from ux_counts n
    where not exists (
      select 1 from user_entity_counts c
      where c.user_id = ${userId} and c.entity_type = n.entity_type and c.entity_id = n.entity_id)`;
}

/**
 * ux_changed_containers: containers whose exclusion differs between the whole recompute (ux_set)
 * and the stored rows (reason or `cascades`; `empty` aside, it never cascades).
 */
async function containerChanges(tx: TransactionSql, userId: number): Promise<void> {
  await tx`
    create temp table ux_changed_containers on commit drop as
    select entity_type, entity_id from (
      (select entity_type, entity_id, reason, cascades from ux_set)
      except
      (select entity_type, entity_id, reason, cascades from user_excluded_entities
       where user_id = ${userId} and entity_type in ${tx(CONTAINERS)} and reason <> 'empty')
    ) added
    union
    select entity_type, entity_id from (
      (select entity_type, entity_id, reason, cascades from user_excluded_entities
       where user_id = ${userId} and entity_type in ${tx(CONTAINERS)} and reason <> 'empty')
      except
      (select entity_type, entity_id, reason, cascades from ux_set)
    ) removed`;
}

/**
 * ux_media: the scenes and images whose exclusion can have changed: changed in the run; linked to
 * a container whose exclusion changed (own, inherited or effective links, as the rules read
 * them); linked to a changed performer, studio, group or tag (a scene's inherited tags may have
 * moved) or in a changed gallery (an image's effective links may have). A deleted tag's inherited
 * rows are gone by now, so its scenes are also found the way scene tag inheritance finds them:
 * through the performers, studios and groups that carry it.
 */
async function candidateMedia(tx: TransactionSql): Promise<void> {
  const moved = (type: string) => tx`
    select entity_id from ux_changed_containers where entity_type = ${type}
    union all
    select entity_id from pp_changed where entity_type = ${type}`;
  await createKeyTable(tx, 'ux_media');
  await tx`
    insert into ux_media (entity_type, entity_id)
    select entity_type, entity_id from pp_changed where entity_type in ('scene', 'image')
    union select 'scene', scene_id from scene_tags where tag_id in (${moved('tag')})
    union select 'scene', scene_id from scene_inherited_tags where tag_id in (${moved('tag')})
    union select 'scene', sp.scene_id from performer_tags pt join scene_performers sp on sp.performer_id = pt.performer_id
      where pt.tag_id in (${moved('tag')})
    union select 'scene', s.id from studio_tags st join scenes s on s.studio_id = st.studio_id
      where st.tag_id in (${moved('tag')})
    union select 'scene', sg.scene_id from group_tags gt join scene_groups sg on sg.group_id = gt.group_id
      where gt.tag_id in (${moved('tag')})
    union select 'scene', scene_id from scene_performers where performer_id in (${moved('performer')})
    union select 'scene', scene_id from scene_groups where group_id in (${moved('group')})
    union select 'scene', id from scenes where studio_id in (${moved('studio')})
    union select 'image', image_id from image_effective_tags where tag_id in (${moved('tag')})
    union select 'image', image_id from image_effective_performers where performer_id in (${moved('performer')})
    union select 'image', image_id from image_galleries where gallery_id in (${moved('gallery')})
    union select 'image', image_id from image_effective where studio_id in (${moved('studio')})`;
  await tx`analyze ux_media`;
}

/**
 * ux_entities: the counted entities whose excluded counts or "empty" can have changed: what the
 * candidate scenes and images link to now; what the counts step recounted since the run began
 * (every entity that lost a scene or image); the user's groups with excluded scenes (groups have
 * no entity_counts row to show a loss); containers whose exclusion changed or that the run changed.
 */
async function candidateEntities(tx: TransactionSql, userId: number, since: Date | null): Promise<void> {
  const scenes = tx`select entity_id from ux_media where entity_type = 'scene'`;
  const images = tx`select entity_id from ux_media where entity_type = 'image'`;
  await createKeyTable(tx, 'ux_entities');
  await tx`
    insert into ux_entities (entity_type, entity_id)
    select 'performer', performer_id from scene_performers where scene_id in (${scenes})
    union select 'tag', tag_id from scene_tags where scene_id in (${scenes})
    union select 'tag', tag_id from scene_inherited_tags where scene_id in (${scenes})
    union select 'studio', studio_id from scenes where id in (${scenes}) and studio_id is not null
    union select 'gallery', gallery_id from scene_galleries where scene_id in (${scenes})
    union select 'group', group_id from scene_groups where scene_id in (${scenes})
    union select 'performer', performer_id from image_effective_performers where image_id in (${images})
    union select 'tag', tag_id from image_effective_tags where image_id in (${images})
    union select 'studio', studio_id from image_effective where image_id in (${images}) and studio_id is not null
    union select 'gallery', gallery_id from image_galleries where image_id in (${images})
    union select entity_type, entity_id from entity_counts
      where ${since}::timestamptz is null or computed_at >= ${since}::timestamptz
    union select entity_type, entity_id from user_entity_counts where user_id = ${userId} and entity_type = 'group'
    union select entity_type, entity_id from ux_changed_containers
    union select entity_type, entity_id from pp_changed where entity_type in ${tx(CONTAINERS)}`;
  await tx`analyze ux_entities`;
}
