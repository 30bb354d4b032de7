import { describe, expect, it } from 'vitest';
import type { StashClient } from '../../stash/client.js';
import { stashIdOf } from '../../stash/entities/fields.js';
import { ENTITY_SPECS } from '../../stash/entities/index.js';
import { EntityMappingError } from '../../stash/entities/spec.js';
import { mapForStorage } from '../../stash/entities/storable.js';
import { fetchPage, scanIds } from '../../stash/paging.js';
import { mapBatch } from '../../sync/apply.js';

const T = (second: number) => `2024-01-01T10:00:${String(second).padStart(2, '0')}+10:00`;
const tag = (id: string, patch: Record<string, unknown> = {}) => ({
  id,
  name: `tag ${id}`,
  sort_name: '',
  description: '',
  aliases: [],
  favorite: false,
  ignore_auto_tag: false,
  parents: [],
  created_at: T(0),
  updated_at: T(1),
  ...patch,
});

/** A StashClient answering each request from a list, recording the variables it was asked with. */
function scripted(answers: unknown[][], field = 'findTags', list = 'tags') {
  const asked: Array<Record<string, unknown>> = [];
  const client: StashClient = {
    async request<T>(_query: string, variables: Record<string, unknown>): Promise<T> {
      asked.push(variables);
      const rows = answers.shift() ?? [];
      return { [field]: { count: rows.length, [list]: rows } } as T;
    },
  };
  return { client, asked };
}

describe('ids', () => {
  it.each([
    ['12', 12],
    ['0', 0],
    ['9007199254740991', 9007199254740991],
    ['9007199254740992', null],
    ['99999999999999999999', null],
    ['1e9', null],
    [' 7', null],
    ['-3', null],
    ['0x1f', null],
    ['', null],
    [42, null],
    [null, null],
  ])('%j reads as %j', (served, id) => {
    expect(stashIdOf(served)).toBe(id);
  });
});

describe('values the schema accepts but PostgreSQL cannot hold as served', () => {
  it.each([
    ['a NUL in text', { description: 'a\u0000b' }, /^description: contains a NUL character \(U\+0000\) at position 1/],
    ['a NUL in a text[] element', { aliases: ['x', '\u0000'] }, /^aliases\[1\]: contains a NUL character/],
    ['a lone high surrogate', { name: 'x\uD83D' }, /^name: contains a lone surrogate \(U\+D83D\) at position 1/],
    ['a lone low surrogate', { name: '\uDE00x' }, /^name: contains a lone surrogate \(U\+DE00\) at position 0/],
    ['an id beyond 2^53', { id: '9007199254740993' }, /^id: is not a numeric id/],
  ])('%s fails the entity, naming the column', (_label, patch, message) => {
    expect(() => mapForStorage(ENTITY_SPECS.tag, tag('3', patch))).toThrow(EntityMappingError);
    expect(() => mapForStorage(ENTITY_SPECS.tag, tag('3', patch))).toThrow(message);
  });

  it('an int4 overflow fails (the column is integer)', () => {
    expect(() =>
      mapForStorage(ENTITY_SPECS.group, {
        id: '4',
        name: 'g',
        aliases: '',
        duration: 2 ** 31,
        date: null,
        rating100: null,
        studio: null,
        director: '',
        synopsis: '',
        urls: [],
        tags: [],
        containing_groups: [],
        created_at: T(0),
        updated_at: T(1),
      }),
    ).toThrow(/^duration: 2147483648 is not a whole number within -2147483648\.\.2147483647/);
  });

  it('keeps every plane, well-formed pairs and 1 MB text exactly', () => {
    const planes = Array.from({ length: 17 }, (_, plane) => String.fromCodePoint(plane * 0x10000 + 0x41)).join('');
    const big = 'é'.repeat(2 ** 19);
    const entity = mapForStorage(ENTITY_SPECS.tag, tag('3', { name: planes, description: big, aliases: ['😀'] }));
    expect(entity.row).toMatchObject({ name: planes, description: big, aliases: ['😀'] });
  });

  it('logs a failure with a short, storable message and only a real id', () => {
    const batch = mapBatch(ENTITY_SPECS.tag, [
      tag('1'),
      tag('1e9'),
      tag('2', { description: `x\u0000${'y'.repeat(2 ** 20)}` }),
      tag('3', { updated_at: `\u0000${'9'.repeat(5000)}` }),
    ]);
    expect(batch.mapped.map((entity) => entity.id)).toEqual([1]);
    expect(batch.failures.map((failure) => failure.entityId)).toEqual([null, 2, 3]);
    expect(batch.failures[0]?.errorMessage).toBe('id: is not a numeric id (got "1e9") (served id "1e9")');
    for (const failure of batch.failures) {
      expect(failure.errorMessage).not.toContain('\u0000');
      expect(failure.errorMessage?.length).toBeLessThan(300);
    }
  });
});

describe('cursors ignore what is not a real id or time', () => {
  it('an id walk does not jump to a served "1e9"', async () => {
    const { client } = scripted([[{ id: '5' }, { id: '1e9' }, { id: '6' }]], 'findScenes', 'scenes');
    const page = await fetchPage(client, ENTITY_SPECS.scene, { kind: 'id', afterId: 4, since: null }, 3);
    expect(page.next).toMatchObject({ afterId: 6 });
    expect(page.entities).toHaveLength(3);
    expect(page.done).toBe(false);
  });

  it.each([
    ['sorts before every real one', '0000'],
    ['sorts after every real one', 'zzzz'],
    ['is no string', 12345],
  ])('an updated_at walk whose page ends with a stamp that %s moves on to the newest real one', async (_label, bad) => {
    const page1 = [tag('1', { updated_at: T(1) }), tag('2', { updated_at: T(2) }), tag('3', { updated_at: bad })];
    const { client, asked } = scripted([page1, [tag('2', { updated_at: T(2) })]]);
    const page = await fetchPage(client, ENTITY_SPECS.tag, { kind: 'updated_at', after: null, since: null }, 3);
    expect(page.next).toMatchObject({ after: T(2) });
    expect(asked[1]).toMatchObject({ entity_filter: { updated_at: { value: T(2), modifier: 'EQUALS' } } });
    // The malformed row stays on the page (the mapper logs it failed); the boundary row once.
    expect(page.entities.map((row) => (row as { id: string }).id).sort()).toEqual(['1', '2', '3']);
  });

  it('a full page without a single real stamp stops the walk rather than looping', async () => {
    const { client } = scripted([[tag('1', { updated_at: 'x' }), tag('2', { updated_at: 'y' })]]);
    await expect(
      fetchPage(client, ENTITY_SPECS.tag, { kind: 'updated_at', after: T(0), since: null }, 2),
    ).rejects.toThrow(/carries no readable updated_at past 2024-01-01T10:00:00\+10:00/);
  });

  it('an id scan continues after the last real id of a full batch', async () => {
    const { client, asked } = scripted(
      [[{ id: '1' }, { id: '2' }, { id: 'abc' }], [{ id: '3' }]],
      'findScenes',
      'scenes',
    );
    const scan = await scanIds(client, ENTITY_SPECS.scene, { batchSize: 3 });
    expect(scan.ids).toEqual([1, 2, 3]);
    expect(asked[1]).toMatchObject({ entity_filter: { id: { value: 2, modifier: 'GREATER_THAN' } } });
  });
});
