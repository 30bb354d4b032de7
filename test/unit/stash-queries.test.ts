import { readFileSync } from 'node:fs';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadRealStashSchema } from '../../simulator/real-schema.js';
import { allOperations } from '../../stash/queries.js';

const realSchema = loadRealStashSchema();
const simulatorSchema = buildSchema(readFileSync(new URL('../../simulator/schema.graphql', import.meta.url), 'utf8'));

describe('every operation the mirror sends', () => {
  const operations = allOperations();

  it('covers all seven entity types with page, by-ids, count and id queries', () => {
    expect(operations).toHaveLength(28);
  });

  if (!realSchema) {
    console.warn('NOTICE: ../shared/stash-schema is absent: skipping validation against the real Stash schema');
    it.skip('validates against the real Stash schema (v0.30.1)', () => {});
  } else {
    it.each(operations)('$name validates against the real Stash schema (v0.30.1)', ({ query }) => {
      expect(validate(realSchema, parse(query)).map((error) => error.message)).toEqual([]);
    });
  }

  it.each(operations)('$name validates against the simulated Stash', ({ query }) => {
    expect(validate(simulatorSchema, parse(query)).map((error) => error.message)).toEqual([]);
  });

  it('contains no mutation', () => {
    for (const { query } of operations) expect(query.trim().startsWith('query ')).toBe(true);
  });
});
