import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSyncTransaction } from '../../db/client.js';
import { MIGRATIONS_DIR } from '../../db/migrate.js';
import { runPostProcessStep } from '../../db/postprocess/steps.js';
import { imageEffective } from '../api/oracle.js';
import { type ApiServer, startApi } from '../api/support.js';
import { gql } from '../simulator/helpers.js';
import { diffMirror } from '../support/compare.js';
import { createTestStack, type TestStack } from '../support/stack.js';

/** Every optional text column of the mirror: Stash serves these as "" when unset. */
const OPTIONAL_TEXT: Record<string, string[]> = {
  studios: ['details'],
  tags: ['sort_name', 'description'],
  performers: ['disambiguation', 'country', 'ethnicity', 'details'],
  groups: ['aliases', 'director', 'synopsis'],
  group_relations: ['description'],
  galleries: ['title', 'code', 'details', 'photographer'],
  scenes: ['title', 'code', 'details', 'director'],
  images: ['title', 'code', 'details', 'photographer'],
};

interface ApiImage {
  id: string;
  details: string | null;
  photographer: string | null;
  effective: { details: string | null; photographer: string | null };
}

describe('unset text: Stash serves "", the mirror stores NULL', () => {
  let stack: TestStack;
  let api: ApiServer;
  /** Galleries by ascending id: the first has no photographer (""), the second has one. */
  let firstGallery: number;
  let secondGallery: number;
  /** In both galleries, listed second-first; own details and photographer "". */
  let imageInBoth: number;
  /** Only in the second gallery; own details and photographer "". */
  let imageInSecond: number;

  /**
   * What both images must end up with. Details from the first gallery (by id) that has some; the
   * photographer from the second gallery, because the first one's is "".
   */
  const inheritedByBoth = { photographer: 'Second Photographer', details: 'first gallery details' };
  const inheritedBySecond = { photographer: 'Second Photographer', details: 'second details' };

  beforeAll(async () => {
    stack = await createTestStack({ seed: 3, scale: 'tiny' });
    const control = stack.simulator.control;
    firstGallery = control.create('gallery', { photographer: '', details: inheritedByBoth.details });
    secondGallery = control.create('gallery', { ...inheritedBySecond });
    imageInBoth = control.create('image', {
      details: '',
      photographer: '',
      gallery_ids: [secondGallery, firstGallery],
    });
    imageInSecond = control.create('image', { details: null, photographer: '', gallery_ids: [secondGallery] });
    await stack.startWorker({ pageSize: 10 });
    api = await startApi(stack);
    const summary = await (await stack.startFull()).result();
    expect(summary.status).toBe('completed');
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  /** How many '' the mirror holds in its optional text columns. */
  async function emptyTexts(): Promise<number> {
    let total = 0;
    for (const [table, columns] of Object.entries(OPTIONAL_TEXT)) {
      const [row] = await stack.db.sql`
        select count(*)::int as n from ${stack.db.sql(table)} where ${stack.db.sql.unsafe(`'' in (${columns.join(', ')})`)}`;
      total += row?.n as number;
    }
    return total;
  }

  async function effectiveOf(imageId: number) {
    const [row] = await stack.db.sql`select photographer, details from image_effective where image_id = ${imageId}`;
    return row;
  }

  async function expectInheritedInSql(): Promise<void> {
    expect(await effectiveOf(imageInBoth)).toEqual(inheritedByBoth);
    expect(await effectiveOf(imageInSecond)).toEqual(inheritedBySecond);
  }

  async function apiImage(imageId: number): Promise<ApiImage> {
    const response = await api.request<{ findImage: ApiImage }>('GET', `/api/library/images/${imageId}`);
    expect(response.status).toBe(200);
    return response.body.findImage;
  }

  it('is served as "" by the simulated Stash and stored as NULL', async () => {
    const served = await gql<{ findImage: { details: string | null; photographer: string | null } }>(
      stack.simulator,
      `{ findImage(id: "${imageInSecond}") { details photographer } }`,
    );
    expect(served.body.data?.findImage).toEqual({ details: '', photographer: '' });

    const [image] = await stack.db.sql`select details, photographer from images where id = ${imageInBoth}`;
    expect(image).toEqual({ details: null, photographer: null });
    const [gallery] = await stack.db.sql`select photographer from galleries where id = ${firstGallery}`;
    expect(gallery?.photographer).toBeNull();
    expect(await emptyTexts()).toBe(0);
    // Stash's "" and the mirror's NULL are the same value to the diff: nothing to update.
    expect(await diffMirror(stack.db.sql, stack.simulator, stack.stashUrl)).toEqual([]);
  });

  it('lets an image with "" details and photographer inherit both; a gallery with "" hides nothing (SQL)', async () => {
    await expectInheritedInSql();

    // Every image of the library, whose model holds NULL or '' for unset text, against the oracle.
    const library = stack.simulator.library;
    const rows = await stack.db.sql`select image_id, photographer, details from image_effective order by image_id`;
    expect(rows).toHaveLength(library.images.size);
    for (const row of rows) {
      const id = Number(row.image_id);
      expect({ id, photographer: row.photographer, details: row.details }).toEqual({
        id,
        photographer: imageEffective(library, id, 'photographer'),
        details: imageEffective(library, id, 'details'),
      });
    }
  });

  it('answers unset text as null and the inherited values as effective (API)', async () => {
    const one = await apiImage(imageInBoth);
    expect(one).toMatchObject({
      details: null,
      photographer: null,
      effective: inheritedByBoth,
    });
    const found = await api.request<{ findImages: { images: ApiImage[] } }>('POST', '/api/library/images', {
      body: {
        filter: { per_page: -1 },
        image_filter: { galleries: { value: [String(secondGallery)], modifier: 'INCLUDES' } },
      },
    });
    expect(found.status).toBe(200);
    const effective = new Map(found.body.findImages.images.map((image) => [Number(image.id), image.effective]));
    expect(effective.get(imageInBoth)).toMatchObject(inheritedByBoth);
    expect(effective.get(imageInSecond)).toMatchObject(inheritedBySecond);
  });

  it('treats a "" written by an older version as unset too (post-processing and API)', async () => {
    await withSyncTransaction(stack.db.sql, async (tx) => {
      await tx`update images set details = '', photographer = '' where id = ${imageInBoth}`;
      await tx`update galleries set photographer = '' where id = ${firstGallery}`;
      // As the old derivation left it: the image's own '' won.
      await tx`update image_effective set details = '', photographer = '' where image_id = ${imageInBoth}`;
    });
    const stale = await apiImage(imageInBoth);
    expect(stale.effective).toMatchObject({ photographer: null, details: null });

    await runPostProcessStep(stack.db.sql, 'image-inheritance', { kind: 'all' });
    await expectInheritedInSql();
    expect((await apiImage(imageInBoth)).effective).toMatchObject(inheritedByBoth);
  });

  it('is cleaned up by the migration in a mirror synced before the change', async () => {
    await withSyncTransaction(stack.db.sql, async (tx) => {
      for (const [table, columns] of Object.entries(OPTIONAL_TEXT)) {
        // Every unset text of the table becomes '', as an older version stored Stash's "".
        const sets = columns.map((column) => `${column} = coalesce(${column}, '')`).join(', ');
        await tx.unsafe(`update ${table} set ${sets}`);
      }
      await tx`update image_effective set details = '', photographer = '' where image_id = ${imageInBoth}`;
      await tx`update image_effective set photographer = '' where image_id = ${imageInSecond}`;
    });
    expect(await emptyTexts()).toBeGreaterThan(0);

    const [file] = readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith('_unset-text-is-null.sql'));
    if (!file) throw new Error('migration file not found');
    const migration = readFileSync(join(MIGRATIONS_DIR, file), 'utf8');
    await stack.db.sql.begin((tx) => tx.unsafe(migration).simple());

    expect(await emptyTexts()).toBe(0);
    await expectInheritedInSql();
    // What the next sync finds: nothing changed.
    expect(await diffMirror(stack.db.sql, stack.simulator, stack.stashUrl)).toEqual([]);
  });
});
