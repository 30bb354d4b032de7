import { ENTITY_TABLES, type EntityType } from '../../stash/entity-types.js';
import type { TransactionSql } from '../client.js';
import type { Restrictions } from '../user-settings.js';
import { type ExclusionReason, RESTRICTION_TYPES, type RestrictionType } from '../user-vocabulary.js';
import type { Fragment } from './shared.js';
import { CASCADE_EDGES, CONTENT_EDGES, edgesFrom, ownersLinkedTo } from './user-edges.js';
import { addEmpties, countExcludedWhole } from './user-exclusion-counts.js';

/**
 * One user's exclusion set, computed set-based into temp tables (ON COMMIT DROP) that
 * user-exclusions.ts (a whole user) or user-exclusions-run.ts (what a sync touched) merge into
 * user_excluded_entities / user_entity_counts:
 *
 *   ux_set    (entity_type, entity_id, reason, cascades): every live entity the user may not see,
 *             once, with its strongest reason; `cascades` marks those whose exclusion reaches
 *             what carries or belongs to them (everything but INCLUDE-list outsiders and empties).
 *   ux_counts (entity_type, entity_id, excluded_scene_count, excluded_image_count): per counted
 *             entity, how many of its scenes and images (counted as entity_counts counts them)
 *             are in ux_set.
 *
 * The rules (docs/user-views.md, "Cascade rules"), in the order they are applied, each stage
 * reading only the stages before it:
 *   tags       hidden · EXCLUDE-listed · outside an INCLUDE list (and its descendants) · descendants
 *              of the cascading ones (any parent path: a tag has several parents);
 *   studios    hidden · listed · outside INCLUDE · carrying a cascading tag · child studios (any depth);
 *   groups     hidden · listed · outside INCLUDE · carrying a tag · of an excluded studio · sub groups;
 *   galleries  hidden · listed · outside INCLUDE · carrying a tag · of an excluded studio;
 *   performers hidden · carrying a tag;
 *   scenes     hidden · without any tag / studio / group of an INCLUDE list · carrying a tag (own or
 *              inherited) · of an excluded performer, studio or group;
 *   images     hidden · without any effective tag / studio / gallery of an INCLUDE list · carrying
 *              an effective tag (own or gallery-inherited) · of an excluded (effective) performer,
 *              studio or gallery;
 *   empty      a performer, tag, studio, gallery or group that has scenes or images, all excluded.
 * Reasons are inserted strongest first (hidden, restricted, cascade, empty), and a later insert of
 * the same entity only ever adds `cascades`: so each entity keeps its strongest reason.
 */
export async function computeExclusionSet(tx: TransactionSql, userId: number, restrictions: Restrictions) {
  const stage = await startStages(tx, userId, restrictions, null);
  await stage.containers();
  await stage.media();
  await countExcludedWhole(tx);
  await addEmpties(tx);
}

/**
 * The stages, to be run in order: `containers` (tags, studios, groups, galleries, performers:
 * small, always computed whole), then `media` (scenes and images). `within`: a query of
 * (entity_type, entity_id) limiting the media computed (the ones a sync can have changed), or
 * null for all of them.
 */
export async function startStages(
  tx: TransactionSql,
  userId: number,
  restrictions: Restrictions,
  within: Fragment | null,
): Promise<Stages> {
  await tx`
    create temp table ux_set (
      entity_type text not null,
      entity_id bigint not null,
      reason text not null,
      cascades boolean not null,
      primary key (entity_type, entity_id)
    ) on commit drop`;
  await createKeyTable(tx, 'ux_allowed');
  return new Stages(new Stage(tx, userId, restrictions, within));
}

class Stages {
  constructor(private readonly stage: Stage) {}

