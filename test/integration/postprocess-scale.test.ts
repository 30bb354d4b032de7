import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Sql, withSyncTransaction } from '../../db/client.js';
import {
  POST_PROCESS_STEP_NAMES,
  type PostProcessScope,
  runPostProcessStep,
  type StepResult,
  stepNamesFor,
} from '../../db/postprocess/steps.js';
import type { EntityType } from '../../stash/entity-types.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { DERIVED_TABLES, type LogEntry, logChanges } from './postprocess-fixtures.js';

/**
 * Scale: with 200k images, a run that changed one scene or one image must use the reverse-lookup
 * indexes, not rescan the library. Timings are printed; the assertion is run < all / 5.
 */

const IMAGES = 200_000;
const GALLERIES = 2_000;
const SCENES = 20_000;
const PERFORMERS = 1_000;
const TAGS = 300;
const STUDIOS = 50;
const GROUPS = 100;
const STAMPS = `'2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z'`;

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await createTestDatabase('postprocess_scale');
  sql = db.sql;
});
afterAll(async () => {
  await db?.drop();
});

async function seedLibrary(): Promise<void> {
  await withSyncTransaction(sql, async (tx) => {
    const statements = [
      `insert into studios (id, name, stash_created_at, stash_updated_at, stash_updated_at_raw)
       select n, 'studio ' || n, ${STAMPS} from generate_series(1, ${STUDIOS}) n`,
      `insert into tags (id, name, stash_created_at, stash_updated_at, stash_updated_at_raw)
       select n, 'tag ' || n, ${STAMPS} from generate_series(1, ${TAGS}) n`,
      `insert into performers (id, name, stash_created_at, stash_updated_at, stash_updated_at_raw)
       select n, 'performer ' || n, ${STAMPS} from generate_series(1, ${PERFORMERS}) n`,
      `insert into groups (id, name, stash_created_at, stash_updated_at, stash_updated_at_raw)
       select n, 'group ' || n, ${STAMPS} from generate_series(1, ${GROUPS}) n`,
      `insert into galleries (id, date, photographer, studio_id, stash_created_at, stash_updated_at, stash_updated_at_raw)
       select n,
         case when n % 2 = 0 then date '2020-01-01' + n end,
         case when n % 3 = 0 then 'photographer ' || n end,
         1 + n % ${STUDIOS},
         ${STAMPS}
       from generate_series(1, ${GALLERIES}) n`,
      `insert into scenes (id, studio_id, stash_created_at, stash_updated_at, stash_updated_at_raw)
       select n, 1 + n % ${STUDIOS}, ${STAMPS} from generate_series(1, ${SCENES}) n`,
      `insert into images (id, studio_id, photographer, stash_created_at, stash_updated_at, stash_updated_at_raw)
       select n,
         case when n % 5 = 0 then 1 + n % ${STUDIOS} end,
         case when n % 7 = 0 then 'own ' || n end,
         ${STAMPS}
       from generate_series(1, ${IMAGES}) n`,
      // Every image in one gallery, every 10th in a second one.
      `insert into image_galleries (image_id, gallery_id)
       select n, 1 + n % ${GALLERIES} from generate_series(1, ${IMAGES}) n
       union
       select n, 1 + (n * 7 + 1) % ${GALLERIES} from generate_series(10, ${IMAGES}, 10) n`,
      `insert into image_performers (image_id, performer_id)
       select n, 1 + n % ${PERFORMERS} from generate_series(2, ${IMAGES}, 2) n`,
      `insert into image_tags (image_id, tag_id)
       select n, 1 + n % ${TAGS} from generate_series(1, ${IMAGES}) n
       union
       select n, 1 + (n * 13) % ${TAGS} from generate_series(3, ${IMAGES}, 3) n`,
      `insert into gallery_performers (gallery_id, performer_id)
       select n, 1 + (n * 3) % ${PERFORMERS} from generate_series(1, ${GALLERIES}) n`,
      `insert into gallery_tags (gallery_id, tag_id)
       select n, 1 + (n * 7) % ${TAGS} from generate_series(1, ${GALLERIES}) n`,
      `insert into scene_performers (scene_id, performer_id)
       select n, 1 + n % ${PERFORMERS} from generate_series(1, ${SCENES}) n
       union
       select n, 1 + (n * 17) % ${PERFORMERS} from generate_series(1, ${SCENES}) n`,
      `insert into scene_tags (scene_id, tag_id)
       select n, 1 + n % ${TAGS} from generate_series(1, ${SCENES}) n
       union
       select n, 1 + (n * 11) % ${TAGS} from generate_series(1, ${SCENES}) n`,
      `insert into scene_groups (scene_id, group_id)
       select n, 1 + n % ${GROUPS} from generate_series(4, ${SCENES}, 4) n`,
      `insert into scene_galleries (scene_id, gallery_id)
       select n, 1 + n % ${GALLERIES} from generate_series(10, ${SCENES}, 10) n`,
      `insert into performer_tags (performer_id, tag_id)
       select n, 1 + (n * 5) % ${TAGS} from generate_series(1, ${PERFORMERS}) n`,
      `insert into studio_tags (studio_id, tag_id) select n, 1 + n % ${TAGS} from generate_series(1, ${STUDIOS}) n`,
      `insert into group_tags (group_id, tag_id) select n, 1 + (n * 2) % ${TAGS} from generate_series(1, ${GROUPS}) n`,
    ];
    for (const statement of statements) await tx.unsafe(statement);
  });
  // Fresh tables have no statistics yet; autovacuum would get there, a test should not wait.
  await sql`analyze`;
}

