import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sql, withSyncTransaction } from '../../db/client.js';
import {
  POST_PROCESS_STEP_NAMES,
  type PostProcessScope,
  runPostProcessStep,
  stepNamesFor,
} from '../../db/postprocess/steps.js';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { insertEntities, insertLinks, logChanges, resetMirror, snapshotDerived } from './postprocess-fixtures.js';

const ALL: PostProcessScope = { kind: 'all' };

let db: TestDatabase;
let sql: Sql;

beforeAll(async () => {
  db = await createTestDatabase('postprocess');
  sql = db.sql;
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  await resetMirror(sql);
});

async function runAll(): Promise<void> {
  for (const step of POST_PROCESS_STEP_NAMES) await runPostProcessStep(sql, step, ALL);
}

async function effectivePerformers(): Promise<Array<{ image_id: number; performer_id: number; inherited: boolean }>> {
  return [...(await sql`select image_id, performer_id, inherited from image_effective_performers order by 1, 2`)].map(
    (row) => ({ image_id: row.image_id, performer_id: row.performer_id, inherited: row.inherited }),
  );
}

describe('stepNamesFor', () => {
  it('runs image inheritance for images or galleries, scene tags and user stats for scenes/performers/studios/groups/tags, counts and user exclusions always', () => {
    expect(stepNamesFor([])).toEqual(['entity-counts', 'user-exclusions']);
    expect(stepNamesFor(['image'])).toEqual(['image-inheritance', 'entity-counts', 'user-exclusions']);
    expect(stepNamesFor(['gallery'])).toEqual(['image-inheritance', 'entity-counts', 'user-exclusions']);
    for (const type of ['scene', 'performer', 'studio', 'group', 'tag'] as const) {
      expect(stepNamesFor([type])).toEqual(['scene-tag-inheritance', 'entity-counts', 'user-exclusions', 'user-stats']);
    }
    expect(stepNamesFor(['gallery', 'tag'])).toEqual([
      'image-inheritance',
      'scene-tag-inheritance',
      'entity-counts',
      'user-exclusions',
      'user-stats',
    ]);
    expect(stepNamesFor(new Set(ENTITY_TYPES))).toEqual([...POST_PROCESS_STEP_NAMES]);
  });

  it('rejects an unknown step and an empty run id', async () => {
    await expect(runPostProcessStep(sql, 'nope' as 'entity-counts', ALL)).rejects.toThrow(/unknown/);
    await expect(runPostProcessStep(sql, 'entity-counts', { kind: 'run', runId: '' })).rejects.toThrow(/run id/);
  });
});

