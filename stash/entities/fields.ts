import { z } from 'zod';
import { parseStashTime } from '../timestamps.js';

/** zod pieces shared by the entity specs: Stash's raw JSON shapes and their validation. */

/**
 * Stash's ids are decimal strings of its integer keys. Anything else (`"abc"`, `"1e9"`, `" 7"`,
 * `"0x1f"`, digits beyond 2^53 that a JS number cannot hold exactly) is no id: null. The one
 * reading used everywhere (mapping, failure rows, keyset cursors, id scans), so a value that
 * Number() would happily turn into 1000000000 can never move a cursor or name the wrong entity.
 */
export function stashIdOf(value: unknown): number | null {
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return null;
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : null;
}

/**
 * A served value as a failure message shows it: JSON (so a NUL or a lone surrogate is spelled
 * out, never embedded), cut to a few dozen characters (a 1 MB value must not become a 1 MB
 * sync_log row).
 */
export function shown(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 60 ? `${json.slice(0, 57)}…` : json;
}

export const stashId = z.string().transform((value, context) => {
  const id = stashIdOf(value);
  if (id === null) {
    context.addIssue({ code: 'custom', message: `is not a numeric id (got ${shown(value)})` });
    return z.NEVER;
  }
  return id;
});

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
      context.addIssue({ code: 'custom', message: `is not a valid date (got ${shown(value)})` });
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
