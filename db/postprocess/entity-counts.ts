import { type Sql, type TransactionSql, withSyncTransaction } from '../client.js';
import type { PostProcessScope, StepResult } from './plan.js';
import {
  createShadow,
  ENTITY_COUNTS,
  elapsedMs,
  type Fragment,
  loadRunChanges,
  lockPostProcessing,
  mergeShadow,
  onlyInRun,
} from './shared.js';

/**
 * entity_counts: for every live performer, tag, studio and gallery, the number of live images over
 * the effective links (image_effective_performers / image_effective_tags / image_effective.studio_id
 * / image_galleries) and of live scenes over the scenes' own links (scene_performers, scene_tags ∪
 * scene_inherited_tags once per scene, scenes.studio_id, scene_galleries). Deleted or unknown
 * entities have no row.
 *
 * A `run` scope recounts only the candidates that can have moved:
 *  - counted entities changed in the run (created, revived and deleted ones included);
 *  - rows the inheritance steps marked stale (computed_at = '-infinity'; see shared.ts): every
 *    entity that gained or lost an effective image link or an inherited scene tag;
 *  - the current own-link targets of changed scenes (and the galleries of changed images), for
 *    the owner changes that can have touched that link (see OWN_LINK_DIMENSIONS);
 *  - own links a changed scene or image LOST leave no trace in the mirror (the sync has already
 *    replaced them and no derived table mirrors them), so when a run may have removed such a link
 *    the stored counts of that one dimension are compared with the actual ones and any entity that
 *    drifted is recounted. That is one scan of one link table, and only for runs whose updates
 *    name the link in sync_log.changed_fields (or leave it NULL: unknown).
 */
export async function runEntityCounts(sql: Sql, scope: PostProcessScope): Promise<StepResult> {
  const startedAt = performance.now();
  const affected = await withSyncTransaction(sql, async (tx) => {
    await lockPostProcessing(tx);
    if (scope.kind === 'all') {
      // Into a shadow table, then merged (see createShadow); stale marks are always rewritten.
      const into = await createShadow(tx, ENTITY_COUNTS);
      const live = await insertCounts(tx, false, into);
      await tx`delete from entity_counts where computed_at = '-infinity'`;
      await mergeShadow(tx, ENTITY_COUNTS, into);
      await syncGalleryImageCounts(tx);
      return live;
    }

    await loadRunChanges(tx, scope.runId);
    await tx`
      create temp table pp_counted (
        entity_type text not null,
        entity_id bigint not null,
        primary key (entity_type, entity_id)
      ) on commit drop`;
    await tx`
      insert into pp_counted (entity_type, entity_id)
      select entity_type, entity_id from pp_changed
      where entity_type in ('performer', 'tag', 'studio', 'gallery')
      union
      select entity_type, entity_id from entity_counts where computed_at = '-infinity'
      on conflict do nothing`;
    for (const dimension of OWN_LINK_DIMENSIONS) {
      await tx`
        insert into pp_counted (entity_type, entity_id)
        ${dimension.targets(tx, touchingOwners(tx, dimension))}
        on conflict do nothing`;
      const [mayHaveLost] = await tx<{ lost: boolean }[]>`select exists (${losingOwners(tx, dimension)}) as lost`;
      if (mayHaveLost?.lost) {
        await tx`insert into pp_counted (entity_type, entity_id) ${dimension.drifted(tx)} on conflict do nothing`;
      }
    }
    await tx`analyze pp_counted`;
    await tx`
      delete from entity_counts ec
      using pp_counted c
      where ec.entity_type = c.entity_type and ec.entity_id = c.entity_id`;
    await insertCounts(tx, true, ENTITY_COUNTS.name);
    await syncGalleryImageCounts(tx);
    const [candidates] = await tx<{ n: number }[]>`select count(*)::int as n from pp_counted`;
    return candidates?.n ?? 0;
  });
  return { step: 'entity-counts', scope: scope.kind, affected, ms: elapsedMs(startedAt) };
}

/**
 * Names under which the sync reports a changed own link or studio in sync_log.changed_fields (the
 * LinkSpec name, e.g. 'tags', or the row column, e.g. 'studio_id'; id-list spellings accepted too).
 * A NULL changed_fields means "unknown" and counts as touching everything.
 */
export const COUNTED_LINK_FIELDS = {
  performers: ['performers', 'performer_ids'],
  tags: ['tags', 'tag_ids'],
  studio: ['studio_id', 'studio'],
  galleries: ['galleries', 'gallery_ids'],
} as const satisfies Record<string, readonly string[]>;

/** An own link (or the studio column) of a scene or image that a count reads directly. */
interface OwnLinkDimension {
  owner: 'scene' | 'image';
  fields: readonly string[];
  /** (entity_type, entity_id) the given owners currently link to. */
  targets(tx: TransactionSql, owners: Fragment): Fragment;
  /** (entity_type, entity_id) of stored rows whose count along this link differs from the actual one. */
  drifted(tx: TransactionSql): Fragment;
}

