import { readFileSync } from 'node:fs';
import { buildSchema, type GraphQLSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadRealStashSchema } from '../../simulator/real-schema.js';
import { allOperations, versionQuery } from '../../stash/queries.js';

const realSchema = loadRealStashSchema();
const simulatorSchema = buildSchema(readFileSync(new URL('../../simulator/schema.graphql', import.meta.url), 'utf8'));

describe('every operation the mirror sends', () => {
  const operations = allOperations();

  it('covers all seven entity types with page, by-ids, count and id queries, plus the silent-change probes', () => {
    // 7 × 4, gallery members of images and of scenes, and the tag hierarchy.
    expect(operations).toHaveLength(31);
    expect(operations.map((operation) => operation.name)).toEqual(
      expect.arrayContaining(['image gallery members', 'scene gallery members', 'tag hierarchy']),
    );
  });

  // ../shared/stash-schema sits beside the checkout in CI; a checkout without it skips these.
  if (!realSchema) console.warn('NOTICE: ../shared/stash-schema is absent: not validating against the real schema');
  describe.skipIf(!realSchema)('against the real Stash schema (v0.30.1)', () => {
    it.each(operations)('$name validates', ({ query }) => {
      expect(validate(realSchema as GraphQLSchema, parse(query)).map((error) => error.message)).toEqual([]);
    });
  });

  it.each(operations)('$name validates against the simulated Stash', ({ query }) => {
    expect(validate(simulatorSchema, parse(query)).map((error) => error.message)).toEqual([]);
  });

  it('contains no mutation', () => {
    for (const { query } of operations) expect(query.trim().startsWith('query ')).toBe(true);
  });
});

describe('the start-up probe (stash-mirror worker and dev)', () => {
  it('is a query both Stash and the simulated Stash answer', () => {
    const probe = parse(versionQuery());
    if (realSchema) expect(validate(realSchema, probe)).toEqual([]);
    expect(validate(simulatorSchema, probe)).toEqual([]);
    expect(versionQuery().startsWith('query ')).toBe(true);
  });
});
