import { z } from '@hono/zod-openapi';
import { MAX_ID } from './common.js';

/**
 * Stash's criterion inputs (MultiCriterionInput, HierarchicalMultiCriterionInput,
 * IntCriterionInput, DateCriterionInput, TimestampCriterionInput). Values are checked here to the
 * ranges the columns hold, so nothing out of range ever reaches PostgreSQL.
 */
export const MULTI_MODIFIERS = ['INCLUDES', 'INCLUDES_ALL', 'EXCLUDES', 'IS_NULL', 'NOT_NULL'] as const;
export const VALUE_MODIFIERS = [
  'EQUALS',
  'NOT_EQUALS',
  'GREATER_THAN',
  'LESS_THAN',
  'BETWEEN',
  'NOT_BETWEEN',
  'IS_NULL',
  'NOT_NULL',
] as const;
export type ValueModifier = (typeof VALUE_MODIFIERS)[number];

/** Stash ids are strings in GraphQL (ID); numbers are accepted too. */
export const idValue = z
  .union([
    z.string().regex(/^\d{1,15}$/, 'must be an id such as "42"'),
    z.number().int('must be a whole number').min(0).max(MAX_ID),
  ])
  .transform(Number)
  .openapi({ type: 'string', example: '42' });

const ids = z.array(idValue).max(1000, 'at most 1000 ids');

export const multiCriterion = z
  .strictObject({ value: ids.nullish(), modifier: z.enum(MULTI_MODIFIERS), excludes: ids.nullish() })
  .openapi('MultiCriterionInput');

export const hierarchicalCriterion = z
  .strictObject({
    value: ids.nullish(),
    modifier: z.enum(MULTI_MODIFIERS),
    excludes: ids.nullish(),
    depth: z
      .number()
      .int('must be a whole number')
      .min(-1, 'must be -1 (all levels) or more')
      .max(1000, 'must be at most 1000')
      .nullish()
      .openapi({ description: 'levels of descendants to include; -1 = all; 0/null = none' }),
  })
  .openapi('HierarchicalMultiCriterionInput');

function needsValues(
  criterion: { modifier: ValueModifier; value?: unknown; value2?: unknown },
  check: z.RefinementCtx,
): void {
  if (criterion.modifier === 'IS_NULL' || criterion.modifier === 'NOT_NULL') return;
  if (criterion.value == null) check.addIssue({ code: 'custom', path: ['value'], message: 'is required' });
  const range = criterion.modifier === 'BETWEEN' || criterion.modifier === 'NOT_BETWEEN';
  if (range && criterion.value2 == null) {
    check.addIssue({ code: 'custom', path: ['value2'], message: `is required with ${criterion.modifier}` });
  }
}

const int32 = z
  .number()
  .int('must be a whole number')
  .min(-2_147_483_648, 'is out of range')
  .max(2_147_483_647, 'is out of range');

export const intCriterion = z
  .strictObject({ value: int32.nullish(), value2: int32.nullish(), modifier: z.enum(VALUE_MODIFIERS) })
  .superRefine(needsValues)
  .openapi('IntCriterionInput');

/** Milliseconds of a UTC instant; unlike Date.UTC, years 0–99 are not taken for 1900–1999. */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millis = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime();
}

/** A calendar date PostgreSQL accepts (year 1–9999, a real day of a real month). */
function isCalendarDate(year: number, month: number, day: number): boolean {
  const date = new Date(utc(year, month, day));
  return year >= 1 && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const dateValue = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((text) => {
    const [year, month, day] = text.split('-').map(Number) as [number, number, number];
    return isCalendarDate(year, month, day);
  }, 'is not a calendar date');

export const dateCriterion = z
  .strictObject({ value: dateValue.nullish(), value2: dateValue.nullish(), modifier: z.enum(VALUE_MODIFIERS) })
  .superRefine(needsValues)
  .openapi('DateCriterionInput');

/** A timestamp as the span it names: `2025-01-31` is that whole day, `2025-01-31 18:00` that minute. */
export interface TimeSpan {
  from: Date;
  to: Date;
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** Parses Stash-style timestamps; without an offset the time is UTC. Null when it is not a real instant. */
export function parseTimeSpan(text: string): TimeSpan | null {
  const match = TIMESTAMP.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const [year, month, day] = [Number(y), Number(mo), Number(d)];
  if (!isCalendarDate(year, month, day)) return null;
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (zone && zone !== 'Z') {
    const digits = zone.replace(':', '');
    const sign = digits.startsWith('-') ? -1 : 1;
    const hours = Number(digits.slice(1, 3));
    const minutes = Number(digits.slice(3, 5));
    if (hours > 23 || minutes > 59) return null;
    offsetMinutes = sign * (hours * 60 + minutes);
  }
  const millis = fraction ? Number(fraction.padEnd(3, '0').slice(0, 3)) : 0;
  const start = utc(year, month, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  const unit = h === undefined ? 86_400_000 : s === undefined ? 60_000 : fraction === undefined ? 1000 : 1;
  // Kept within years 1–9999: PostgreSQL does not read the years 0 and 10000 that an offset or
  // the end of the span could reach ("0000-12-31", "+010000-01-01").
  const clamp = (ms: number) => new Date(Math.min(Math.max(ms, EARLIEST), LATEST));
  return { from: clamp(start), to: clamp(start + unit) };
}

const EARLIEST = utc(1, 1, 1);
const LATEST = utc(9999, 12, 31, 23, 59, 59, 999);

const timestampValue = z
  .string()
  .max(40, 'must be a timestamp such as 2025-01-31T18:00:00Z')
  .transform((text, check) => {
    const span = parseTimeSpan(text);
    if (span) return span;
    check.addIssue({ code: 'custom', message: 'must be a timestamp such as 2025-01-31T18:00:00Z or 2025-01-31' });
    return z.NEVER;
  })
  .openapi({ type: 'string', example: '2025-01-31T18:00:00Z' });

export const timestampCriterion = z
  .strictObject({
    value: timestampValue.nullish(),
    value2: timestampValue.nullish(),
    modifier: z.enum(VALUE_MODIFIERS),
  })
  .superRefine(needsValues)
  .openapi('TimestampCriterionInput');

export type MultiCriterion = z.output<typeof hierarchicalCriterion>;
export type IntCriterion = z.output<typeof intCriterion>;
export type DateCriterion = z.output<typeof dateCriterion>;
export type TimestampCriterion = z.output<typeof timestampCriterion>;
