import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Sql, withSyncTransaction } from '../../db/client.js';
import {
  POST_PROCESS_STEP_NAMES,
  type PostProcessScope,
  runPostProcessStep,
  stepNamesFor,
} from '../../db/postprocess/steps.js';
import { RESTRICTION_TYPES, type RestrictionType } from '../../db/user-vocabulary.js';
import { ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import {
  clearTables,
  DERIVED_TABLES,
  type EntityFixture,
  type FixtureValue,
  insertEntities,
  insertLinks,
  LINK_TABLE_NAMES,
  LINK_TABLES,
  type LinkTable,
  type LogEntry,
  logChanges,
  OWN_TABLES,
  resetMirror,
  snapshotDerived,
} from './postprocess-fixtures.js';

/**
 * Property: after any batch of changes, running the steps with scope `run` (only those stepNamesFor()
 * picks, fed only by the run's sync_log rows) leaves exactly the derived tables a full `all`
 * recompute produces. The batch is applied like a sync would: the own tables end up as the new
 * library, and sync_log gets one row per entity whose row, liveness or own links differ.
 */

/** Initial ids per type; `size + 1` is the id a "create" mutation adds. */
const SIZES: Record<EntityType, number> = { studio: 3, tag: 5, performer: 4, group: 3, gallery: 4, scene: 5, image: 8 };
const SCALAR_FIELDS: Partial<Record<EntityType, readonly ScalarField[]>> = {
  image: ['studio_id', 'date', 'photographer', 'details'],
  gallery: ['studio_id', 'date', 'photographer', 'details'],
  scene: ['studio_id'],
};
type ScalarField = 'studio_id' | 'date' | 'photographer' | 'details';

/** Index 0 is null; studio id 4 is a studio that does not exist (unless created). */
const FIELD_VALUES: Record<ScalarField, readonly FixtureValue[]> = {
  studio_id: [null, 1, 2, 4],
  date: [null, '2020-01-01', '2021-02-02', '2022-03-03'],
  photographer: [null, 'ann', 'bob', 'cy'],
  details: [null, 'x', 'y', 'z'],
};

interface EntityState {
  deleted: boolean;
  fields: Partial<Record<ScalarField, FixtureValue>>;
}
interface Library {
  entities: Record<EntityType, Map<number, EntityState>>;
  /** Per link table, "owner:target" keys. */
  links: Record<LinkTable, Set<string>>;
}

type Mutation =
  | { op: 'link'; table: LinkTable; owner: number; target: number }
  | { op: 'field'; type: EntityType; id: number; field: number; value: number }
  | { op: 'delete'; type: EntityType; id: number; dropLinks: boolean }
  | { op: 'revive'; type: EntityType; id: number }
  | { op: 'create'; type: EntityType; seed: number }
  | { op: 'touch'; type: EntityType; id: number };

const entityType = fc.constantFrom(...ENTITY_TYPES);
const anyId = fc.integer({ min: 1, max: 9 });

function fieldsFromSeed(type: EntityType, seed: number): EntityState['fields'] {
  const fields: EntityState['fields'] = {};
  (SCALAR_FIELDS[type] ?? []).forEach((field, index) => {
    const values = FIELD_VALUES[field];
    fields[field] = values[Math.floor(seed / 4 ** index) % values.length] ?? null;
  });
  return fields;
}

const libraryArb: fc.Arbitrary<Library> = fc
  .record({
    entities: fc.record(
      Object.fromEntries(
        ENTITY_TYPES.map((type) => [
          type,
          fc.array(fc.record({ deleted: fc.integer({ min: 0, max: 4 }), seed: fc.nat(255) }), {
            minLength: SIZES[type],
            maxLength: SIZES[type],
          }),
        ]),
      ) as Record<EntityType, fc.Arbitrary<Array<{ deleted: number; seed: number }>>>,
    ),
    links: fc.record(
      Object.fromEntries(
        LINK_TABLE_NAMES.map((table) => {
          const { owner, target } = LINK_TABLES[table];
          // Targets include size + 1: links to entities not (yet) in the mirror are legal.
          const pair = fc.tuple(
            fc.integer({ min: 1, max: SIZES[owner] }),
            fc.integer({ min: 1, max: SIZES[target] + 1 }),
          );
          return [table, fc.uniqueArray(pair, { maxLength: 10, selector: ([a, b]) => `${a}:${b}` })];
        }),
      ) as Record<LinkTable, fc.Arbitrary<Array<[number, number]>>>,
    ),
  })
  .map(({ entities, links }) => ({
    entities: Object.fromEntries(
      ENTITY_TYPES.map((type) => [
        type,
        new Map(
          entities[type].map((entity, index) => [
            index + 1,
            { deleted: entity.deleted === 0, fields: fieldsFromSeed(type, entity.seed) },
          ]),
        ),
      ]),
    ) as Library['entities'],
    links: Object.fromEntries(
      LINK_TABLE_NAMES.map((table) => [table, new Set(links[table].map(([a, b]) => `${a}:${b}`))]),
    ) as Library['links'],
  }));

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('link' as const),
      table: fc.constantFrom(...LINK_TABLE_NAMES),
      owner: anyId,
      target: anyId,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('field' as const),
      type: fc.constantFrom<EntityType>('image', 'gallery', 'scene'),
      id: anyId,
      field: fc.nat(3),
      value: fc.nat(3),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('delete' as const), type: entityType, id: anyId, dropLinks: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('revive' as const), type: entityType, id: anyId }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('create' as const), type: entityType, seed: fc.nat(255) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('touch' as const), type: entityType, id: anyId }) },
);