  async containers(): Promise<void> {
    const { stage } = this;
    const tx = stage.tx;
    await stage.own('tag');
    await stage.add('tag', 'cascade', true, descendants(tx, TAG_TREE, cascading(tx, 'tag')));

    await stage.own('studio');
    await stage.add('studio', 'cascade', true, reachedFrom(tx, 'studio', 'tag'));
    await stage.add('studio', 'cascade', true, descendants(tx, STUDIO_TREE, cascading(tx, 'studio')));

    await stage.own('group');
    await stage.add('group', 'cascade', true, reachedFrom(tx, 'group', 'tag'));
    await stage.add('group', 'cascade', true, reachedFrom(tx, 'group', 'studio'));
    await stage.add('group', 'cascade', true, descendants(tx, GROUP_TREE, cascading(tx, 'group')));

    await stage.own('gallery');
    await stage.add('gallery', 'cascade', true, reachedFrom(tx, 'gallery', 'tag'));
    await stage.add('gallery', 'cascade', true, reachedFrom(tx, 'gallery', 'studio'));

    await stage.own('performer');
    await stage.add('performer', 'cascade', true, reachedFrom(tx, 'performer', 'tag'));
    await tx`analyze ux_set`;
  }

  /** Scenes, then images: each over its content edges (user-edges.ts), the same links that count it. */
  async media(): Promise<void> {
    const { stage } = this;
    const tx = stage.tx;
    for (const type of ['scene', 'image'] as const) {
      await stage.own(type);
      for (const dimension of RESTRICTION_TYPES) {
        const edges = edgesFrom(CONTENT_EDGES, type, dimension);
        if (edges.length === 0) continue;
        await stage.onlyIncluded(type, dimension, (allowed) =>
          unionAll(
            tx,
            edges.map((e) => ownersLinkedTo(tx, e, allowed)),
          ),
        );
      }
      await stage.add(type, 'cascade', false, reachedFrom(tx, type));
    }
    await tx`analyze ux_set`;
  }
}

type StageType = EntityType;

/** A hierarchy to follow downwards: rows of `table` whose `parent` is a found id add their `child`. */
interface Tree {
  table: string;
  child: string;
  parent: string;
  /** The hierarchy lives on entity rows (studios.parent_id): only live ones are followed. */
  live: boolean;
}
const TAG_TREE: Tree = { table: 'tag_parents', child: 'child_id', parent: 'parent_id', live: false };
const STUDIO_TREE: Tree = { table: 'studios', child: 'id', parent: 'parent_id', live: true };
const GROUP_TREE: Tree = {
  table: 'group_relations',
  child: 'sub_group_id',
  parent: 'containing_group_id',
  live: false,
};

/** The user's settings of one stage, turned into the inserts that apply to every stage alike. */
class Stage {
  constructor(
    readonly tx: TransactionSql,
    private readonly userId: number,
    private readonly restrictions: Restrictions,
    private readonly within: Fragment | null,
  ) {}

  /** `and <column> in <the media of this type to compute>`, when not all of them are. */
  private scoped(type: StageType, column: Fragment): Fragment {
    const { tx, within } = this;
    if (!within || CASCADING_TYPES.has(type)) return tx``;
    return tx`and ${column} in (select w.entity_id from (${within}) as w (entity_type, entity_id) where w.entity_type = ${type})`;
  }

  /**
   * Adds `ids` (one `id` column, duplicates allowed) that are live entities of `type`. An entity
   * already in ux_set keeps its (stronger) reason and only gains `cascades`.
   */
  async add(type: StageType, reason: ExclusionReason, cascades: boolean, ids: Fragment): Promise<void> {
    const { tx } = this;
    await tx`
      insert into ux_set (entity_type, entity_id, reason, cascades)
      select distinct ${type}::text, e.id, ${reason}::text, ${cascades}
      from (${ids}) as x (id)
      join ${tx(ENTITY_TABLES[type])} e on e.id = x.id and e.deleted_at is null ${this.scoped(type, tx`e.id`)}
      on conflict (entity_type, entity_id) do update set cascades = true
      where excluded.cascades and not ux_set.cascades`;
  }

  /** Hidden by the user, then named by an EXCLUDE list, then outside an INCLUDE list. */
  async own(type: StageType): Promise<void> {
    const { tx, userId } = this;
    await this.add(
      type,
      'hidden',
      CASCADING_TYPES.has(type),
      tx`select entity_id from user_hidden_entities where user_id = ${userId} and entity_type = ${type}`,
    );
    const restriction = isRestrictionType(type) ? this.restrictions[type] : undefined;
    if (!restriction) return;
    if (restriction.mode === 'EXCLUDE') {
      await this.add(type, 'restricted', true, tx`select unnest(${restriction.ids}::bigint[])`);
      return;
    }
    const listed = tx`select unnest(${restriction.ids}::bigint[])`;
    const tree = TREES[type as RestrictionType];
    await tx`
      insert into ux_allowed (entity_type, entity_id)
      select distinct ${type}::text, id from (${tree ? descendants(tx, tree, listed) : listed}) as x (id)`;
    // Outsiders are excluded themselves, but carrying one excludes nothing: what INCLUDE lets
    // through is decided by onlyIncluded (a scene with an allowed and another tag stays visible).
    await this.addOutside(type, allowed(tx, type));
  }

