import type { ColumnSpec, ColumnValue, EntitySpec, LinkSpec, MappedEntity } from '../stash/entities/spec.js';
import { STAMP_COLUMNS } from '../stash/entities/spec.js';
import type { EntityType } from '../stash/entity-types.js';
import { jsonb, type Sql, type TransactionSql } from './client.js';
import { type ChangeType, diffEntity, type StoredEntity } from './diff.js';
import type { LogEntry } from './runs.js';

type Db = Sql | TransactionSql;

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The entities of `ids` as the mirror has them, with their own links, for diffing. */
export async function loadStored(db: Db, spec: EntitySpec, ids: number[]): Promise<Map<number, StoredEntity>> {
  if (ids.length === 0) return new Map();
  const columns = [...spec.columns, ...STAMP_COLUMNS].map((column) => `t.${ident(column.name)}`).join(', ');
  const linkSelects = spec.links
    .map((link) => {
      const extras = (link.extraColumns ?? []).map((column) => `, '${column.name}', l.${ident(column.name)}`).join('');
      return `(select coalesce(json_agg(json_build_object('target', l.${ident(link.targetColumn)}${extras})), '[]')
         from ${ident(link.table)} l where l.${ident(link.ownerColumn)} = t.id) as ${ident(`link:${link.name}`)}`;
    })
    .join(',\n');
  const rows = await db.unsafe(
    `select t.id, t.deleted_at is not null as "deleted:", ${columns}${linkSelects ? `,\n${linkSelects}` : ''}
     from ${ident(spec.table)} t where t.id = any($1::bigint[])`,
    [ids],
  );
  const stored = new Map<number, StoredEntity>();
  for (const row of rows) {
    const links: Record<string, unknown[]> = {};
    for (const link of spec.links) links[link.name] = (row[`link:${link.name}`] as unknown[]) ?? [];
    stored.set(Number(row.id), { row, links, deleted: Boolean(row['deleted:']) });
  }
  return stored;
}

export interface EntityOutcome {
  id: number;
  change: ChangeType;
  changedFields: string[];
}

/**
 * Writes the entities that differ from the mirror: one set-based upsert for the rows, and for
 * each link table one delete plus one insert for exactly the changed owners. Unchanged entities
 * are not touched (a no-op sync writes nothing). Runs inside the caller's sync transaction.
 */
export async function applyEntities(
  tx: TransactionSql,
  spec: EntitySpec,
  entities: MappedEntity[],
): Promise<EntityOutcome[]> {
  const unique = new Map<number, MappedEntity>();
  for (const entity of entities) unique.set(entity.id, entity); // the later copy of a row read twice wins
  const ids = [...unique.keys()].sort((a, b) => a - b);
  // Lookups by id must use the primary key even in a table this very sync is filling, whose
  // planner statistics still say "empty" (a sequential scan per page made a first full sync
  // quadratic). Scoped to the caller's page transaction.
  await tx`set local enable_seqscan = off`;
  // Row locks in id order: a single-entity sync running beside a page of a long sync serialises
  // per row instead of interleaving its read and write with the other's (and cannot deadlock).
  await tx.unsafe(`select id from ${ident(spec.table)} where id = any($1::bigint[]) order by id for update`, [ids]);
  const stored = await loadStored(tx, spec, ids);
  const outcomes: EntityOutcome[] = [];
  const changed: MappedEntity[] = [];
  for (const entity of unique.values()) {
    const { change, changedFields } = diffEntity(spec, entity, stored.get(entity.id));
    outcomes.push({ id: entity.id, change, changedFields });
    if (change !== 'unchanged') changed.push(entity);
  }
  if (changed.length === 0) return outcomes;

  const columns = ['id', ...spec.columns.map((column) => column.name), ...STAMP_COLUMNS.map((column) => column.name)];
  const payload = changed.map((entity) => ({ id: entity.id, ...entity.row }));
  const updates = columns
    .filter((column) => column !== 'id')
    .map((column) => `${ident(column)} = excluded.${ident(column)}`)
    .join(', ');
  await tx.unsafe(
    `insert into ${ident(spec.table)} (${columns.map(ident).join(', ')})
     select ${columns.map(ident).join(', ')} from jsonb_populate_recordset(null::${ident(spec.table)}, $1::jsonb)
     on conflict (id) do update set ${updates}, synced_at = now(), deleted_at = null`,
    [jsonb(tx, payload)],
  );

  // A touched entity's links are as stored: only its row (the stamps) is written. A created one
  // has none to delete.
  const changeOf = new Map(outcomes.map((outcome) => [outcome.id, outcome.change]));
  const relinked = changed.filter((entity) => changeOf.get(entity.id) !== 'touched');
  const replaced = relinked.filter((entity) => changeOf.get(entity.id) !== 'created').map((entity) => entity.id);
  for (const link of spec.links) {
    if (replaced.length > 0) {
      await tx.unsafe(`delete from ${ident(link.table)} where ${ident(link.ownerColumn)} = any($1::bigint[])`, [
        replaced,
      ]);
    }
    await insertLinks(tx, link, relinked);
  }
  return outcomes;
}