function cloneLibrary(library: Library): Library {
  return {
    entities: Object.fromEntries(
      ENTITY_TYPES.map((type) => [
        type,
        new Map([...library.entities[type]].map(([id, e]) => [id, { deleted: e.deleted, fields: { ...e.fields } }])),
      ]),
    ) as Library['entities'],
    links: Object.fromEntries(
      LINK_TABLE_NAMES.map((table) => [table, new Set(library.links[table])]),
    ) as Library['links'],
  };
}

/** Applies mutations; returns entities that were only "touched" (logged as updated, nothing changed). */
function mutate(library: Library, mutations: Mutation[]): Array<{ type: EntityType; id: number }> {
  const touched: Array<{ type: EntityType; id: number }> = [];
  const clampId = (type: EntityType, id: number) => 1 + ((id - 1) % (SIZES[type] + 1));
  for (const mutation of mutations) {
    switch (mutation.op) {
      case 'link': {
        const { owner: ownerType, target: targetType } = LINK_TABLES[mutation.table];
        const owner = clampId(ownerType, mutation.owner);
        // Links are written with their owner: an owner the mirror does not have has no links.
        if (!library.entities[ownerType].has(owner)) break;
        const key = `${owner}:${clampId(targetType, mutation.target)}`;
        const set = library.links[mutation.table];
        if (set.has(key)) set.delete(key);
        else set.add(key);
        break;
      }
      case 'field': {
        const entity = library.entities[mutation.type].get(clampId(mutation.type, mutation.id));
        const fields = SCALAR_FIELDS[mutation.type] ?? [];
        const field = fields[mutation.field % fields.length];
        if (!entity || !field) break;
        entity.fields[field] = FIELD_VALUES[field][mutation.value] ?? null;
        break;
      }
      case 'delete': {
        const id = clampId(mutation.type, mutation.id);
        const entity = library.entities[mutation.type].get(id);
        if (!entity) break;
        entity.deleted = true;
        // The sync's soft delete keeps a deleted entity's own links; one that dropped them would have
        // to name them in changed_fields (diffLog does). Cover both.
        if (mutation.dropLinks) {
          for (const table of LINK_TABLE_NAMES) {
            if (LINK_TABLES[table].owner !== mutation.type) continue;
            for (const key of [...library.links[table]]) if (key.startsWith(`${id}:`)) library.links[table].delete(key);
          }
        }
        break;
      }
      case 'revive': {
        const entity = library.entities[mutation.type].get(clampId(mutation.type, mutation.id));
        if (entity) entity.deleted = false;
        break;
      }
      case 'create': {
        const id = SIZES[mutation.type] + 1;
        if (!library.entities[mutation.type].has(id)) {
          library.entities[mutation.type].set(id, {
            deleted: false,
            fields: fieldsFromSeed(mutation.type, mutation.seed),
          });
        }
        break;
      }
      case 'touch': {
        const id = clampId(mutation.type, mutation.id);
        if (library.entities[mutation.type].has(id)) touched.push({ type: mutation.type, id });
        break;
      }
    }
  }
  return touched;
}