async function runSteps(types: EntityType[], scope: PostProcessScope): Promise<{ ms: number; results: StepResult[] }> {
  const steps = scope.kind === 'all' ? POST_PROCESS_STEP_NAMES : stepNamesFor(types);
  const results: StepResult[] = [];
  const startedAt = performance.now();
  for (const step of steps) results.push(await runPostProcessStep(sql, step, scope));
  return { ms: Math.round(performance.now() - startedAt), results };
}

async function change(runId: string, entries: LogEntry[], statements: string[]): Promise<void> {
  await withSyncTransaction(sql, async (tx) => {
    for (const statement of statements) await tx.unsafe(statement);
    await logChanges(tx, runId, entries);
  });
}

/** Copies of the derived tables (plain tables outside the mirror schema contract, test only). */
async function copyDerived(): Promise<void> {
  for (const table of DERIVED_TABLES) {
    await sql.unsafe(`drop table if exists snapshot_${table}`);
    await sql.unsafe(`create table snapshot_${table} as select * from ${table}`);
    await sql.unsafe(`alter table snapshot_${table} drop column if exists computed_at`);
  }
}

async function differingRows(): Promise<Record<string, number>> {
  const differences: Record<string, number> = {};
  for (const table of DERIVED_TABLES) {
    const columns = (
      await sql`
        select column_name from information_schema.columns
        where table_name = ${table} and table_schema = current_schema() and column_name <> 'computed_at'
        order by ordinal_position`
    ).map((row) => `"${row.column_name}"`);
    const list = columns.join(', ');
    const [row] = await sql.unsafe<{ n: number }[]>(`
      select count(*)::int as n from (
        (select ${list} from ${table} except select ${list} from snapshot_${table})
        union all
        (select ${list} from snapshot_${table} except select ${list} from ${table})
      ) d`);
    differences[table] = row?.n ?? -1;
  }
  return differences;
}

it('a run touching one scene or one image is far cheaper than recomputing everything', async () => {
  const seedStartedAt = performance.now();
  await seedLibrary();
  const seedMs = Math.round(performance.now() - seedStartedAt);

  const all = await runSteps([], { kind: 'all' });
  const [images] = await sql<{ n: number }[]>`select count(*)::int as n from image_effective`;
  expect(images?.n).toBe(IMAGES);

  // One scene changed its performers (and so its inherited tags).
  await change(
    'scale-scene',
    [{ type: 'scene', id: 4242, fields: ['performers'] }],
    [
      'delete from scene_performers where scene_id = 4242',
      `insert into scene_performers (scene_id, performer_id) values (4242, 7)`,
    ],
  );
  const scene = await runSteps(['scene'], { kind: 'run', runId: 'scale-scene' });

  // One image changed its tags and lost its own photographer.
  await change(
    'scale-image',
    [{ type: 'image', id: 77_777, fields: ['tags', 'photographer'] }],
    [
      'delete from image_tags where image_id = 77777',
      'insert into image_tags (image_id, tag_id) values (77777, 1)',
      'update images set photographer = null where id = 77777',
    ],
  );
  const image = await runSteps(['image'], { kind: 'run', runId: 'scale-image' });

  // One image moved to another gallery: a lost image→gallery link leaves no trace but the image's
  // log row, so counts compare gallery image counts (one scan of image_galleries, no images rescan).
  await change(
    'scale-move',
    [{ type: 'image', id: 123_456, fields: ['galleries'] }],
    [
      'delete from image_galleries where image_id = 123456',
      'insert into image_galleries (image_id, gallery_id) values (123456, 5)',
    ],
  );
  const moved = await runSteps(['image'], { kind: 'run', runId: 'scale-move' });

  // One gallery changed its performers: its ~100 images are recomputed.
  await change(
    'scale-gallery',
    [{ type: 'gallery', id: 321, fields: ['performers'] }],
    ['delete from gallery_performers where gallery_id = 321', 'insert into gallery_performers values (321, 999)'],
  );
  const gallery = await runSteps(['gallery'], { kind: 'run', runId: 'scale-gallery' });

  // The run scopes must have left what a full recompute gives.
  await copyDerived();
  const again = await runSteps([], { kind: 'all' });
  const differences = await differingRows();

  const summary = (label: string, run: { ms: number; results: StepResult[] }) =>
    `${label}: ${run.ms} ms (${run.results.map((r) => `${r.step} ${r.affected} in ${r.ms} ms`).join(', ')})`;
  console.log(
    [
      `seed ${IMAGES} images, ${SCENES} scenes: ${seedMs} ms`,
      summary('all', all),
      summary('all again', again),
      summary('run: one scene', scene),
      summary('run: one image', image),
      summary('run: one image moved gallery', moved),
      summary('run: one gallery', gallery),
    ].join('\n'),
  );

  expect(differences).toEqual(Object.fromEntries(DERIVED_TABLES.map((table) => [table, 0])));
  expect(scene.ms).toBeLessThan(all.ms / 5);
  expect(image.ms).toBeLessThan(all.ms / 5);
  expect(moved.ms).toBeLessThan(all.ms / 5);
  expect(gallery.ms).toBeLessThan(all.ms / 5);
  expect(scene.results.find((r) => r.step === 'scene-tag-inheritance')?.affected).toBe(1);
  expect(image.results.find((r) => r.step === 'image-inheritance')?.affected).toBe(1);
});
