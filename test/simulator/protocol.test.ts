import { describe, expect, it } from 'vitest';
import { createSimulator } from '../../simulator/index.js';
import { control, gql, NOW } from './helpers.js';

describe('transport and validation', () => {
  const sim = createSimulator({ seed: 1, now: NOW });

  it('answers 422 GRAPHQL_VALIDATION_FAILED for an invalid document', async () => {
    const reply = await gql(sim, '{ findScenes { count nonsense } }');
    expect(reply.status).toBe(422);
    expect(reply.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(reply.body.errors?.[0]?.message).toMatch(/nonsense/);
  });

  it("answers 422 GRAPHQL_PARSE_FAILED for a syntax error (gqlgen's code for parse failures)", async () => {
    const reply = await gql(sim, '{ findScenes { count ');
    expect(reply.status).toBe(422);
    expect(reply.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('answers 422 when variables do not fit their declared types', async () => {
    const reply = await gql(sim, 'query($f: FindFilterType) { findScenes(filter: $f) { count } }', {
      f: { per_page: 'ten' },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('refuses a batched array with 400 and bad JSON with 400', async () => {
    const batch = await sim.fetch(
      new Request('http://sim/graphql', {
        method: 'POST',
        body: JSON.stringify([{ query: '{ version { version } }' }]),
      }),
    );
    expect(batch.status).toBe(400);
    const junk = await sim.fetch(new Request('http://sim/graphql', { method: 'POST', body: '{not json' }));
    expect(junk.status).toBe(400);
  });

  it('has an id criterion only on scenes, images and galleries', async () => {
    for (const [field, arg] of [
      ['findScenes', 'scene_filter'],
      ['findImages', 'image_filter'],
      ['findGalleries', 'gallery_filter'],
    ]) {
      const ok = await gql(sim, `{ ${field}(${arg}: { id: { value: 1, modifier: GREATER_THAN } }) { count } }`);
      expect(ok.status, field).toBe(200);
      expect(ok.body.errors, field).toBeUndefined();
    }
    for (const [field, arg, type] of [
      ['findPerformers', 'performer_filter', 'PerformerFilterType'],
      ['findStudios', 'studio_filter', 'StudioFilterType'],
      ['findTags', 'tag_filter', 'TagFilterType'],
      ['findGroups', 'group_filter', 'GroupFilterType'],
    ]) {
      const inline = await gql(sim, `{ ${field}(${arg}: { id: { value: 1, modifier: GREATER_THAN } }) { count } }`);
      expect(inline.status, field).toBe(422);
      expect(inline.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      const viaVariables = await gql(sim, `query($e: ${type}) { ${field}(${arg}: $e) { count } }`, {
        e: { id: { value: 1, modifier: 'GREATER_THAN' } },
      });
      expect(viaVariables.status, field).toBe(422);
    }
  });

  it('ids returns exactly those entities, in the given order, ignoring filter and paging', async () => {
    const reply = await gql<{ findScenes: { count: number; scenes: { id: string }[] } }>(
      sim,
      '{ findScenes(ids: ["7", "2", "19"], filter: { per_page: 1, page: 5 }, scene_filter: { id: { value: 100, modifier: GREATER_THAN } }) { count scenes { id } } }',
    );
    expect(reply.body.data?.findScenes.scenes.map((s) => s.id)).toEqual(['7', '2', '19']);
    expect(reply.body.data?.findScenes.count).toBe(3);
    expect(sim.stats().byField.findScenes?.byIds).toBeGreaterThan(0);
    const legacy = await gql<{ findPerformers: { performers: { id: string }[] } }>(
      sim,
      '{ findPerformers(performer_ids: [3, 1]) { performers { id } } }',
    );
    expect(legacy.body.data?.findPerformers.performers.map((p) => p.id)).toEqual(['3', '1']);
  });

  it('fails the whole field when any id does not exist', async () => {
    const reply = await gql(sim, '{ findScenes(ids: ["1", "424242", "2"]) { count scenes { id } } }');
    expect(reply.status).toBe(200);
    expect(reply.body.data).toBeNull();
    expect(reply.body.errors?.[0]?.message).toBe('scene with id 424242 not found');
    const tags = await gql(sim, '{ findTags(ids: ["999"]) { tags { id } } }');
    expect(tags.body.errors?.[0]?.message).toBe('tag with id 999 not found');
  });

  it('single-entity finders answer null for a missing id', async () => {
    const reply = await gql<{ findScene: unknown; findTag: { id: string } }>(
      sim,
      '{ findScene(id: "999") { id } findTag(id: "1") { id } }',
    );
    expect(reply.body.data?.findScene).toBeNull();
    expect(reply.body.data?.findTag.id).toBe('1');
  });

  it("reports Stash's version and health", async () => {
    const reply = await gql<{ version: { version: string } }>(sim, '{ version { version hash build_time } }');
    expect(reply.body.data?.version.version).toBe('v0.30.1');
    expect((await sim.fetch(new Request('http://sim/healthz'))).status).toBe(200);
  });
});

describe('API key', () => {
  const sim = createSimulator({ now: NOW, apiKey: 's3cret' });
  const query = '{ findTags(filter: { per_page: 1 }) { count } }';

  it('answers 401 without the key or with a wrong one', async () => {
    const missing = await sim.fetch(
      new Request('http://sim/graphql', { method: 'POST', body: JSON.stringify({ query }) }),
    );
    expect(missing.status).toBe(401);
    const wrong = await sim.fetch(
      new Request('http://sim/graphql', {
        method: 'POST',
        headers: { ApiKey: 'nope' },
        body: JSON.stringify({ query }),
      }),
    );
    expect(wrong.status).toBe(401);
  });

  it('accepts the ApiKey header and the apikey query parameter', async () => {
    const header = await gql(sim, query, {}, { headers: { ApiKey: 's3cret' } });
    expect(header.status).toBe(200);
    expect(header.body.data).toEqual({ findTags: { count: 20 } });
    const param = await gql(sim, query, {}, { url: 'http://sim/graphql?apikey=s3cret' });
    expect(param.status).toBe(200);
  });

  it('leaves the control route open (it is a test facility, not Stash)', async () => {
    expect((await control(sim, { action: 'now' })).status).toBe(200);
  });
});
