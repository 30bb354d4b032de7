import { z } from '@hono/zod-openapi';
import type { CriterionDef, LibraryEntity } from '../library/definition.js';
import { dateCriterion, hierarchicalCriterion, intCriterion, multiCriterion, timestampCriterion } from './criteria.js';

export const MAX_PER_PAGE = 1000;
export const MAX_PAGE = 100_000;
/** What per_page means, as Stash has it: said in the validation messages and the OpenAPI description. */
export const PER_PAGE_RULE = `1–${MAX_PER_PAGE} rows per page, 0 for the count only, -1 (any negative) for every match`;

function criterionSchema(def: CriterionDef) {
  switch (def.kind) {
    case 'multi':
      // depth only where there is a hierarchy to follow; elsewhere it is an unknown field.
      return def.hierarchy ? hierarchicalCriterion : multiCriterion;
    case 'int':
      return intCriterion;
    case 'date':
      return dateCriterion;
    case 'timestamp':
      return timestampCriterion;
    case 'boolean':
      return z.boolean();
  }
}

/** Stash's FindFilterType, with this type's sort allow-list. */
export function findFilterSchema(entity: LibraryEntity) {
  const sorts = Object.keys(entity.sorts) as [string, ...string[]];
  return z
    .strictObject({
      q: z
        .string()
        .max(500, 'must be at most 500 characters')
        // PostgreSQL text cannot hold NUL: refused here rather than failing in SQL.
        .refine((text) => !text.includes('\u0000'), 'must not contain NUL characters')
        .nullish(),
      page: z.number().int('must be a whole number').min(1, 'must be at least 1').max(MAX_PAGE).nullish(),
      per_page: z
        .number()
        .int(`must be a whole number: ${PER_PAGE_RULE}`)
        .max(MAX_PER_PAGE, `must be at most ${MAX_PER_PAGE}: ${PER_PAGE_RULE}`)
        .nullish()
        .openapi({
          description:
            `${PER_PAGE_RULE}; default 25. 0 answers \`count\` and an empty list (no rows are read). ` +
            'A negative value answers every match, unpaged and streamed in batches as they are read; `count` ' +
            'always equals the number of rows sent. `page` is ignored with 0 and negatives, as in Stash.',
        }),
      sort: z.enum(sorts).nullish(),
      direction: z.enum(['ASC', 'DESC', 'asc', 'desc']).nullish(),
    })
    .openapi(`${entity.queryField}Filter`);
}

/** `{ filter, <type>_filter }` exactly as a Stash client sends it to find<Types>. */
export function findBodySchema(entity: LibraryEntity) {
  const criteria = Object.fromEntries(
    Object.entries(entity.criteria).map(([name, def]) => [name, criterionSchema(def).nullish()]),
  );
  return z
    .strictObject({
      filter: findFilterSchema(entity).nullish(),
      [entity.filterKey]: z.strictObject(criteria).nullish(),
    })
    .openapi(`${entity.queryField}Body`);
}

export interface FindFilter {
  q?: string | null | undefined;
  page?: number | null | undefined;
  per_page?: number | null | undefined;
  sort?: string | null | undefined;
  direction?: string | null | undefined;
}

/** The parsed body: criteria are keyed by name and checked against the entity's definitions. */
export interface FindBody {
  filter?: FindFilter | null | undefined;
  [filterKey: string]: unknown;
}

export function findResultSchema(entity: LibraryEntity) {
  return z
    .object({
      [entity.queryField]: z.object({
        count: z.number().int(),
        [entity.listField]: z.array(z.record(z.string(), z.unknown())),
      }),
    })
    .openapi(`${entity.queryField}Result`);
}

export function findOneResultSchema(entity: LibraryEntity) {
  return z.object({ [entity.singleField]: z.record(z.string(), z.unknown()) }).openapi(`${entity.singleField}Result`);
}
