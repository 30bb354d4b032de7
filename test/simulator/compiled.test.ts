import {
  type GraphQLNamedType,
  getNamedType,
  getOperationAST,
  isLeafType,
  isNonNullType,
  isObjectType,
  isUnionType,
  parse,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { compiledOperation } from '../../simulator/compiled.js';
import { createSimulator, type Simulator, simulatorSchema } from '../../simulator/index.js';
import type { StashClient } from '../../stash/client.js';
import { initialCursor, type PageCursor } from '../../stash/cursor.js';
import { ENTITY_SPECS } from '../../stash/entities/index.js';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { fetchPage } from '../../stash/paging.js';
import {
  allOperations,
  byIdsQuery,
  countQuery,
  idsQuery,
  membersQuery,
  pageQuery,
  tagHierarchyQuery,
  versionQuery,
} from '../../stash/queries.js';
import { NOW } from './helpers.js';

/**
 * The compiled executor (graphql-jit) must answer exactly as graphql-js does: the same status and
 * the same bytes, the same tie order, the same errors, the same request stats. Two simulators
 * with the same seed get the same requests in the same order; graphql-js is the oracle.
 */
interface Pair {
  oracle: Simulator;
  fast: Simulator;
}

function pair(): Pair {
  const options = { scale: 'small', seed: 11, now: NOW } as const;
  return {
    oracle: createSimulator({ ...options, executor: 'graphql-js' }),
    fast: createSimulator({ ...options, executor: 'compiled' }),
  };
}

async function send(sim: Simulator, body: string): Promise<{ status: number; text: string }> {
  const response = await sim.fetch(
    new Request('http://sim/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
  );
  return { status: response.status, text: await response.text() };
}

/**
 * Sends one request twice to both simulators (a document is compiled on its second request),
 * expects identical answers each time, returns the parsed second body.
 */
async function same(
  sims: Pair,
  query: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
): Promise<{ data?: Record<string, unknown> | null; errors?: { message: string }[] }> {
  const body = JSON.stringify({ query, variables, ...(operationName ? { operationName } : {}) });
  let text = '';
  for (let i = 0; i < 2; i++) {
    const expected = await send(sims.oracle, body);
    const actual = await send(sims.fast, body);
    expect(actual.status, query).toBe(expected.status);
    expect(actual.text, query).toBe(expected.text);
    text = expected.text;
  }
  return JSON.parse(text);
}

/** Whether the compiled path takes this document (asked twice: compiled on its second request). */
function compiles(query: string): boolean {
  const document = parse(query);
  const operation = getOperationAST(document, null);
  if (!operation) throw new Error(`no operation in ${query}`);
  compiledOperation(simulatorSchema(), document, operation);
  return compiledOperation(simulatorSchema(), document, operation) !== null;
}

/** A client for stash/paging.ts that asks both simulators and compares every answer. */
function comparingClient(sims: Pair): StashClient {
  return {
    async request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
      const body = await same(sims, query, variables);
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data as T;
    },
  };
}

/** Every field of a type (leaves, fingerprints, nested objects by id, unions by member). */
function everything(type: GraphQLNamedType, depth: number): string {
  if (isUnionType(type))
    return `__typename ${type
      .getTypes()
      .map((member) => `... on ${member.name} { ${everything(member, depth)} }`)
      .join(' ')}`;
  if (!isObjectType(type)) return '';
  const parts: string[] = [];
  for (const field of Object.values(type.getFields())) {
    const named = getNamedType(field.type);
    if (field.args.some((arg) => isNonNullType(arg.type))) {
      parts.push(`${field.name}(type: "phash") md5: ${field.name}(type: "md5") oshash: ${field.name}(type: "oshash")`);
    } else if (isLeafType(named)) parts.push(field.name);
    else if (depth > 0) parts.push(`${field.name} { ${everything(named, depth - 1)} }`);
    else if (isObjectType(named) && named.getFields().id) parts.push(`${field.name} { id }`);
  }
  return parts.join(' ');
}

describe('compiled queries answer exactly as graphql-js', () => {
  it('compiles every query the mirror sends (none falls back to graphql-js)', () => {
    // allOperations has the page, by-ids, count, ids, gallery-members and tag-hierarchy queries.
    const operations = [...allOperations().map((o) => o.query), versionQuery()];
    for (const query of operations) expect(compiles(query), query).toBe(true);
  });

  it('leaves to graphql-js what graphql-jit does not answer identically', () => {
    for (const query of [
      'mutation { addGalleryImages(input: { gallery_id: "1", image_ids: ["2"] }) }',
      'query($n: Int) { findScenes(filter: { per_page: $n }) { count } }',
      'query($all: Boolean!) { findScenes { count scenes @include(if: $all) { id } } }',
      '{ __schema { queryType { name } } }',
    ])
      expect(compiles(query), query).toBe(false);
  });

  it("the mirror's full walk of every type, with and without a since bound", async () => {
    const sims = pair();
    const client = comparingClient(sims);
    for (const since of [null, '2024-06-01T00:00:00+10:00']) {
      for (const type of ENTITY_TYPES) {
        const spec = ENTITY_SPECS[type];
        let cursor: PageCursor = initialCursor(spec.paging, since);
        for (let pages = 0; pages < 500; pages++) {
          const page = await fetchPage(client, spec, cursor, 97);
          cursor = page.next;
          if (page.done) break;
        }
      }
    }
    expect(sims.fast.stats()).toEqual(sims.oracle.stats());
  });

  it("the mirror's queries for every type: filters, sorts, per_page 0 and -1, pages, ids", async () => {
    const sims = pair();
    for (const type of ENTITY_TYPES) {
      const spec = ENTITY_SPECS[type];
      const filters: Record<string, unknown>[] = [
        {},
        { updated_at: { value: '2024-01-01T00:00:00+10:00', modifier: 'GREATER_THAN' } },
        { updated_at: { value: '2023-01-01', value2: '2024-06-01', modifier: 'BETWEEN' } },
        {
          created_at: { value: '2024-01-01', modifier: 'LESS_THAN' },
          NOT: { updated_at: { value: '2023-06-01', modifier: 'LESS_THAN' } },
        },
        {
          OR: { updated_at: { value: '2022', modifier: 'LESS_THAN' } },
          updated_at: { value: '2025', modifier: 'GREATER_THAN' },
        },
        ...(spec.paging === 'id'
          ? [
              { id: { value: 10, modifier: 'GREATER_THAN' } },
              {
                id: { value: 5, value2: 40, modifier: 'BETWEEN' },
                AND: { updated_at: { value: '2023', modifier: 'GREATER_THAN' } },
              },
            ]
          : []),
      ];
      const findFilters: Record<string, unknown>[] = [
        { page: 1, per_page: 40, sort: 'id', direction: 'ASC' },
        { page: 3, per_page: 25, sort: 'updated_at', direction: 'DESC' },
        { per_page: 0 },
        { per_page: -1, sort: 'updated_at' },
        { per_page: 30, sort: 'random' },
        { per_page: 30, sort: 'random_12345' },
        { per_page: 20, sort: 'created_at', q: 'a' },
        {},
      ];
      for (const entity_filter of filters) {
        for (const filter of findFilters) {
          await same(sims, pageQuery(spec), { filter, entity_filter });
          await same(sims, idsQuery(spec), { filter, entity_filter });
        }
        await same(sims, countQuery(spec), { entity_filter });
      }
      await same(sims, pageQuery(spec), {});
      await same(sims, pageQuery(spec), { filter: null, entity_filter: null });
      await same(sims, byIdsQuery(spec), { ids: ['3', '1', '2', '1'] });
      await same(sims, byIdsQuery(spec), { ids: [] });
      const missing = await same(sims, byIdsQuery(spec), { ids: ['1', '987654', '2'] });
      expect(missing.data).toBeNull();
      expect(missing.errors?.[0]?.message).toBe(`${type} with id 987654 not found`);
      if (spec.links.some((link) => link.name === 'galleries')) {
        await same(sims, membersQuery(spec, 'galleries'), {
          filter: { per_page: -1 },
          entity_filter: { galleries: { value: ['1', '2', '3'], modifier: 'INCLUDES' } },
        });
      }
    }
    await same(sims, tagHierarchyQuery(), { filter: { per_page: -1 } });
    await same(sims, versionQuery(), {});
    expect(sims.fast.stats()).toEqual(sims.oracle.stats());
  });

  it('every field of every entity, files, fingerprints, unions and aggregates', async () => {
    const sims = pair();
    const schema = simulatorSchema();
    for (const type of ENTITY_TYPES) {
      const spec = ENTITY_SPECS[type];
      const entity = everything(schema.getType(capital(type)) as GraphQLNamedType, 1);
      const aggregates = type === 'scene' ? 'duration filesize' : type === 'image' ? 'megapixels filesize' : '';
      await same(
        sims,
        `query($f: FindFilterType) { ${spec.queryField}(filter: $f) { count ${aggregates} ${spec.listField} { ${entity} } } }`,
        { f: { per_page: -1, sort: 'updated_at' } },
      );
      await same(
        sims,
        `{ one: find${capital(type)}(id: "2") { ${entity} } none: find${capital(type)}(id: "99999") { id } }`,
      );
    }
  });

  it('a sample of the queries the simulator tests send', async () => {
    const sims = pair();
    const queries: [string, Record<string, unknown>?, string?][] = [
      [
        '{ findScenes(ids: ["7", "2", "19"], filter: { per_page: 1, page: 5 }, scene_filter: { id: { value: 100, modifier: GREATER_THAN } }) { count scenes { id } } }',
      ],
      ['{ findPerformers(performer_ids: [3, 1]) { performers { id } } }'],
      ['{ findScenes(scene_ids: [4, 5]) { scenes { id title } } findImages(image_ids: [1]) { images { id } } }'],
      ['{ findScenes(filter: { per_page: 1 }) { count duration filesize } }'],
      ['{ findScenes(filter: { sort: "bogus" }) { count } }'],
      ['{ findScenes(filter: { sort: "random_x" }) { count } }'],
      ['{ a: findScenes(ids: ["999999"]) { count } b: version { version hash build_time } }'],
      ['{ findScene(id: "99999") { id } version { version } }'],
      ['{ findScene { id } findImage(checksum: "x") { id } }'],
      ['{ findImages(image_filter: { id: { value: 1, modifier: MATCHES_REGEX } }) { count } }'],
      ['{ findImages(image_filter: { galleries: { value: ["1"], modifier: MATCHES_REGEX } }) { count } }'],
      [
        '{ findScenes(scene_filter: { galleries: { modifier: NOT_NULL, excludes: ["1"] } }) { count scenes { id galleries { id } } } }',
      ],
      ['{ findTags(filter: { per_page: 5, sort: "name" }) { tags { id name sort_name parent_count child_count } } }'],
      [
        '{ findStudios(filter: { per_page: -1, sort: "name", direction: DESC }) { studios { id name parent_studio { id } child_studios { id } } } }',
      ],
      [
        '{ findGroups(filter: { per_page: -1 }) { groups { id containing_groups { group { id } description } sub_groups { group { id } description } } } }',
      ],
      [
        '{ findImages(filter: { per_page: 3 }) { images { visual_files { __typename ... on ImageFile { id width } ... on VideoFile { id duration } } files { id basename fingerprints { type value } } } } }',
      ],
      [
        '{ s: findScenes(filter: { per_page: 2 }) { scenes { id } } s2: findScenes(filter: { per_page: 2 }) { scenes { title } } }',
      ],
      [
        'fragment F on Scene { id title } query { findScenes(filter: { per_page: 3 }) { scenes { ...F studio { id } ... on Scene { code } } } }',
      ],
      ['query A { version { version } } query B { findTags(filter: { per_page: 2 }) { count } }', {}, 'B'],
      ['query($ids: [ID!]) { findTags(ids: $ids) { tags { id } } }', { ids: ['1', 'x'] }],
      [
        'query($f: FindFilterType, $e: SceneFilterType) { findScenes(filter: $f, scene_filter: $e) { count scenes { id } } }',
        { f: { per_page: 2, page: -3 }, e: { id: { value: 3, modifier: 'EQUALS' } } },
      ],
      ['query($f: FindFilterType = { per_page: 4 }) { findScenes(filter: $f) { count scenes { id } } }', {}],
      ['query($f: FindFilterType = { per_page: 4 }) { findScenes(filter: $f) { count scenes { id } } }', { f: null }],
      [
        'query($all: Boolean!) { findScenes(filter: { per_page: 3 }) { count scenes @include(if: $all) { id } } }',
        { all: false },
      ],
      ['query($n: Int) { findScenes(filter: { per_page: $n }) { count } }', {}],
      [
        '{ __typename version { __typename } findScenes(filter: { per_page: 1 }) { __typename scenes { __typename id } } }',
      ],
      ['{ __schema { queryType { name } } __type(name: "Scene") { name } }'],
      [
        'query($f: FindFilterType, $e: ImageFilterType) { findImages(filter: $f, image_filter: $e) { count } }',
        { e: { updated_at: { value: 'x', modifier: 'INCLUDES' } } },
      ],
      ['{ findImages(filter: { per_page: 0 }) { count megapixels filesize images { id } } }'],
    ];
    for (const [query, variables, operationName] of queries) await same(sims, query, variables ?? {}, operationName);
    expect(sims.fast.stats()).toEqual(sims.oracle.stats());
  });

  it('mutations, corruptions and faults behave the same on both', async () => {
    const sims = pair();
    const page = pageQuery(ENTITY_SPECS.tag);
    const vars = { filter: { per_page: -1, sort: 'updated_at' }, entity_filter: {} };
    await same(
      sims,
      'mutation { tagsMerge(input: { source: ["3", "4"], destination: "5" }) { id aliases parents { id } } }',
    );
    await same(sims, page, vars);
    await same(sims, 'mutation { tagsMerge(input: { source: ["3"], destination: "5" }) { id } }');
    for (const sim of [sims.oracle, sims.fast]) {
      sim.control.corrupt('tag', 6, { name: null, updated_at: 'garbage' });
      sim.control.corrupt('scene', 2, { title: 7 });
    }
    await same(sims, page, vars);
    await same(sims, pageQuery(ENTITY_SPECS.scene), { filter: { per_page: 5 } });
    for (const sim of [sims.oracle, sims.fast]) sim.control.clearCorruptions();
    await same(sims, page, vars);
    expect(sims.fast.stats()).toEqual(sims.oracle.stats());
  });
});

function capital(type: string): string {
  return type[0]?.toUpperCase() + type.slice(1);
}
