import { z } from '@hono/zod-openapi';

export const ErrorSchema = z
  .object({
    error: z.string().openapi({ example: 'filter.per_page: must be at most 1000' }),
    field: z
      .string()
      .optional()
      .openapi({ description: 'the offending field (dotted path inside body, query or path)' }),
    requestId: z.string().optional(),
  })
  .openapi('Error');

export const ConflictSchema = z
  .object({
    error: z.string(),
    runningRunId: z.string().nullable().openapi({ description: 'sync_runs.id of the run that holds the lock' }),
  })
  .openapi('Conflict');

/** The JSON error answers every route may give besides its own. */
export function errorResponses<const S extends number>(...statuses: S[]) {
  const descriptions: Record<number, string> = {
    400: 'invalid input (names the field)',
    401: 'missing or wrong bearer token (when API_TOKEN is set)',
    403: 'X-Mirror-User names a user who may not do this',
    404: 'not found',
    409: 'conflict',
    503: 'Temporal or PostgreSQL unreachable',
  };
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: descriptions[status] ?? 'error', content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  ) as Record<S, { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }>;
}

/** Stash ids are bigint; the mirror reads them as JS numbers, so they stay below 2^53. */
export const MAX_ID = 999_999_999_999_999;

export const idString = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a whole number id')
  .transform(Number)
  .openapi({ type: 'string', example: '123' });

/** A page number from a query string: digits only (no '1e3', no '+1', no spaces). */
export function queryInt(min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^\d{1,9}$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
    .optional()
    .transform((value) => value ?? fallback)
    .openapi({ type: 'integer', minimum: min, maximum: max, default: fallback });
}
