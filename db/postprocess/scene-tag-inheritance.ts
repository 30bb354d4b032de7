import { type Sql, type TransactionSql, withSyncTransaction } from '../client.js';
import type { PostProcessScope, StepResult } from './plan.js';
import {
  captureLinksBefore,
  changedIds,
  createShadow,
  createSubjectTable,
  elapsedMs,
  type Fragment,
  loadRunChanges,
  lockPostProcessing,
  markStaleCounts,
  mergeShadow,
  onlyInRun,
  SCENE_INHERITED_TAGS,
} from './shared.js';

/**
 * scene_inherited_tags: the live tags a live scene gets from its live performers (performer_tags),
 * its live studio (studio_tags) and its live groups (scene_groups → group_tags), one row per
 * (scene, tag, source). Own tags stay in scene_tags.
 *
 * Inputs: scenes (studio_id, liveness), scene_performers/scene_groups (owned by the scene),
 * performers/studios/groups (liveness) with their own performer_tags/studio_tags/group_tags, and
 * tags (liveness).
 */
export async function runSceneTagInheritance(sql: Sql, scope: PostProcessScope): Promise<StepResult> {
  const startedAt = performance.now();
  const affected = await withSyncTransaction(sql, async (tx) => {
    await lockPostProcessing(tx);
    if (scope.kind === 'all') {
      // Into a shadow table, then merged: see createShadow.
      const into = await createShadow(tx, SCENE_INHERITED_TAGS);
      await insertInherited(tx, false, into);
      await mergeShadow(tx, SCENE_INHERITED_TAGS, into);
      const [live] = await tx<{ n: number }[]>`select count(*)::int as n from scenes where deleted_at is null`;
      return live?.n ?? 0;
    }

    await loadRunChanges(tx, scope.runId);
    // Changed scenes, and the scenes linked to a changed performer, studio or group (its tags or
    // liveness changed) or reached through a changed tag (its liveness changed). A link that
    // disappeared was removed from its owner, which is then itself in the changed set.
    const subjects = await createSubjectTable(
      tx,
      'pp_scenes',
      tx`
        select entity_id from pp_changed where entity_type = 'scene'
        union
        select sp.scene_id from scene_performers sp where sp.performer_id in (${changedIds(tx, 'performer')})
        union
        select s.id from scenes s where s.studio_id in (${changedIds(tx, 'studio')})
        union
        select sg.scene_id from scene_groups sg where sg.group_id in (${changedIds(tx, 'group')})
        union
        select sp.scene_id
        from performer_tags pt join scene_performers sp on sp.performer_id = pt.performer_id
        where pt.tag_id in (${changedIds(tx, 'tag')})
        union
        select s.id
        from studio_tags st join scenes s on s.studio_id = st.studio_id
        where st.tag_id in (${changedIds(tx, 'tag')})
        union
        select sg.scene_id
        from group_tags gt join scene_groups sg on sg.group_id = gt.group_id
        where gt.tag_id in (${changedIds(tx, 'tag')})
        union
        select sit.scene_id from scene_inherited_tags sit where sit.tag_id in (${changedIds(tx, 'tag')})`,
    );
    if (subjects === 0) return 0;
    await captureLinksBefore(tx, inheritedLinks(tx));
    await tx`delete from scene_inherited_tags where scene_id in (select id from pp_scenes)`;
    await insertInherited(tx, true, SCENE_INHERITED_TAGS.name);
    await markStaleCounts(tx, inheritedLinks(tx));
    return subjects;
  });
  return { step: 'scene-tag-inheritance', scope: scope.kind, affected, ms: elapsedMs(startedAt) };
}

/** (tag, scene) links of the scoped scenes, for the stale-count hand-over (source does not count). */
function inheritedLinks(tx: TransactionSql): Fragment {
  return tx`
    select 'tag'::text as entity_type, tag_id as entity_id, scene_id as subject_id
    from scene_inherited_tags where scene_id in (select id from pp_scenes)`;
}

/** Inserts the rows of all live scenes, or of the live ones in pp_scenes, into `into` (table or shadow). */
async function insertInherited(tx: TransactionSql, isRun: boolean, into: string): Promise<void> {
  const sceneScope = (column: Fragment) => onlyInRun(isRun, tx, tx`and ${column} in (select id from pp_scenes)`);
  // UNION (not UNION ALL): two performers of one scene with the same tag give one 'performer' row.
  // In key order: a sorted insert keeps the primary key's inserts sequential.
  await tx`
    insert into ${tx(into)} (scene_id, tag_id, source)
    select sp.scene_id, pt.tag_id, 'performer'
    from scene_performers sp
    join scenes s on s.id = sp.scene_id
    join performers p on p.id = sp.performer_id
    join performer_tags pt on pt.performer_id = sp.performer_id
    join tags t on t.id = pt.tag_id
    where s.deleted_at is null and p.deleted_at is null and t.deleted_at is null ${sceneScope(tx`sp.scene_id`)}
    union
    select s.id, st.tag_id, 'studio'
    from scenes s
    join studios studio on studio.id = s.studio_id
    join studio_tags st on st.studio_id = s.studio_id
    join tags t on t.id = st.tag_id
    where s.deleted_at is null and studio.deleted_at is null and t.deleted_at is null ${sceneScope(tx`s.id`)}
    union
    select sg.scene_id, gt.tag_id, 'group'
    from scene_groups sg
    join scenes s on s.id = sg.scene_id
    join groups g on g.id = sg.group_id
    join group_tags gt on gt.group_id = sg.group_id
    join tags t on t.id = gt.tag_id
    where s.deleted_at is null and g.deleted_at is null and t.deleted_at is null ${sceneScope(tx`sg.scene_id`)}
    order by 1, 2, 3`;
}
