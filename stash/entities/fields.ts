import { z } from 'zod';
import { parseStashTime } from '../timestamps.js';

/** zod pieces shared by the entity specs: Stash's raw JSON shapes and their validation. */
export const stashId = z
  .string()
  .regex(/^\d+$/, 'is not a numeric id')
  .transform((value) => Number(value));

export const idRef = z.object({ id: stashId }).transform((ref) => ref.id);
export const idRefs = z.array(idRef);
export const optionalIdRef = idRef.nullable().optional();

/** created_at / updated_at: keep Stash's exact string (the cursor) and its instant (for SQL). */
export const stashTime = z.string().refine((value) => parseStashTime(value) !== null, 'is not an RFC 3339 time');

export function instantIso(raw: string): string {
  const parsed = parseStashTime(raw);
  if (!parsed) throw new Error(`not an RFC 3339 time: ${raw}`);
  return new Date(parsed.instant).toISOString();
}

/** Stash dates are free strings; the mirror keeps real calendar dates and fails the entity otherwise. */
export const stashDate = z
  .string()
  .nullable()
  .optional()
  .transform((value, context) => {
    if (value === null || value === undefined || value === '') return null;
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    const date = match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
    if (!match || !date || date.getUTCMonth() !== Number(match[2]) - 1 || date.getUTCDate() !== Number(match[3])) {
      context.addIssue({ code: 'custom', message: `is not a valid date (got "${value}")` });
      return z.NEVER;
    }
    return value;
  });

/**
 * An optional text field. Stash serves every unset text as `""` (never null), so `""` becomes
 * null here: the mirror has one "unset" (NULL) for SQL users, inheritance, criteria and sorting.
 * Required text (names) does not use this.
 */
export const optionalText = z
  .string()
  .nullable()
  .optional()
  .transform((value) => value || null);
export const optionalInt = z
  .number()
  .int()
  .nullable()
  .optional()
  .transform((value) => value ?? null);
export const optionalNumber = z
  .number()
  .nullable()
  .optional()
  .transform((value) => value ?? null);
export const stringList = z
  .array(z.string())
  .nullable()
  .optional()
  .transform((value) => value ?? []);

export const stamps = {
  id: stashId,
  created_at: stashTime,
  updated_at: stashTime,
};

/** The bookkeeping columns of a mapped row. */
export function stampColumns(raw: { created_at: string; updated_at: string }) {
  return {
    stash_created_at: instantIso(raw.created_at),
    stash_updated_at: instantIso(raw.updated_at),
    stash_updated_at_raw: raw.updated_at,
  };
}
