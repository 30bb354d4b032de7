import type { PendingQuery, Row } from 'postgres';
import type { Sql, TransactionSql } from '../client.js';
import { RUN_CHANGE_TYPES } from './plan.js';

/**
 * Pieces shared by the post-processing steps. Every step runs in one sync transaction and, for a
 * `run` scope, works from temp tables (ON COMMIT DROP) of ids rather than id arrays in JS: the ids
 * never leave the database, and ANALYZE gives the planner real row counts so a one-entity run uses
 * the reverse-lookup indexes while a huge run still gets hash joins.
 */

export type Fragment = PendingQuery<Row[]>;

/** "postproc" in ASCII: one advisory lock serializes all post-processing (see lockPostProcessing). */
const POST_PROCESS_LOCK_KEY = 0x706f737470726f63n;

/**
 * Steps delete and re-insert derived rows, so two overlapping runs would collide on primary keys,
 * and the stale marks the inheritance steps leave in entity_counts must not be lost to a
 * concurrent counts step deleting those rows. Post-processing is short; serialize it.
 */
export async function lockPostProcessing(tx: TransactionSql): Promise<void> {
  await tx`select pg_advisory_xact_lock(${POST_PROCESS_LOCK_KEY.toString()}::bigint)`;
}

/**
 * pp_changed: the (entity_type, entity_id, change_type, changed_fields) rows of one run, from
 * sync_log (indexed on run_id). Run-wide rows (entity_id NULL) say nothing about which entity changed.
 */
export async function loadRunChanges(tx: TransactionSql, runId: string): Promise<number> {
  await tx`
    create temp table pp_changed (
      entity_type text not null,
      entity_id bigint not null,
      change_type text not null,
      changed_fields text[]
    ) on commit drop`;
  const inserted = await tx`
    insert into pp_changed (entity_type, entity_id, change_type, changed_fields)
    select entity_type, entity_id, change_type, changed_fields
    from sync_log
    where run_id = ${runId}
      and entity_id is not null
      and change_type = any(${[...RUN_CHANGE_TYPES]}::text[])`;
  await tx`analyze pp_changed`;
  return inserted.count;
}

/** `select entity_id from pp_changed where entity_type = …` as a fragment for `x in (…)`. */
export function changedIds(tx: TransactionSql, entityType: string): Fragment {
  return tx`select entity_id from pp_changed where entity_type = ${entityType}`;
}

/** A temp table of subject ids (images or scenes) the step recomputes. Returns its row count. */
export async function createSubjectTable(tx: TransactionSql, name: string, fill: Fragment): Promise<number> {
  await tx`create temp table ${tx(name)} (id bigint primary key) on commit drop`;
  const inserted = await tx`insert into ${tx(name)} (id) ${fill} on conflict do nothing`;
  await tx`analyze ${tx(name)}`;
  return inserted.count;
}

/**
 * Before a step deletes the derived rows of its subjects, it copies the (entity_type, entity_id,
 * subject_id) links those rows express into pp_links_before. Counts are recomputed by a later
 * step in a later transaction, by which time the old rows are gone; markStaleCounts hands the
 * entities whose links changed over to it (see there).
 */
export async function captureLinksBefore(tx: TransactionSql, links: Fragment): Promise<void> {
  await tx`
    create temp table pp_links_before (
      entity_type text not null,
      entity_id bigint not null,
      subject_id bigint not null
    ) on commit drop`;
  await tx`insert into pp_links_before (entity_type, entity_id, subject_id) ${links}`;
}

/**
 * Marks the entity_counts rows of entities that gained or lost a link (the symmetric difference of
 * the links before and after the recompute) with computed_at = '-infinity'. That timestamp is the
 * hand-over to the entity-counts step, which recomputes every marked row in its next run (any run:
 * a mark left by an interrupted run is picked up by the next one) and so never needs the old rows.
 * Counts themselves stay as they were until then, so readers never see a missing row.
 * Entities without a row need no mark: they are deleted, never counted, or changed in the run
 * themselves (and then counted as such).
 */
export async function markStaleCounts(tx: TransactionSql, linksAfter: Fragment): Promise<number> {
  const marked = await tx`
    with after_links as (${linksAfter}),
    changed_links as (
      (select entity_type, entity_id, subject_id from pp_links_before
       except
       select entity_type, entity_id, subject_id from after_links)
      union
      (select entity_type, entity_id, subject_id from after_links
       except
       select entity_type, entity_id, subject_id from pp_links_before)
    )
    update entity_counts ec
    set computed_at = '-infinity'
    from (select distinct entity_type, entity_id from changed_links) c
    where ec.entity_type = c.entity_type
      and ec.entity_id = c.entity_id
      and ec.computed_at <> '-infinity'`;
  return marked.count;
}

/** A derived table as the `all` scope merges it: its key and the columns compared for changes. */
export interface DerivedTable {
  name: string;
  key: readonly string[];
  values: readonly string[];
}