/** Postgres array types of the link columns, for unnest(): cheaper to send than JSON rows. */
const ARRAY_TYPE: Record<ColumnSpec['type'], string> = {
  text: 'text[]',
  bigint: 'bigint[]',
  integer: 'int[]',
  double: 'float8[]',
  boolean: 'bool[]',
  date: 'date[]',
  timestamptz: 'timestamptz[]',
  'text[]': 'text[]',
};

/** One link table's rows of these owners, in one statement: a column of values per array. */
async function insertLinks(tx: TransactionSql, link: LinkSpec, owners: MappedEntity[]): Promise<void> {
  const extras = link.extraColumns ?? [];
  const ownerIds: number[] = [];
  const targetIds: number[] = [];
  const extraValues: ColumnValue[][] = extras.map(() => []);
  for (const entity of owners) {
    for (const row of entity.links[link.name] ?? []) {
      ownerIds.push(entity.id);
      targetIds.push(row.target);
      for (const [index, column] of extras.entries()) extraValues[index]?.push(row[column.name] ?? null);
    }
  }
  if (ownerIds.length === 0) return;
  const columns = [link.ownerColumn, link.targetColumn, ...extras.map((column) => column.name)].map(ident);
  const arrays = [
    '$1::bigint[]',
    '$2::bigint[]',
    ...extras.map((column, index) => `$${index + 3}::${ARRAY_TYPE[column.type]}`),
  ];
  await tx.unsafe(
    `insert into ${ident(link.table)} (${columns.join(', ')}) select * from unnest(${arrays.join(', ')})
     on conflict do nothing`,
    [ownerIds, targetIds, ...extraValues],
  );
}

/** A soft-deleted entity and the own links it had (kept in its `deleted` sync_log row for history). */
export interface DeletedEntity {
  id: number;
  /** Link name → target ids (e.g. { tags: [3, 7] }); only links that had rows. */
  links: Record<string, number[]>;
}

/**
 * Soft-deletes entities and removes their own link rows in the same transaction: Stash no longer
 * has those links, and a query joining a link table must not count ghosts. The row itself stays
 * (deleted_at set) for history; a revived entity gets its links back from Stash.
 */
export async function softDelete(tx: TransactionSql, spec: EntitySpec, ids: number[]): Promise<DeletedEntity[]> {
  if (ids.length === 0) return [];
  const rows = await tx.unsafe(
    `update ${ident(spec.table)} set deleted_at = now(), synced_at = now()
     where id = any($1::bigint[]) and deleted_at is null returning id`,
    [ids],
  );
  const deleted = rows.map((row) => Number(row.id));
  const links = new Map<number, Record<string, number[]>>(deleted.map((id) => [id, {}]));
  if (deleted.length === 0) return [];
  for (const link of spec.links) {
    const removed = await tx.unsafe(
      `delete from ${ident(link.table)} where ${ident(link.ownerColumn)} = any($1::bigint[])
       returning ${ident(link.ownerColumn)} as owner, ${ident(link.targetColumn)} as target`,
      [deleted],
    );
    for (const row of removed) {
      const owned = links.get(Number(row.owner));
      if (!owned) continue;
      const targets = owned[link.name] ?? [];
      targets.push(Number(row.target));
      owned[link.name] = targets;
    }
  }
  return deleted.map((id) => {
    const owned = links.get(id) ?? {};
    for (const targets of Object.values(owned)) targets.sort((a, b) => a - b);
    return { id, links: owned };
  });
}

