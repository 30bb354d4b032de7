import { type Sql, type TransactionSql, withSyncTransaction } from '../client.js';
import type { PostProcessScope, StepResult } from './plan.js';
import {
  captureLinksBefore,
  changedIds,
  createShadow,
  createSubjectTable,
  elapsedMs,
  type Fragment,
  IMAGE_EFFECTIVE,
  IMAGE_EFFECTIVE_PERFORMERS,
  IMAGE_EFFECTIVE_TAGS,
  loadRunChanges,
  lockPostProcessing,
  markStaleCounts,
  mergeShadow,
  onlyInRun,
} from './shared.js';

/**
 * Gallery → image inheritance (image_effective, image_effective_performers, image_effective_tags),
 * over live images and live galleries only.
 *
 * Inputs: images (scalars, liveness), image_galleries/image_performers/image_tags (owned by the
 * image), galleries (scalars, liveness), gallery_performers/gallery_tags (owned by the gallery).
 * Nothing else: in particular performer/tag liveness does not filter these rows (counts do that),
 * so a run that changed only performers or tags cannot make them stale.
 */
export async function runImageInheritance(sql: Sql, scope: PostProcessScope): Promise<StepResult> {
  const startedAt = performance.now();
  const affected = await withSyncTransaction(sql, async (tx) => {
    await lockPostProcessing(tx);
    if (scope.kind === 'all') {
      // The per-image aggregates over the whole library spill to disk at the default 4MB.
      await tx`set local work_mem = '64MB'`;
      // Into shadow tables, then merged: see createShadow. (Not TRUNCATE + insert either: its
      // exclusive lock would block every reader until commit.)
      const into: EffectiveTargets = {
        effective: await createShadow(tx, IMAGE_EFFECTIVE),
        performers: await createShadow(tx, IMAGE_EFFECTIVE_PERFORMERS),
        tags: await createShadow(tx, IMAGE_EFFECTIVE_TAGS),
      };
      const live = await insertEffective(tx, false, into);
      await mergeShadow(tx, IMAGE_EFFECTIVE, into.effective);
      await mergeShadow(tx, IMAGE_EFFECTIVE_PERFORMERS, into.performers);
      await mergeShadow(tx, IMAGE_EFFECTIVE_TAGS, into.tags);
      return live;
    }

    await loadRunChanges(tx, scope.runId);
    // A changed image (its own values, links or liveness) and every image of a changed gallery
    // (its values, performers, tags or liveness). An image that left a gallery was itself changed
    // in Stash, so it is in the first set; a deleted gallery keeps its image_galleries rows.
    const subjects = await createSubjectTable(
      tx,
      'pp_images',
      tx`
        select entity_id from pp_changed where entity_type = 'image'
        union
        select ig.image_id from image_galleries ig where ig.gallery_id in (${changedIds(tx, 'gallery')})`,
    );
    if (subjects === 0) return 0;
    await captureLinksBefore(tx, effectiveLinks(tx));
    await tx`delete from image_effective where image_id in (select id from pp_images)`;
    await tx`delete from image_effective_performers where image_id in (select id from pp_images)`;
    await tx`delete from image_effective_tags where image_id in (select id from pp_images)`;
    await insertEffective(tx, true, {
      effective: IMAGE_EFFECTIVE.name,
      performers: IMAGE_EFFECTIVE_PERFORMERS.name,
      tags: IMAGE_EFFECTIVE_TAGS.name,
    });
    await markStaleCounts(tx, effectiveLinks(tx));
    return subjects;
  });
  return { step: 'image-inheritance', scope: scope.kind, affected, ms: elapsedMs(startedAt) };
}

/** The count-relevant links of the scoped images' derived rows, for the stale-count hand-over. */
function effectiveLinks(tx: TransactionSql): Fragment {
  return tx`
    select 'performer'::text as entity_type, performer_id as entity_id, image_id as subject_id
    from image_effective_performers where image_id in (select id from pp_images)
    union all
    select 'tag', tag_id, image_id
    from image_effective_tags where image_id in (select id from pp_images)
    union all
    select 'studio', studio_id, image_id
    from image_effective where studio_id is not null and image_id in (select id from pp_images)`;
}