describe('image inheritance', () => {
  it('gives images without own performers the performer of their gallery (inherited)', async () => {
    await withSyncTransaction(sql, async (tx) => {
      await insertEntities(tx, 'performer', [{ id: 1 }]);
      await insertEntities(tx, 'gallery', [{ id: 10 }]);
      await insertEntities(tx, 'image', [{ id: 100 }, { id: 101 }, { id: 102 }]);
      await insertLinks(tx, 'gallery_performers', [[10, 1]]);
      await insertLinks(tx, 'image_galleries', [
        [100, 10],
        [101, 10],
      ]);
    });
    const result = await runPostProcessStep(sql, 'image-inheritance', ALL);
    expect(result).toMatchObject({ step: 'image-inheritance', scope: 'all', affected: 3 });
    expect(result.ms).toBeGreaterThanOrEqual(0);
    expect(await effectivePerformers()).toEqual([
      { image_id: 100, performer_id: 1, inherited: true },
      { image_id: 101, performer_id: 1, inherited: true },
    ]);
    // Every live image has an image_effective row, also one without galleries.
    const effective = await sql`select image_id from image_effective order by 1`;
    expect(effective.map((row) => row.image_id)).toEqual([100, 101, 102]);
  });

  it('takes each scalar from the own value, else the first gallery by id that has one', async () => {
    await withSyncTransaction(sql, async (tx) => {
      await insertEntities(tx, 'gallery', [
        { id: 3, date: '2020-03-03', photographer: null, details: null, studio_id: null },
        { id: 7, date: '2021-07-07', photographer: 'seven', details: 'gallery seven', studio_id: 70 },
        { id: 9, date: null, photographer: 'nine', details: 'deleted nine', studio_id: 90, deleted: true },
        { id: 1, date: '2019-01-01', photographer: 'one', details: 'gallery one', studio_id: 10 },
      ]);
      await insertEntities(tx, 'image', [
        // In 7 and 3 (inserted in that order): date from 3, everything else from 7.
        { id: 100 },
        // Own photographer and studio win; date and details from 3 / 7.
        { id: 101, photographer: 'own', studio_id: 5 },
        // Only in a deleted gallery: nothing inherited.
        { id: 102 },
        // In 7 and 1: 1 is the lowest live gallery id and has every field.
        { id: 103 },
      ]);
      await insertLinks(tx, 'image_galleries', [
        [100, 7],
        [100, 3],
        [100, 9],
        [101, 3],
        [101, 7],
        [102, 9],
        [103, 7],
        [103, 1],
      ]);
    });
    await runPostProcessStep(sql, 'image-inheritance', ALL);
    const rows = await sql`
      select image_id, studio_id, date::text as date, photographer, details from image_effective order by image_id`;
    expect(rows.map((row) => ({ ...row }))).toEqual([
      { image_id: 100, studio_id: 70, date: '2020-03-03', photographer: 'seven', details: 'gallery seven' },
      { image_id: 101, studio_id: 5, date: '2020-03-03', photographer: 'own', details: 'gallery seven' },
      { image_id: 102, studio_id: null, date: null, photographer: null, details: null },
      { image_id: 103, studio_id: 10, date: '2019-01-01', photographer: 'one', details: 'gallery one' },
    ]);
  });

  it('merges performers and tags of all live galleries, own ones not inherited, deleted images without rows', async () => {
    await withSyncTransaction(sql, async (tx) => {
      await insertEntities(tx, 'gallery', [{ id: 1 }, { id: 2 }, { id: 3, deleted: true }]);
      await insertEntities(tx, 'image', [{ id: 100 }, { id: 101, deleted: true }]);
      await insertLinks(tx, 'image_galleries', [
        [100, 1],
        [100, 2],
        [100, 3],
        [101, 1],
      ]);
      await insertLinks(tx, 'gallery_performers', [
        [1, 11],
        [2, 12],
        [2, 13],
        [3, 14],
      ]);
      await insertLinks(tx, 'gallery_tags', [
        [1, 21],
        [2, 22],
        [3, 23],
      ]);
      await insertLinks(tx, 'image_performers', [
        [100, 13],
        [101, 11],
      ]);
      await insertLinks(tx, 'image_tags', [[100, 24]]);
    });
    await runPostProcessStep(sql, 'image-inheritance', ALL);
    expect(await effectivePerformers()).toEqual([
      { image_id: 100, performer_id: 11, inherited: true },
      { image_id: 100, performer_id: 12, inherited: true },
      { image_id: 100, performer_id: 13, inherited: false },
    ]);
    const tags = await sql`select image_id, tag_id, inherited from image_effective_tags order by 1, 2`;
    expect(tags.map((row) => [row.image_id, row.tag_id, row.inherited])).toEqual([
      [100, 21, true],
      [100, 22, true],
      [100, 24, false],
    ]);
    expect(await sql`select 1 from image_effective where image_id = 101`).toHaveLength(0);
  });

  it('drops an inherited performer when the gallery loses it or is deleted (run scope and all scope)', async () => {
    await withSyncTransaction(sql, async (tx) => {
      await insertEntities(tx, 'performer', [{ id: 1 }, { id: 2 }]);
      await insertEntities(tx, 'gallery', [{ id: 10 }, { id: 20 }]);
      await insertEntities(tx, 'image', [{ id: 100 }, { id: 200 }]);
      await insertLinks(tx, 'image_galleries', [
        [100, 10],
        [200, 20],
      ]);
      await insertLinks(tx, 'gallery_performers', [
        [10, 1],
        [10, 2],
        [20, 2],
      ]);
    });
    await runAll();
    expect(
      await sql`select entity_id, image_count from entity_counts where entity_type = 'performer' order by 1`,
    ).toEqual([
      { entity_id: 1, image_count: 1 },
      { entity_id: 2, image_count: 2 },
    ]);

    // Gallery 10 loses performer 1; gallery 20 is deleted. Both galleries changed in run r1.
    await withSyncTransaction(sql, async (tx) => {
      await tx`delete from gallery_performers where gallery_id = 10 and performer_id = 1`;
      await tx`update galleries set deleted_at = now() where id = 20`;
      await logChanges(tx, 'r1', [
        { type: 'gallery', id: 10, fields: ['performers'] },
        { type: 'gallery', id: 20, change: 'deleted' },
      ]);
    });
    const run: PostProcessScope = { kind: 'run', runId: 'r1' };
    for (const step of stepNamesFor(['gallery'])) {
      const result = await runPostProcessStep(sql, step, run);
      expect(result.scope).toBe('run');
    }
    expect(await effectivePerformers()).toEqual([{ image_id: 100, performer_id: 2, inherited: true }]);
    const counts = await sql`select entity_type, entity_id, image_count from entity_counts order by 1, 2`;
    expect(counts.map((row) => ({ ...row }))).toEqual([
      { entity_type: 'gallery', entity_id: 10, image_count: 1 },
      { entity_type: 'performer', entity_id: 1, image_count: 0 },
      { entity_type: 'performer', entity_id: 2, image_count: 1 },
    ]);
    const afterRun = await snapshotDerived(sql);
    await runAll();
    expect(await snapshotDerived(sql)).toEqual(afterRun);
  });
});

