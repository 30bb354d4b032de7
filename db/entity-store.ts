import type { EntitySpec, MappedEntity } from '../stash/entities/spec.js';
import { STAMP_COLUMNS } from '../stash/entities/spec.js';
import type { EntityType } from '../stash/entity-types.js';
import { jsonb, type Sql, type TransactionSql } from './client.js';
import { type ChangeType, diffEntity, type StoredEntity } from './diff.js';

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

  const changedIds = changed.map((entity) => entity.id);
  for (const link of spec.links) {
    const extra = (link.extraColumns ?? []).map((column) => column.name);
    const linkColumns = [link.ownerColumn, link.targetColumn, ...extra];
    const linkRows = changed.flatMap((entity) =>
      (entity.links[link.name] ?? []).map((row) => {
        const out: Record<string, unknown> = { [link.ownerColumn]: entity.id, [link.targetColumn]: row.target };
        for (const name of extra) out[name] = row[name] ?? null;
        return out;
      }),
    );
    await tx.unsafe(`delete from ${ident(link.table)} where ${ident(link.ownerColumn)} = any($1::bigint[])`, [
      changedIds,
    ]);
    if (linkRows.length > 0) {
      await tx.unsafe(
        `insert into ${ident(link.table)} (${linkColumns.map(ident).join(', ')})
         select ${linkColumns.map(ident).join(', ')} from jsonb_populate_recordset(null::${ident(link.table)}, $1::jsonb)
         on conflict do nothing`,
        [jsonb(tx, linkRows)],
      );
    }
  }
  return outcomes;
}

/** Soft-deletes entities; returns the ids that were live. */
export async function softDelete(tx: TransactionSql, spec: EntitySpec, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await tx.unsafe(
    `update ${ident(spec.table)} set deleted_at = now(), synced_at = now()
     where id = any($1::bigint[]) and deleted_at is null returning id`,
    [ids],
  );
  return rows.map((row) => Number(row.id));
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
      const reference = REFERENCE_COLUMNS[column.name];
      if (reference === targetType) {
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

/** Scalar columns that reference another entity (links held on the row itself). */
const REFERENCE_COLUMNS: Record<string, EntityType> = { studio_id: 'studio', parent_id: 'studio' };

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