/** Live ids the mirror holds for a type. */
export async function liveIds(db: Db, spec: EntitySpec): Promise<number[]> {
  const rows = await db.unsafe(`select id from ${ident(spec.table)} where deleted_at is null`);
  return rows.map((row) => Number(row.id));
}

/**
 * Live entities of any type whose own links point at one of `targetIds` of `targetType`: after
 * a merge or deletion Stash rewrote their links without bumping them, so they must be re-read.
 */
export async function ownersLinkingTo(
  db: Db,
  specs: EntitySpec[],
  targetType: EntityType,
  targetIds: number[],
): Promise<Array<{ type: EntityType; ids: number[] }>> {
  if (targetIds.length === 0) return [];
  const result: Array<{ type: EntityType; ids: number[] }> = [];
  for (const spec of specs) {
    const queries: string[] = spec.links
      .filter((link) => link.targetType === targetType)
      .map(
        (link) =>
          `select ${ident(link.ownerColumn)} as id from ${ident(link.table)} where ${ident(link.targetColumn)} = any($1::bigint[])`,
      );
    for (const column of spec.columns) {
      if (column.references === targetType) {
        queries.push(`select id from ${ident(spec.table)} where ${ident(column.name)} = any($1::bigint[])`);
      }
    }
    if (queries.length === 0) continue;
    const rows = await db.unsafe(
      `select distinct o.id from (${queries.join(' union ')}) o
       join ${ident(spec.table)} t on t.id = o.id and t.deleted_at is null`,
      [targetIds],
    );
    if (rows.length > 0) result.push({ type: spec.type, ids: rows.map((row) => Number(row.id)) });
  }
  return result;
}

export type IdRange = readonly [number, number];

/** Entities the mirror knows in an id range: live rows plus entities that failed to map. */
export async function knownCount(db: Db, spec: EntitySpec, range?: IdRange): Promise<number> {
  const [low, high] = range ?? [0, Number.MAX_SAFE_INTEGER];
  const [row] = await db.unsafe(
    `select (select count(*) from ${ident(spec.table)} where deleted_at is null and id between $1 and $2)
          + (select count(*) from sync_failures f where f.entity_type = $3 and f.entity_id between $1 and $2
               and not exists (select 1 from ${ident(spec.table)} t where t.id = f.entity_id and t.deleted_at is null))
          as n`,
    [low, high, spec.type],
  );
  return Number(row?.n ?? 0);
}

/** Live ids within the given ranges (all live ids when `ranges` is null). */
export async function liveIdsIn(db: Db, spec: EntitySpec, ranges: IdRange[] | null): Promise<number[]> {
  if (ranges === null) return liveIds(db, spec);
  const result: number[] = [];
  for (const [low, high] of ranges) {
    const rows = await db.unsafe(
      `select id from ${ident(spec.table)} where deleted_at is null and id between $1 and $2`,
      [low, high],
    );
    for (const row of rows) result.push(Number(row.id));
  }
  return result;
}

/** Ids of entities currently failing to map (known to the mirror, not live). */
export async function failingIds(db: Db, spec: EntitySpec): Promise<number[]> {
  const rows = await db`select entity_id from sync_failures where entity_type = ${spec.type}`;
  return rows.map((row) => Number(row.entity_id));
}

/** Live rows whose Stash updated_at string is lexically at or after `bound`: id → raw string. */
export async function storedStampsSince(db: Db, spec: EntitySpec, bound: string): Promise<Map<number, string>> {
  const rows = await db.unsafe(
    `select id, stash_updated_at_raw from ${ident(spec.table)} where deleted_at is null and stash_updated_at_raw >= $1`,
    [bound],
  );
  return new Map(rows.map((row) => [Number(row.id), String(row.stash_updated_at_raw)]));
}

/** How many live rows a type has. */
export async function liveCount(db: Db, spec: EntitySpec): Promise<number> {
  const [row] = await db.unsafe(`select count(*)::int as n from ${ident(spec.table)} where deleted_at is null`);
  return Number(row?.n ?? 0);
}

/**
 * Live owners linked to any of `targetIds` through `link`, with those of the targets they link
 * to (the mirror's side of a membership comparison, e.g. the images of some galleries).
 */