describe('scene tag inheritance', () => {
  it('inherits live tags from live performers, studio and groups, one row per source', async () => {
    await withSyncTransaction(sql, async (tx) => {
      await insertEntities(tx, 'tag', [
        { id: 1 },
        { id: 2 },
        { id: 3 },
        { id: 4, deleted: true },
        { id: 5 },
        { id: 6 },
      ]);
      await insertEntities(tx, 'performer', [{ id: 10 }, { id: 11 }, { id: 12, deleted: true }]);
      await insertEntities(tx, 'studio', [{ id: 20 }, { id: 21, deleted: true }]);
      await insertEntities(tx, 'group', [{ id: 30 }]);
      await insertEntities(tx, 'scene', [
        { id: 100, studio_id: 20 },
        { id: 101, studio_id: 21 },
        { id: 102, studio_id: 20, deleted: true },
      ]);
      await insertLinks(tx, 'performer_tags', [
        [10, 1],
        [11, 1],
        [10, 4],
        [12, 5],
      ]);
      await insertLinks(tx, 'studio_tags', [
        [20, 2],
        [20, 1],
        [21, 6],
      ]);
      await insertLinks(tx, 'group_tags', [[30, 3]]);
      await insertLinks(tx, 'scene_performers', [
        [100, 10],
        [100, 11],
        [100, 12],
        [101, 10],
      ]);
      await insertLinks(tx, 'scene_groups', [
        [100, 30],
        [101, 30],
      ]);
      // Own tags stay in scene_tags only.
      await insertLinks(tx, 'scene_tags', [[100, 3]]);
    });
    const result = await runPostProcessStep(sql, 'scene-tag-inheritance', ALL);
    expect(result).toMatchObject({ step: 'scene-tag-inheritance', scope: 'all', affected: 2 });
    const rows = await sql`select scene_id, tag_id, source from scene_inherited_tags order by 1, 2, 3`;
    expect(rows.map((row) => [row.scene_id, row.tag_id, row.source])).toEqual([
      [100, 1, 'performer'], // from performers 10 and 11: one row
      [100, 1, 'studio'],
      [100, 2, 'studio'],
      [100, 3, 'group'], // also an own tag of 100: inherited row kept, own row not copied
      [101, 1, 'performer'], // studio 21 is deleted: no tag 6
      [101, 3, 'group'],
    ]);
  });

  it('follows a tag deletion and a performer deletion in run scope', async () => {
    await withSyncTransaction(sql, async (tx) => {
      await insertEntities(tx, 'tag', [{ id: 1 }, { id: 2 }]);
      await insertEntities(tx, 'performer', [{ id: 10 }, { id: 11 }]);
      await insertEntities(tx, 'scene', [{ id: 100 }, { id: 101 }]);
      await insertLinks(tx, 'performer_tags', [
        [10, 1],
        [11, 2],
      ]);
      await insertLinks(tx, 'scene_performers', [
        [100, 10],
        [101, 11],
      ]);
    });
    await runAll();
    expect(await sql`select count(*)::int as n from scene_inherited_tags`).toEqual([{ n: 2 }]);
    await withSyncTransaction(sql, async (tx) => {
      await tx`update tags set deleted_at = now() where id = 1`;
      await tx`update performers set deleted_at = now() where id = 11`;
      await logChanges(tx, 'r2', [
        { type: 'tag', id: 1, change: 'deleted' },
        { type: 'performer', id: 11, change: 'deleted' },
      ]);
    });
    for (const step of stepNamesFor(['tag', 'performer']))
      await runPostProcessStep(sql, step, { kind: 'run', runId: 'r2' });
    expect(await sql`select * from scene_inherited_tags`).toHaveLength(0);
    const counts = await sql`select entity_type, entity_id, scene_count from entity_counts order by 1, 2`;
    expect(counts.map((row) => [row.entity_type, row.entity_id, row.scene_count])).toEqual([
      ['performer', 10, 1],
      ['tag', 2, 0],
    ]);
  });
});

