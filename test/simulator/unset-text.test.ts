import { describe, expect, it } from 'vitest';
import { createSimulator, type EntityType } from '../../simulator/index.js';
import { list, NOW } from './helpers.js';

/** The optional text fields of each type, as a GraphQL selection. */
const TEXT: Record<EntityType, string> = {
  scene: 'title code details director',
  image: 'title code details photographer',
  gallery: 'title code details photographer',
  performer: 'disambiguation country ethnicity details',
  studio: 'details',
  tag: 'sort_name description',
  group: 'aliases director synopsis',
};

type Row = Record<string, unknown>;

describe('unset values, as real Stash serves them', () => {
  it('serves every unset text as "", never null, whether the database holds NULL or \'\'', async () => {
    const sim = createSimulator({ seed: 1, scale: 'tiny', now: NOW });
    for (const [type, selection] of Object.entries(TEXT) as [EntityType, string][]) {
      const text = selection.split(' ');
      const served = (await list(sim, type, { per_page: -1 }, null, `id ${selection}`)).rows as Row[];
      for (const row of served) {
        for (const field of text) expect(typeof row[field], `${type} ${row.id} ${field}`).toBe('string');
      }
      // Every type has rows with unset text.
      expect(
        served.some((row) => text.some((field) => row[field] === '')),
        type,
      ).toBe(true);
    }
    // The model holds both NULL and '' for unset image details: both are served as "".
    const images = [...sim.library.images.values()];
    expect(images.some((image) => image.details === null)).toBe(true);
    expect(images.some((image) => image.details === '')).toBe(true);
    const served = (await list(sim, 'image', { per_page: -1 }, null, 'id details date')).rows as Row[];
    for (const row of served) {
      const details = sim.library.images.get(Number(row.id))?.details;
      expect(row.details).toBe(details || '');
    }
    // Unset dates stay null.
    expect(served.some((row) => row.date === null)).toBe(true);
  });

  it('serves "" for the text of a created entity and for a cleared field, and null for its unset numbers', async () => {
    const sim = createSimulator({ seed: 1, scale: 'tiny', now: NOW });
    const id = sim.control.create('gallery', {});
    sim.control.update('group', 1, { containing_groups: [], synopsis: null });
    sim.control.update('group', 2, { containing_groups: [{ group_id: 1, description: null }] });
    const gallery = await list(sim, 'gallery', { per_page: -1 }, null, 'id title details photographer code rating100');
    expect(gallery.rows.find((row) => row.id === String(id))).toEqual({
      id: String(id),
      title: '',
      details: '',
      photographer: '',
      code: '',
      rating100: null,
    });
    const groups = await list(sim, 'group', { per_page: -1 }, null, 'id synopsis containing_groups { description }');
    const byId = new Map(groups.rows.map((row) => [row.id, row as Row]));
    expect(byId.get('1')?.synopsis).toBe('');
    expect(byId.get('2')?.containing_groups).toEqual([{ description: '' }]);
  });
});