/** What the sync would log: one row per entity whose row, liveness or own links differ. */
function diffLog(before: Library, after: Library, unknownFields: boolean): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const type of ENTITY_TYPES) {
    for (const [id, now] of after.entities[type]) {
      const was = before.entities[type].get(id);
      const fields = new Set<string>();
      for (const field of SCALAR_FIELDS[type] ?? []) {
        if ((was?.fields[field] ?? null) !== (now.fields[field] ?? null)) fields.add(field);
      }
      for (const table of LINK_TABLE_NAMES) {
        const link = LINK_TABLES[table];
        if (link.owner !== type) continue;
        const own = (library: Library) =>
          [...library.links[table]]
            .filter((key) => key.startsWith(`${id}:`))
            .sort()
            .join(',');
        if (own(before) !== own(after)) fields.add(link.field);
      }
      const change = !was
        ? 'created'
        : was.deleted && !now.deleted
          ? 'revived'
          : !was.deleted && now.deleted
            ? 'deleted'
            : 'updated';
      if (change === 'updated' && fields.size === 0) continue;
      // As the sync logs them: created and deleted with NULL changed_fields, except that a deletion
      // which also dropped own links must name them (the sync's soft delete keeps them); updated
      // and revived with the changed fields, or NULL ("unknown") when unknownFields.
      const named = change === 'deleted' ? fields.size > 0 : change === 'created' ? false : !unknownFields;
      entries.push({ type, id, change, ...(named ? { fields: [...fields] } : {}) });
    }
  }
  return entries;
}

/**
 * Users seeing the library through restrictions, hidden entities and watch activity: the user
 * steps' `run` scope must leave what their `all` scope gives, like every other step.
 */
interface UserFixture {
  role: 'admin' | 'user';
  restrictions: Partial<Record<RestrictionType, { mode: 'EXCLUDE' | 'INCLUDE'; ids: number[] }>>;
  hidden: Array<[EntityType, number]>;
  activity: Array<{ scene: number; event: 'play' | 'o'; duration: number }>;
}

const restrictionArb = (type: RestrictionType) =>
  fc.record({
    mode: fc.constantFrom<'EXCLUDE' | 'INCLUDE'>('EXCLUDE', 'EXCLUDE', 'INCLUDE'),
    ids: fc.uniqueArray(fc.integer({ min: 1, max: SIZES[type] + 1 }), { minLength: 1, maxLength: 3 }),
  });
const usersArb: fc.Arbitrary<UserFixture[]> = fc.array(
  fc.record({
    role: fc.constantFrom<'admin' | 'user'>('user', 'user', 'user', 'admin'),
    restrictions: fc.record(
      Object.fromEntries(RESTRICTION_TYPES.map((type) => [type, restrictionArb(type)])) as Record<
        RestrictionType,
        ReturnType<typeof restrictionArb>
      >,
      { requiredKeys: [] },
    ),
    hidden: fc.uniqueArray(fc.tuple(entityType, fc.integer({ min: 1, max: 6 })), {
      maxLength: 3,
      selector: ([type, id]) => `${type}:${id}`,
    }),
    activity: fc.array(
      fc.record({
        scene: fc.integer({ min: 1, max: SIZES.scene + 1 }),
        event: fc.constantFrom<'play' | 'o'>('play', 'o'),
        duration: fc.integer({ min: 0, max: 600 }),
      }),
      { maxLength: 4 },
    ),
  }),
  { maxLength: 3 },
);

/** Replaces every user (their own data goes with them) and their derived rows. */
async function writeUsers(sql: Sql, users: UserFixture[]): Promise<void> {
  await withSyncTransaction(sql, async (tx) => {
    await clearTables(tx, ['user_excluded_entities', 'user_entity_counts', 'user_stats', 'users']);
    for (const [index, user] of users.entries()) {
      const [row] = await tx<{ id: number }[]>`
        insert into users (name, role) values (${`user ${index}`}, ${user.role}) returning id`;
      const userId = Number(row?.id);
      for (const [type, restriction] of Object.entries(user.restrictions)) {
        await tx`
          insert into user_restrictions (user_id, entity_type, mode, entity_ids)
          values (${userId}, ${type}, ${restriction.mode}, ${restriction.ids}::bigint[])`;
      }
      for (const [type, id] of user.hidden) {
        await tx`insert into user_hidden_entities (user_id, entity_type, entity_id) values (${userId}, ${type}, ${id})`;
      }
      for (const event of user.activity) {
        await tx`
          insert into user_activity (user_id, scene_id, event, at, duration_seconds)
          values (${userId}, ${event.scene}, ${event.event}, '2024-05-01T00:00:00Z'::timestamptz + ${event.duration} * interval '1 minute',
                  ${event.event === 'play' ? event.duration : null})`;
      }
    }
  });
}