export const IMAGE_EFFECTIVE: DerivedTable = {
  name: 'image_effective',
  key: ['image_id'],
  values: ['studio_id', 'date', 'photographer', 'details'],
};
export const IMAGE_EFFECTIVE_PERFORMERS: DerivedTable = {
  name: 'image_effective_performers',
  key: ['image_id', 'performer_id'],
  values: ['inherited'],
};
export const IMAGE_EFFECTIVE_TAGS: DerivedTable = {
  name: 'image_effective_tags',
  key: ['image_id', 'tag_id'],
  values: ['inherited'],
};
export const SCENE_INHERITED_TAGS: DerivedTable = {
  name: 'scene_inherited_tags',
  key: ['scene_id', 'tag_id', 'source'],
  values: [],
};
export const ENTITY_COUNTS: DerivedTable = {
  name: 'entity_counts',
  key: ['entity_type', 'entity_id'],
  values: ['image_count', 'scene_count'],
};

/**
 * The `all` scope computes the complete new contents into a shadow temp table (pp_new_<table>)
 * and then merges it (mergeShadow). Deleting and re-inserting every row instead made a repeated
 * full recompute of 200k images ~2x slower (each insert checks its key against the dead row it
 * replaces) and doubled the tables until vacuum, although a full sync mostly changes nothing.
 * An empty table (the first full recompute) needs no merge: the rows go straight into it.
 * Returns the insert target: the shadow's name, or the table's own.
 */
export async function createShadow(tx: TransactionSql, table: DerivedTable): Promise<string> {
  // Identifiers are the constants above, never input: unsafe() only splices them in.
  const [filled] = await tx.unsafe<{ filled: boolean }[]>(`select exists (select 1 from ${table.name}) as filled`);
  if (!filled?.filled) return table.name;
  const shadow = `pp_new_${table.name}`;
  const columns = [...table.key, ...table.values].join(', ');
  await tx.unsafe(`create temp table ${shadow} on commit drop as select ${columns} from ${table.name} with no data`);
  return shadow;
}

/**
 * Makes the table equal to its shadow (`into`, from createShadow) while touching only rows that
 * differ: deletes rows whose key is gone or whose values changed, then inserts the rows whose key
 * the table lacks. Unchanged rows keep their computed_at, as rows outside a `run` scope do:
 * computed_at is when the row was last written. Then analyzes the table if much changed.
 */
export async function mergeShadow(tx: TransactionSql, table: DerivedTable, into: string): Promise<void> {
  let written: number;
  if (into === table.name) {
    // Filled directly: how many rows, up to the threshold, is all that matters below.
    const [row] = await tx.unsafe<{ n: number }[]>(
      `select count(*)::int as n from (select 1 from ${table.name} limit ${ANALYZE_AFTER_ROWS}) s`,
    );
    written = row?.n ?? 0;
  } else {
    const columns = [...table.key, ...table.values].join(', ');
    const sameKey = table.key.map((column) => `n.${column} = t.${column}`).join(' and ');
    const sameValues = table.values.length
      ? ` and row(${table.values.map((c) => `n.${c}`).join(', ')}) is not distinct from row(${table.values.map((c) => `t.${c}`).join(', ')})`
      : '';
    const deleted = await tx.unsafe(
      `delete from ${table.name} t where not exists (select 1 from ${into} n where ${sameKey}${sameValues})`,
    );
    // A key that survived the delete holds the new row already: drop it from the shadow (a temp
    // table, so no WAL) and insert the rest plainly. Never an anti-join against the table being
    // inserted into: with statistics saying "empty" that was planned as a nested loop over its
    // growing heap, quadratic on a full recompute.
    await tx.unsafe(`delete from ${into} n using ${table.name} t where ${sameKey}`);
    // In key order, so the primary key's inserts are sequential.
    const inserted = await tx.unsafe(
      `insert into ${table.name} (${columns}) select ${columns} from ${into} order by ${table.key.join(', ')}`,
    );
    written = deleted.count + inserted.count;
  }
  // Fresh statistics for the `run` scopes that follow: without them (a table first filled by this
  // recompute and not yet seen by autovacuum) "image_id in (few ids)" is guessed at half the table
  // and planned as a full scan. ANALYZE in a transaction samples this transaction's rows. Small
  // changes are left to autovacuum.
  if (written >= ANALYZE_AFTER_ROWS) await tx.unsafe(`analyze ${table.name}`);
}

/** Rows an `all` recompute must write before it analyzes the table itself. */
const ANALYZE_AFTER_ROWS = 1000;

/** An empty fragment, or the fragment when the scope is a run: SQL shared by both scopes. */
export function onlyInRun(isRun: boolean, tx: TransactionSql, fragment: Fragment): Fragment {
  return isRun ? fragment : tx``;
}

export function elapsedMs(startedAt: number): number {
  return Math.round(performance.now() - startedAt);
}

/** Whether an entity_counts row waits for a recount (marked by an inheritance step, see markStaleCounts). */
export async function hasStaleCounts(sql: Sql | TransactionSql): Promise<boolean> {
  const [row] = await sql`select exists (select 1 from entity_counts where computed_at = '-infinity') as stale`;
  return Boolean(row?.stale);
}