/**
 * The own links behind counts that no derived table mirrors. Image performers, tags and studio are
 * not here: image_effective_* mirror them, and image inheritance marks their changes stale.
 */
const OWN_LINK_DIMENSIONS: readonly OwnLinkDimension[] = [
  {
    owner: 'scene',
    fields: COUNTED_LINK_FIELDS.performers,
    targets: (tx, owners) => tx`select 'performer', performer_id from scene_performers where scene_id in (${owners})`,
    drifted: (tx) =>
      driftedCounts(
        tx,
        'performer',
        'scene_count',
        tx`
        select sp.performer_id as id, count(*)::int as n
        from scene_performers sp join scenes s on s.id = sp.scene_id
        where s.deleted_at is null
        group by sp.performer_id`,
      ),
  },
  {
    owner: 'scene',
    fields: COUNTED_LINK_FIELDS.tags,
    targets: (tx, owners) => tx`select 'tag', tag_id from scene_tags where scene_id in (${owners})`,
    drifted: (tx) =>
      driftedCounts(
        tx,
        'tag',
        'scene_count',
        tx`
        select links.tag_id as id, count(*)::int as n
        from (
        select scene_id, tag_id from scene_tags
        union
        select scene_id, tag_id from scene_inherited_tags
        ) links
        join scenes s on s.id = links.scene_id
        where s.deleted_at is null
        group by links.tag_id`,
      ),
  },
  {
    owner: 'scene',
    fields: COUNTED_LINK_FIELDS.studio,
    targets: (tx, owners) =>
      tx`select 'studio', studio_id from scenes where studio_id is not null and id in (${owners})`,
    drifted: (tx) =>
      driftedCounts(
        tx,
        'studio',
        'scene_count',
        tx`
        select studio_id as id, count(*)::int as n
        from scenes
        where deleted_at is null and studio_id is not null
        group by studio_id`,
      ),
  },
  {
    owner: 'scene',
    fields: COUNTED_LINK_FIELDS.galleries,
    targets: (tx, owners) => tx`select 'gallery', gallery_id from scene_galleries where scene_id in (${owners})`,
    drifted: (tx) =>
      driftedCounts(
        tx,
        'gallery',
        'scene_count',
        tx`
        select sg.gallery_id as id, count(*)::int as n
        from scene_galleries sg join scenes s on s.id = sg.scene_id
        where s.deleted_at is null
        group by sg.gallery_id`,
      ),
  },
  {
    owner: 'image',
    fields: COUNTED_LINK_FIELDS.galleries,
    targets: (tx, owners) => tx`select 'gallery', gallery_id from image_galleries where image_id in (${owners})`,
    drifted: (tx) =>
      driftedCounts(
        tx,
        'gallery',
        'image_count',
        tx`
        select ig.gallery_id as id, count(*)::int as n
        from image_galleries ig join images i on i.id = ig.image_id
        where i.deleted_at is null
        group by ig.gallery_id`,
      ),
  },
];

/**
 * Stored counts of one type whose `column` differs from the actual count (`actual` yields
 * `id, n` per counted entity). Rows without an actual count compare with 0.
 */
function driftedCounts(
  tx: TransactionSql,
  entityType: 'performer' | 'tag' | 'studio' | 'gallery',
  column: 'image_count' | 'scene_count',
  actual: Fragment,
): Fragment {
  return tx`
    select ec.entity_type, ec.entity_id
    from entity_counts ec
    left join (${actual}) actual on actual.id = ec.entity_id
    where ec.entity_type = ${entityType} and ec.${tx(column)} <> coalesce(actual.n, 0)`;
}

/**
 * Owners whose change can have touched this link: created, deleted and revived ones (liveness
 * moves every count they contribute to), and updated ones whose changed_fields name the link or
 * are unknown. An updated scene whose title changed leaves its performers' counts alone.
 */
function touchingOwners(tx: TransactionSql, dimension: OwnLinkDimension): Fragment {
  return tx`
    select entity_id from pp_changed
    where entity_type = ${dimension.owner}
      and (change_type <> 'updated' or changed_fields is null or changed_fields && ${dimension.fields}::text[])`;
}

/**
 * Owners that can have dropped a link of this dimension: updated ones that name it (or say
 * nothing), and deleted ones that name it. A created owner had no links; a revived one was
 * deleted, so its old links counted for nothing. A deletion removes the owner's own link rows
 * (softDelete) and logs the links it had in changed_fields, so its old targets are found by the
 * drift comparison, not by its (now empty) current links.
 */
function losingOwners(tx: TransactionSql, dimension: OwnLinkDimension): Fragment {
  return tx`
    select 1 from pp_changed
    where entity_type = ${dimension.owner}
      and change_type in ('updated', 'deleted')
      and (changed_fields && ${dimension.fields}::text[] or (change_type = 'updated' and changed_fields is null))`;
}