async function writeLibrary(sql: Sql, library: Library): Promise<void> {
  await withSyncTransaction(sql, async (tx) => {
    await clearTables(tx, OWN_TABLES);
    for (const type of ENTITY_TYPES) {
      const rows: EntityFixture[] = [...library.entities[type]].map(([id, entity]) => ({
        id,
        deleted: entity.deleted,
        ...entity.fields,
      }));
      await insertEntities(tx, type, rows);
    }
    for (const table of LINK_TABLE_NAMES) {
      const pairs = [...library.links[table]].map((key) => key.split(':').map(Number) as [number, number]);
      await insertLinks(tx, table, pairs);
    }
  });
}

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await createTestDatabase('postprocess_prop');
  sql = db.sql;
});
afterAll(async () => {
  await db?.drop();
});

it('run scope leaves exactly the derived tables of an all-scope recompute', async () => {
  const all: PostProcessScope = { kind: 'all' };
  let iteration = 0;
  await fc.assert(
    fc.asyncProperty(
      libraryArb,
      fc.array(mutationArb, { minLength: 1, maxLength: 12 }),
      fc.boolean(),
      usersArb,
      async (initial, mutations, unknownFields, users) => {
        iteration += 1;
        const runId = `prop-run-${iteration}`;
        const runAll = async () => {
          for (const step of POST_PROCESS_STEP_NAMES) await runPostProcessStep(sql, step, all);
        };
        await resetMirror(sql);
        await writeUsers(sql, users);
        await writeLibrary(sql, initial);
        await runAll();
        const initialDerived = await snapshotDerived(sql);

        const changed = cloneLibrary(initial);
        const touched = mutate(changed, mutations);
        const log = diffLog(initial, changed, unknownFields);
        for (const { type, id } of touched) {
          if (!log.some((entry) => entry.type === type && entry.id === id)) {
            log.push({ type, id, change: 'updated', fields: ['title'] });
          }
        }
        await writeLibrary(sql, changed);
        await withSyncTransaction(sql, async (tx) => {
          await logChanges(tx, runId, log);
          // Rows the steps must ignore: another run, an unchanged/failed entity, a run-wide summary.
          await logChanges(tx, `${runId}-other`, [
            { type: 'scene', id: 1 },
            { type: 'image', id: 2, change: 'deleted' },
          ]);
          await logChanges(tx, runId, [
            { type: 'performer', id: 1, change: 'unchanged' },
            { type: 'gallery', id: 1, change: 'failed' },
          ]);
          await tx`
            insert into sync_log (run_id, entity_type, entity_id, sync_type, change_type)
            values (${runId}, 'tag', null, 'full', 'updated')`;
          // The run's start bounds which recounted entities the user step re-checks for empties.
          await tx`
            insert into sync_runs (id, workflow_id, temporal_run_id, sync_type, trigger, status)
            values (${runId}, 'prop', ${runId}, 'incremental', 'test', 'running')`;
        });

        const changedTypes = new Set(log.map((entry) => entry.type));
        const run: PostProcessScope = { kind: 'run', runId };
        for (const step of stepNamesFor(changedTypes)) {
          const result = await runPostProcessStep(sql, step, run);
          expect(result.scope).toBe('run');
        }
        const afterRun = await snapshotDerived(sql);
        // Every stale mark the inheritance steps left was consumed by the counts step.
        expect(await sql`select 1 from entity_counts where computed_at = '-infinity'`).toHaveLength(0);

        // `all` into empty tables (rows inserted directly) gives the same.
        await withSyncTransaction(sql, (tx) => clearTables(tx, DERIVED_TABLES));
        await runAll();
        expect(await snapshotDerived(sql)).toEqual(afterRun);

        // `all` over existing rows (merged from a shadow) gets from one library's derived rows to
        // the other's, in both directions.
        await writeLibrary(sql, initial);
        await runAll();
        expect(await snapshotDerived(sql)).toEqual(initialDerived);
        await writeLibrary(sql, changed);
        await runAll();
        expect(await snapshotDerived(sql)).toEqual(afterRun);
      },
    ),
    // POSTPROCESS_PROPERTY_RUNS=500 for a longer soak.
    { numRuns: Number(process.env.POSTPROCESS_PROPERTY_RUNS ?? 25) },
  );
});