export async function linkedOwnersInMirror(
  db: Db,
  owner: EntitySpec,
  link: LinkSpec,
  targetIds: number[],
): Promise<Map<number, number[]>> {
  if (targetIds.length === 0) return new Map();
  const rows = await db.unsafe(
    `select l.${ident(link.ownerColumn)} as owner, array_agg(l.${ident(link.targetColumn)} order by l.${ident(link.targetColumn)}) as targets
     from ${ident(link.table)} l join ${ident(owner.table)} o on o.id = l.${ident(link.ownerColumn)} and o.deleted_at is null
     where l.${ident(link.targetColumn)} = any($1::bigint[])
     group by l.${ident(link.ownerColumn)}`,
    [targetIds],
  );
  return new Map(rows.map((row) => [Number(row.owner), (row.targets as unknown[]).map(Number)]));
}

/** Live tags' aliases and parent ids, as the mirror has them. */
export async function storedTagHierarchy(db: Db): Promise<Map<number, { aliases: string[]; parents: number[] }>> {
  const rows = await db`
    select t.id, t.aliases,
      coalesce((select array_agg(p.parent_id order by p.parent_id) from tag_parents p where p.child_id = t.id), '{}') as parents
    from tags t where t.deleted_at is null`;
  return new Map(
    rows.map((row) => [
      Number(row.id),
      { aliases: row.aliases as string[], parents: (row.parents as unknown[]).map(Number) },
    ]),
  );
}

/** How many live rows have a Stash updated_at string lexically within [low, high]. */
export async function storedCountBetween(db: Db, spec: EntitySpec, low: string, high: string): Promise<number> {
  const [row] = await db.unsafe(
    `select count(*)::int as n from ${ident(spec.table)}
     where deleted_at is null and stash_updated_at_raw >= $1 and stash_updated_at_raw <= $2`,
    [low, high],
  );
  return Number(row?.n ?? 0);
}

/** Refreshes the planner statistics of a type's table and its own link tables. */
export async function analyzeEntityTables(db: Db, spec: EntitySpec): Promise<void> {
  await db.unsafe(`analyze ${[spec.table, ...spec.links.map((link) => link.table)].map(ident).join(', ')}`);
}

/**
 * Keeps sync_failures current: entities that failed to map are recorded, entities that mapped
 * (or vanished) are cleared. Deletion signals count them as known to the mirror.
 */
export async function recordFailures(
  tx: TransactionSql,
  runId: string,
  type: EntityType,
  failures: LogEntry[],
  clearedIds: number[],
): Promise<void> {
  if (clearedIds.length > 0) {
    await tx`delete from sync_failures where entity_type = ${type} and entity_id = any(${clearedIds}::bigint[])`;
  }
  const failed = failures.filter((failure) => failure.entityId !== null);
  if (failed.length === 0) return;
  await tx`
    insert into sync_failures (entity_type, entity_id, run_id, error_message)
    select ${type}, x.entity_id, ${runId}, x.error_message
    from jsonb_to_recordset(${jsonb(
      tx,
      failed.map((failure) => ({ entity_id: failure.entityId, error_message: failure.errorMessage ?? null })),
    )}) as x(entity_id bigint, error_message text)
    on conflict (entity_type, entity_id) do update
      set run_id = excluded.run_id, error_message = excluded.error_message, failed_at = now()`;
}

/** The highest id the mirror has ever held for a type (live or not; 0 when none). */
export async function maxId(db: Db, spec: EntitySpec): Promise<number> {
  const [row] = await db.unsafe(`select coalesce(max(id), 0) as max_id from ${ident(spec.table)}`);
  return Number(row?.max_id ?? 0);
}

/**
 * Live entities the sync wrote at or after `writtenSince` (synced_at: any change, a bump of
 * Stash's stamp alone included), optionally only those Stash updated at or after
 * `updatedSince`. Both are instants on the database's clock and Stash's respectively.
 */
export async function writtenSince(
  db: Db,
  spec: EntitySpec,
  writtenSince: Date,
  updatedSince: Date | null,
): Promise<number[]> {
  const rows = await db.unsafe(
    `select id from ${ident(spec.table)}
     where deleted_at is null and synced_at >= $1 and ($2::timestamptz is null or stash_updated_at >= $2)
     order by id`,
    [writtenSince, updatedSince],
  );
  return rows.map((row) => Number(row.id));
}