/**
 * Inserts the rows of all live counted entities, or of the live ones in pp_counted, into `into`
 * (the table or its shadow); returns the row count.
 */
async function insertCounts(tx: TransactionSql, isRun: boolean, into: string): Promise<number> {
  const scope = (type: string, column: Fragment) =>
    onlyInRun(isRun, tx, tx`and ${column} in (select entity_id from pp_counted where entity_type = ${type})`);

  const performers = await insertCountsOf(
    tx,
    into,
    'performer',
    scope('performer', tx`e.id`),
    tx`
      select iep.performer_id as id, count(*)::int as n
      from image_effective_performers iep join images i on i.id = iep.image_id
      where i.deleted_at is null ${scope('performer', tx`iep.performer_id`)}
      group by iep.performer_id`,
    tx`
      select sp.performer_id as id, count(*)::int as n
      from scene_performers sp join scenes s on s.id = sp.scene_id
      where s.deleted_at is null ${scope('performer', tx`sp.performer_id`)}
      group by sp.performer_id`,
  );

  // A scene with a tag both own and inherited (or inherited from two sources) counts once: UNION.
  const tags = await insertCountsOf(
    tx,
    into,
    'tag',
    scope('tag', tx`e.id`),
    tx`
      select iet.tag_id as id, count(*)::int as n
      from image_effective_tags iet join images i on i.id = iet.image_id
      where i.deleted_at is null ${scope('tag', tx`iet.tag_id`)}
      group by iet.tag_id`,
    tx`
      select links.tag_id as id, count(*)::int as n
      from (
        select scene_id, tag_id from scene_tags where true ${scope('tag', tx`tag_id`)}
        union
        select scene_id, tag_id from scene_inherited_tags where true ${scope('tag', tx`tag_id`)}
      ) links
      join scenes s on s.id = links.scene_id
      where s.deleted_at is null
      group by links.tag_id`,
  );

  const studios = await insertCountsOf(
    tx,
    into,
    'studio',
    scope('studio', tx`e.id`),
    tx`
      select ie.studio_id as id, count(*)::int as n
      from image_effective ie join images i on i.id = ie.image_id
      where i.deleted_at is null and ie.studio_id is not null ${scope('studio', tx`ie.studio_id`)}
      group by ie.studio_id`,
    tx`
      select s.studio_id as id, count(*)::int as n
      from scenes s
      where s.deleted_at is null and s.studio_id is not null ${scope('studio', tx`s.studio_id`)}
      group by s.studio_id`,
  );

  const galleries = await insertCountsOf(
    tx,
    into,
    'gallery',
    scope('gallery', tx`e.id`),
    tx`
      select ig.gallery_id as id, count(*)::int as n
      from image_galleries ig join images i on i.id = ig.image_id
      where i.deleted_at is null ${scope('gallery', tx`ig.gallery_id`)}
      group by ig.gallery_id`,
    tx`
      select sg.gallery_id as id, count(*)::int as n
      from scene_galleries sg join scenes s on s.id = sg.scene_id
      where s.deleted_at is null ${scope('gallery', tx`sg.gallery_id`)}
      group by sg.gallery_id`,
  );

  return performers.count + tags.count + studios.count + galleries.count;
}

const COUNTED_TABLES = { performer: 'performers', tag: 'tags', studio: 'studios', gallery: 'galleries' } as const;

/**
 * One counted type's rows: every live entity of the type (within `scope`), with its image and
 * scene counts from `imageCounts` / `sceneCounts` (each yields `id, n`; absent means 0).
 */
function insertCountsOf(
  tx: TransactionSql,
  into: string,
  entityType: keyof typeof COUNTED_TABLES,
  scope: Fragment,
  imageCounts: Fragment,
  sceneCounts: Fragment,
) {
  return tx`
    insert into ${tx(into)} (entity_type, entity_id, image_count, scene_count)
    select ${entityType}, e.id, coalesce(img.n, 0), coalesce(scn.n, 0)
    from ${tx(COUNTED_TABLES[entityType])} e
    left join (${imageCounts}) img on img.id = e.id
    left join (${sceneCounts}) scn on scn.id = e.id
    where e.deleted_at is null ${scope}
    order by e.id`;
}

/**
 * galleries.image_count is Stash's "images in this gallery". Stash changes it when an IMAGE joins
 * or leaves without bumping the gallery, so the sync does not copy it (it would go stale); it is
 * kept equal to the gallery's count here instead, writing only the galleries whose count moved.
 */
async function syncGalleryImageCounts(tx: TransactionSql): Promise<void> {
  await tx`
    update galleries g set image_count = coalesce(ec.image_count, 0)
    from galleries current
    left join entity_counts ec on ec.entity_type = 'gallery' and ec.entity_id = current.id
    where g.id = current.id and g.deleted_at is null and g.image_count is distinct from coalesce(ec.image_count, 0)`;
}