describe('entity counts', () => {
  it('counts live images over effective links and live scenes over own ∪ inherited links', async () => {
    await withSyncTransaction(sql, async (tx) => {
      await insertEntities(tx, 'studio', [{ id: 1 }, { id: 2 }, { id: 3, deleted: true }]);
      await insertEntities(tx, 'tag', [{ id: 10 }, { id: 11 }]);
      await insertEntities(tx, 'performer', [{ id: 20 }, { id: 21, deleted: true }]);
      await insertEntities(tx, 'gallery', [{ id: 30, studio_id: 1 }, { id: 31 }]);
      await insertEntities(tx, 'image', [
        { id: 100 }, // inherits studio 1, performer 20, tag 10 from gallery 30
        { id: 101, studio_id: 2 }, // own studio wins over the gallery's
        { id: 102, deleted: true }, // counts for nothing
        { id: 103 }, // own performer 20, no gallery
      ]);
      await insertEntities(tx, 'scene', [
        { id: 200, studio_id: 1 },
        { id: 201, studio_id: 1 },
        { id: 202, studio_id: 1, deleted: true },
      ]);
      await insertLinks(tx, 'image_galleries', [
        [100, 30],
        [101, 30],
        [102, 30],
        [102, 31],
      ]);
      await insertLinks(tx, 'gallery_performers', [[30, 20]]);
      await insertLinks(tx, 'gallery_tags', [[30, 10]]);
      await insertLinks(tx, 'image_performers', [
        [103, 20],
        [103, 21],
      ]);
      await insertLinks(tx, 'scene_performers', [
        [200, 20],
        [202, 20],
        [200, 21],
      ]);
      await insertLinks(tx, 'performer_tags', [[20, 11]]);
      // Scene 200 has tag 11 both own and inherited (through performer 20): counted once.
      await insertLinks(tx, 'scene_tags', [
        [200, 11],
        [201, 10],
        [202, 10],
      ]);
      await insertLinks(tx, 'scene_galleries', [
        [200, 30],
        [201, 30],
        [202, 31],
      ]);
    });
    await runAll();
    const counts = await sql`select entity_type, entity_id, image_count, scene_count from entity_counts order by 1, 2`;
    expect(counts.map((row) => [row.entity_type, row.entity_id, row.image_count, row.scene_count])).toEqual([
      ['gallery', 30, 2, 2],
      ['gallery', 31, 0, 0],
      ['performer', 20, 3, 1],
      ['studio', 1, 1, 2],
      ['studio', 2, 1, 0],
      ['tag', 10, 2, 1],
      ['tag', 11, 0, 1],
    ]);
  });

  it('hands stale counts over from an inheritance step to the next counts step, of any scope', async () => {
    await withSyncTransaction(sql, async (tx) => {
      await insertEntities(tx, 'performer', [{ id: 1 }, { id: 2 }]);
      await insertEntities(tx, 'gallery', [{ id: 10 }]);
      await insertEntities(tx, 'image', [{ id: 100 }]);
      await insertLinks(tx, 'image_galleries', [[100, 10]]);
      await insertLinks(tx, 'gallery_performers', [[10, 1]]);
    });
    await runAll();
    await withSyncTransaction(sql, async (tx) => {
      await tx`update gallery_performers set performer_id = 2 where gallery_id = 10`;
      await logChanges(tx, 'r4', [{ type: 'gallery', id: 10, fields: ['performers'] }]);
    });
    // Image inheritance ran, the counts step did not (an interrupted run): both performers are marked.
    await runPostProcessStep(sql, 'image-inheritance', { kind: 'run', runId: 'r4' });
    const marked = await sql`select entity_id from entity_counts where computed_at = '-infinity' order by 1`;
    expect(marked.map((row) => row.entity_id)).toEqual([1, 2]);
    // The old counts stay readable until then.
    expect(
      await sql`select entity_id, image_count from entity_counts where entity_type = 'performer' order by 1`,
    ).toEqual([
      { entity_id: 1, image_count: 1 },
      { entity_id: 2, image_count: 0 },
    ]);
    // A later counts step of an unrelated run picks the marks up.
    await runPostProcessStep(sql, 'entity-counts', { kind: 'run', runId: 'unrelated' });
    expect(
      await sql`select entity_id, image_count from entity_counts where entity_type = 'performer' order by 1`,
    ).toEqual([
      { entity_id: 1, image_count: 0 },
      { entity_id: 2, image_count: 1 },
    ]);
    // And a full recompute clears marks too.
    await withSyncTransaction(sql, (tx) => tx`update entity_counts set computed_at = '-infinity'`);
    await runPostProcessStep(sql, 'entity-counts', ALL);
    expect(await sql`select 1 from entity_counts where computed_at = '-infinity'`).toHaveLength(0);
  });

  it('recounts an entity that lost an own scene link only through the scene change, and removes deleted entities', async () => {
    await withSyncTransaction(sql, async (tx) => {
      await insertEntities(tx, 'performer', [{ id: 1 }, { id: 2 }]);
      await insertEntities(tx, 'tag', [{ id: 5 }]);
      await insertEntities(tx, 'scene', [{ id: 100 }, { id: 101 }]);
      await insertLinks(tx, 'scene_performers', [
        [100, 1],
        [101, 1],
        [101, 2],
      ]);
      await insertLinks(tx, 'scene_tags', [[100, 5]]);
    });
    await runAll();
    await withSyncTransaction(sql, async (tx) => {
      // Scene 100 dropped performer 1 (only the scene changed in Stash); tag 5 was deleted.
      await tx`delete from scene_performers where scene_id = 100`;
      await tx`update tags set deleted_at = now() where id = 5`;
      await logChanges(tx, 'r3', [
        { type: 'scene', id: 100, fields: ['performers'] },
        { type: 'tag', id: 5, change: 'deleted' },
        // Noise the step must ignore: another run, and an unchanged row of this run.
        { type: 'performer', id: 2, change: 'unchanged' },
      ]);
      await logChanges(tx, 'other-run', [{ type: 'scene', id: 101, change: 'deleted' }]);
    });
    const result = await runPostProcessStep(sql, 'entity-counts', { kind: 'run', runId: 'r3' });
    expect(result).toMatchObject({ step: 'entity-counts', scope: 'run' });
    const counts = await sql`select entity_type, entity_id, scene_count from entity_counts order by 1, 2`;
    expect(counts.map((row) => [row.entity_type, row.entity_id, row.scene_count])).toEqual([
      ['performer', 1, 1],
      ['performer', 2, 1],
    ]);
  });
});
