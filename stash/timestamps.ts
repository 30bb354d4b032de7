/**
 * Stash prints and stores timestamps as RFC 3339 strings in its server's local offset and compares
 * filter values with them LEXICALLY (stash-notes.md). These pure helpers keep every value we send
 * in Stash's own format and offset, so a lexical comparison means what we intend.
 */
const STASH_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/;

/** A string that compares lexically above every timestamp Stash can print: an open upper bound. */
export const LEXICAL_MAX_TIMESTAMP = '9999-12-31T23:59:59+14:00';

export interface StashTime {
  /** Milliseconds since the epoch. */
  instant: number;
  /** The offset the string was written in, minutes east of UTC. */
  offsetMinutes: number;
}

export function parseStashTime(raw: string): StashTime | null {
  const match = STASH_TIME.exec(raw);
  if (!match) return null;
  const [, y, mo, d, h, mi, s, zone, sign, oh, om] = match;
  const offsetMinutes = zone === 'Z' ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const localAsUtc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(localAsUtc)) return null;
  const check = new Date(localAsUtc);
  // Date.UTC rolls 2023-02-30 over to March: such a string is not a real time.
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1) return null;
  return { instant: localAsUtc - offsetMinutes * 60_000, offsetMinutes };
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** Formats like Stash (Go's RFC 3339): whole seconds, `Z` for UTC, else ±hh:mm. */
export function formatStashTime(instant: number, offsetMinutes: number): string {
  const local = new Date(Math.floor(instant / 1000) * 1000 + offsetMinutes * 60_000);
  const date = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const time = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  if (offsetMinutes === 0) return `${date}T${time}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${date}T${time}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * A lexical lower bound that every timestamp Stash writes at or after `raw`'s instant minus
 * `marginSeconds` compares above, even if the server's offset moved by up to the margin since
 * (daylight saving): the bound is written in `raw`'s own offset, `marginSeconds` earlier.
 */
export function lexicalLowerBound(raw: string, marginSeconds: number): string | null {
  const parsed = parseStashTime(raw);
  if (!parsed) return null;
  return formatStashTime(parsed.instant - marginSeconds * 1000, parsed.offsetMinutes);
}

/** The westernmost UTC offset in use anywhere (minutes): every local time is at most this far behind UTC. */
export const WESTERNMOST_OFFSET_MINUTES = -12 * 60;

/**
 * A lexical lower bound for every string a server writes at or after `raw`'s instant, in ANY
 * offset it may have moved to since (a restart under another time zone): that instant written
 * in the westernmost offset. Rows written before the instant in eastern offsets also sort above
 * it, so a range from here is compared by count or by stamps, never trusted as "newer".
 */
export function anyOffsetLowerBound(raw: string): string | null {
  const parsed = parseStashTime(raw);
  if (!parsed) return null;
  return formatStashTime(parsed.instant, WESTERNMOST_OFFSET_MINUTES);
}

/** Converts any RFC 3339 instant to Stash's format in a given offset (e.g. a user's --since). */
export function toStashOffset(rfc3339: string, offsetMinutes: number): string | null {
  const parsed = parseStashTime(rfc3339);
  if (!parsed) return null;
  return formatStashTime(parsed.instant, offsetMinutes);
}

/** Lexical max, as Stash orders its strings (plain code-unit comparison). */
export function lexicalMax(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

/** Lexical min, as Stash orders its strings. */
export function lexicalMin(a: string, b: string): string {
  return b < a ? b : a;
}