  /**
   * Adds the live entities of `type` (those to compute) whose id is not among `ids`, as
   * `restricted` without cascading. NOT EXISTS, never NOT IN: NOT IN over a subquery larger than
   * work_mem is planned as a rescan per row. (Straight from the entity table: no second join.)
   */
  private async addOutside(type: StageType, ids: Fragment): Promise<void> {
    const { tx } = this;
    await tx`
      insert into ux_set (entity_type, entity_id, reason, cascades)
      select ${type}::text, e.id, 'restricted', false from ${tx(ENTITY_TABLES[type])} e
      where e.deleted_at is null ${this.scoped(type, tx`e.id`)}
        and not exists (select 1 from (${ids}) as i (id) where i.id = e.id)
      on conflict (entity_type, entity_id) do nothing`;
  }

  /**
   * With an INCLUDE list of `dimension`, the live `type` entities (scenes, images) that have no
   * link to an allowed one (`linked` yields those that do, from the allowed ids) are restricted.
   */
  async onlyIncluded(type: StageType, dimension: RestrictionType, linked: (allowed: Fragment) => Fragment) {
    if (this.restrictions[dimension]?.mode !== 'INCLUDE') return;
    await this.addOutside(type, linked(allowed(this.tx, dimension)));
  }
}

/** Types whose exclusion reaches other entities (scenes and images are leaves). */
const CASCADING_TYPES: ReadonlySet<StageType> = new Set(['tag', 'studio', 'group', 'gallery', 'performer']);
const TREES: Partial<Record<RestrictionType, Tree>> = { tag: TAG_TREE, studio: STUDIO_TREE, group: GROUP_TREE };

function isRestrictionType(type: StageType): type is RestrictionType {
  return type === 'tag' || type === 'studio' || type === 'group' || type === 'gallery';
}

function cascading(tx: TransactionSql, type: StageType): Fragment {
  return tx`select entity_id from ux_set where entity_type = ${type} and cascades`;
}

function allowed(tx: TransactionSql, type: StageType): Fragment {
  return tx`select entity_id from ux_allowed where entity_type = ${type}`;
}

/** `roots` and everything below them (UNION: terminates on a cyclic hierarchy). */
function descendants(tx: TransactionSql, tree: Tree, roots: Fragment): Fragment {
  const live = tree.live ? tx`and h.deleted_at is null` : tx``;
  return tx`
    with recursive down (id) as (
      ${roots}
      union
      select h.${tx(tree.child)} from ${tx(tree.table)} h join down d on h.${tx(tree.parent)} = d.id
      where h.${tx(tree.child)} is not null ${live}
    )
    select id from down`;
}

/**
 * `owner` entities linked to a cascading entity (of `target`, or of any type) along the links an
 * exclusion cascades over (user-edges.ts); hierarchies are followed by `descendants` instead.
 */
function reachedFrom(tx: TransactionSql, owner: StageType, target?: StageType): Fragment {
  const edges = edgesFrom(CASCADE_EDGES, owner, target).filter((e) => e.target !== owner);
  return unionAll(
    tx,
    edges.map((e) => ownersLinkedTo(tx, e, cascading(tx, e.target))),
  );
}

/** A temp table (ON COMMIT DROP) of (entity_type, entity_id) keys. */
export async function createKeyTable(tx: TransactionSql, name: string): Promise<void> {
  await tx`
    create temp table ${tx(name)} (
      entity_type text not null,
      entity_id bigint not null,
      primary key (entity_type, entity_id)
    ) on commit drop`;
}

/** The parts (queries of the same columns) as one UNION ALL. */
export function unionAll(tx: TransactionSql, parts: Fragment[]): Fragment {
  return parts.slice(1).reduce((all, part) => tx`${all} union all ${part}`, parts[0] ?? tx`select null::bigint`);
}