interface EffectiveTargets {
  effective: string;
  performers: string;
  tags: string;
}

/**
 * Inserts the derived rows of all live images, or of the live ones in pp_images, into the target
 * tables (the real ones, or shadows with the same columns); returns the live image count.
 */
async function insertEffective(tx: TransactionSql, isRun: boolean, into: EffectiveTargets): Promise<number> {
  const imageScope = (column: Fragment) => onlyInRun(isRun, tx, tx`and ${column} in (select id from pp_images)`);

  // Each field independently: the image's own value, else the value of the lowest-id live gallery
  // that has one for that field (array_agg ordered by gallery id, unset values filtered out, first
  // element). Unset text is NULL in the mirror; '' (a row written before the mapper normalised
  // Stash's "") counts as unset too, so it neither blocks inheritance nor hides a later gallery.
  const scalars = await tx`
    with from_galleries as (
      select
        ig.image_id,
        (array_agg(g.studio_id order by g.id) filter (where g.studio_id is not null))[1] as studio_id,
        (array_agg(g.date order by g.id) filter (where g.date is not null))[1] as date,
        (array_agg(g.photographer order by g.id) filter (where g.photographer <> ''))[1] as photographer,
        (array_agg(g.details order by g.id) filter (where g.details <> ''))[1] as details
      from image_galleries ig
      join galleries g on g.id = ig.gallery_id and g.deleted_at is null
      where true ${imageScope(tx`ig.image_id`)}
      group by ig.image_id
    )
    insert into ${tx(into.effective)} (image_id, studio_id, date, photographer, details)
    select
      i.id,
      coalesce(i.studio_id, fg.studio_id),
      coalesce(i.date, fg.date),
      coalesce(nullif(i.photographer, ''), fg.photographer),
      coalesce(nullif(i.details, ''), fg.details)
    from images i
    left join from_galleries fg on fg.image_id = i.id
    where i.deleted_at is null ${imageScope(tx`i.id`)}
    order by i.id`;

  // Own links (inherited = false) plus those of every live gallery; a performer both own and
  // inherited is own (bool_and over false/true). Rows go in in key order: inserting a million
  // rows in random key order into the primary key made a full recompute 3-4x slower.
  await tx`
    insert into ${tx(into.performers)} (image_id, performer_id, inherited)
    select image_id, performer_id, bool_and(inherited)
    from (
      select ip.image_id, ip.performer_id, false as inherited
      from image_performers ip
      join images i on i.id = ip.image_id
      where i.deleted_at is null ${imageScope(tx`ip.image_id`)}
      union all
      select ig.image_id, gp.performer_id, true
      from image_galleries ig
      join images i on i.id = ig.image_id
      join galleries g on g.id = ig.gallery_id
      join gallery_performers gp on gp.gallery_id = ig.gallery_id
      where i.deleted_at is null and g.deleted_at is null ${imageScope(tx`ig.image_id`)}
    ) links
    group by image_id, performer_id
    order by image_id, performer_id`;

  await tx`
    insert into ${tx(into.tags)} (image_id, tag_id, inherited)
    select image_id, tag_id, bool_and(inherited)
    from (
      select it.image_id, it.tag_id, false as inherited
      from image_tags it
      join images i on i.id = it.image_id
      where i.deleted_at is null ${imageScope(tx`it.image_id`)}
      union all
      select ig.image_id, gt.tag_id, true
      from image_galleries ig
      join images i on i.id = ig.image_id
      join galleries g on g.id = ig.gallery_id
      join gallery_tags gt on gt.gallery_id = ig.gallery_id
      where i.deleted_at is null and g.deleted_at is null ${imageScope(tx`ig.image_id`)}
    ) links
    group by image_id, tag_id
    order by image_id, tag_id`;

  return scalars.count;
}
