import { describe, expect, it } from 'vitest';
import { ENTITY_SPECS } from '../../stash/entities/index.js';
import { EntityMappingError } from '../../stash/entities/spec.js';
import { dependencyStages, ENTITY_DEPENDENCIES, ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';

const stamps = { created_at: '2024-01-01T10:00:00+10:00', updated_at: '2024-02-01T10:00:00+10:00' };

const performer = {
  id: '7',
  name: 'Ann',
  disambiguation: null,
  gender: 'FEMALE',
  birthdate: '1990-05-17',
  death_date: null,
  country: 'AU',
  ethnicity: null,
  height_cm: 170,
  alias_list: ['A'],
  favorite: true,
  rating100: 80,
  details: null,
  urls: [],
  tags: [{ id: '3' }, { id: '4' }],
  ignore_auto_tag: false,
  ...stamps,
};

describe('entity specs', () => {
  it('map a performer to a row, stamps and links', () => {
    const mapped = ENTITY_SPECS.performer.map(performer);
    expect(mapped.id).toBe(7);
    expect(mapped.row.stash_updated_at_raw).toBe('2024-02-01T10:00:00+10:00');
    expect(mapped.row).toMatchObject({
      name: 'Ann',
      gender: 'FEMALE',
      birthdate: '1990-05-17',
      stash_updated_at: '2024-02-01T00:00:00.000Z',
      stash_updated_at_raw: '2024-02-01T10:00:00+10:00',
    });
    expect(mapped.links.tags).toEqual([{ target: 3 }, { target: 4 }]);
  });

  it.each([
    ['an unknown enum', { gender: 'ROBOT' }, /gender/],
    ['a null where a value is required', { name: null }, /name/],
    ['a broken date', { birthdate: '2023-13-45' }, /birthdate: is not a valid date/],
    ['a broken timestamp', { updated_at: 'yesterday' }, /updated_at: is not an RFC 3339 time/],
  ])('reject %s with a message naming the field', (_label, patch, message) => {
    expect(() => ENTITY_SPECS.performer.map({ ...performer, ...patch })).toThrow(EntityMappingError);
    expect(() => ENTITY_SPECS.performer.map({ ...performer, ...patch })).toThrow(message);
  });

  it('map scene files and group links with their scene_index', () => {
    const scene = ENTITY_SPECS.scene.map({
      id: '1',
      title: 'x',
      code: null,
      details: null,
      director: null,
      urls: ['u'],
      date: '2020-01-02',
      rating100: null,
      organized: false,
      o_counter: 2,
      play_count: null,
      play_duration: 1.5,
      resume_time: 0,
      last_played_at: null,
      interactive: false,
      studio: { id: '9' },
      performers: [],
      tags: [{ id: '1' }],
      galleries: [],
      groups: [{ group: { id: '5' }, scene_index: 2 }],
      files: [
        {
          path: '/a.mp4',
          size: 10,
          duration: 60,
          width: 640,
          height: 480,
          video_codec: 'h264',
          audio_codec: 'aac',
          frame_rate: 30,
          bit_rate: 1000,
        },
      ],
      ...stamps,
    });
    expect(scene.row).toMatchObject({
      studio_id: 9,
      duration: 60,
      width: 640,
      filesize: 10,
      play_count: 0,
      o_counter: 2,
    });
    expect(scene.links.groups).toEqual([{ target: 5, scene_index: 2 }]);
  });

  // Real Stash serves every unset text as "" (never null): the mirror stores NULL instead.
  const unsetText: Record<EntityType, { raw: Record<string, unknown>; fields: string[] }> = {
    studio: {
      raw: { id: '1', name: 'S', tags: [], favorite: false, ignore_auto_tag: false, details: '' },
      fields: ['details'],
    },
    tag: {
      raw: { id: '1', name: 'T', parents: [], favorite: false, ignore_auto_tag: false, sort_name: '', description: '' },
      fields: ['sort_name', 'description'],
    },
    performer: {
      raw: { ...performer, disambiguation: '', country: '', ethnicity: '', details: '' },
      fields: ['disambiguation', 'country', 'ethnicity', 'details'],
    },
    group: {
      raw: {
        id: '1',
        name: 'G',
        tags: [],
        containing_groups: [{ group: { id: '2' }, description: '' }],
        aliases: '',
        director: '',
        synopsis: '',
      },
      fields: ['aliases', 'director', 'synopsis'],
    },
    gallery: {
      raw: { id: '1', organized: false, performers: [], tags: [], title: '', code: '', details: '', photographer: '' },
      fields: ['title', 'code', 'details', 'photographer'],
    },
    scene: {
      raw: {
        id: '1',
        organized: false,
        interactive: false,
        performers: [],
        tags: [],
        galleries: [],
        groups: [],
        files: [],
        title: '',
        code: '',
        details: '',
        director: '',
      },
      fields: ['title', 'code', 'details', 'director'],
    },
    image: {
      raw: {
        id: '1',
        organized: false,
        performers: [],
        tags: [],
        galleries: [],
        visual_files: [],
        title: '',
        code: '',
        details: '',
        photographer: '',
      },
      fields: ['title', 'code', 'details', 'photographer'],
    },
  };

  it.each(ENTITY_TYPES)('map an unset text ("") of a %s to null, and keep set text and names', (type) => {
    const { raw, fields } = unsetText[type];
    const unset = ENTITY_SPECS[type].map({ ...stamps, ...raw }).row;
    for (const field of fields) expect(unset[field], field).toBeNull();
    if ('name' in raw) expect(unset.name).toBe(raw.name);
    const set = ENTITY_SPECS[type].map({ ...stamps, ...raw, ...Object.fromEntries(fields.map((f) => [f, 'x'])) }).row;
    for (const field of fields) expect(set[field], field).toBe('x');
    const missing = ENTITY_SPECS[type].map({
      ...stamps,
      ...raw,
      ...Object.fromEntries(fields.map((f) => [f, null])),
    }).row;
    for (const field of fields) expect(missing[field], field).toBeNull();
  });

  it('map an empty group relation description to null', () => {
    const { raw } = unsetText.group;
    expect(ENTITY_SPECS.group.map({ ...stamps, ...raw }).links.containing_groups).toEqual([
      { target: 2, description: null },
    ]);
  });

  it('use keyset by id exactly where Stash has an id criterion', () => {
    const byId = ENTITY_TYPES.filter((type) => ENTITY_SPECS[type].paging === 'id');
    expect(byId.sort()).toEqual(['gallery', 'image', 'scene']);
  });

  it('order types in stages where every dependency comes first', () => {
    const stages = dependencyStages();
    const position = new Map(stages.flatMap((stage, index) => stage.map((type) => [type, index] as const)));
    for (const type of ENTITY_TYPES) {
      for (const dependency of ENTITY_DEPENDENCIES[type]) {
        expect(position.get(dependency)).toBeLessThan(position.get(type) ?? -1);
      }
    }
    expect(stages.flat().sort()).toEqual([...ENTITY_TYPES].sort());
    expect(stages[0]).toEqual(['tag']);
  });

  it('declare link targets consistent with their dependencies', () => {
    for (const type of ENTITY_TYPES) {
      for (const link of ENTITY_SPECS[type].links) {
        expect(link.targetType === type || ENTITY_DEPENDENCIES[type].includes(link.targetType)).toBe(true);
      }
    }
  });
});
