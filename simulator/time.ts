/**
 * Stash prints and stores timestamps as Go's time.RFC3339 in the server's local zone, whole seconds.
 * Go writes a zero offset as "Z" (the Z07:00 layout), so a UTC server stores "...T10:00:00Z", and
 * every other offset as "+HH:MM".
 */
export function formatStashTime(date: Date | number, offsetMinutes: number): string {
  const ms = typeof date === 'number' ? date : date.getTime();
  const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMinutes * 60_000);
  const body =
    `${pad4(local.getUTCFullYear())}-${pad2(local.getUTCMonth() + 1)}-${pad2(local.getUTCDate())}` +
    `T${pad2(local.getUTCHours())}:${pad2(local.getUTCMinutes())}:${pad2(local.getUTCSeconds())}`;
  return body + formatOffset(offsetMinutes);
}

export function formatOffset(offsetMinutes: number): string {
  if (offsetMinutes === 0) return 'Z';
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Date-only string (YYYY-MM-DD) of an instant in UTC. */
export function formatDate(ms: number): string {
  const d = new Date(ms);
  return `${pad4(d.getUTCFullYear())}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function zoneFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    // Throws RangeError for an unknown zone, which is what callers want to surface.
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

export function assertTimeZone(timeZone: string): void {
  zoneFormatter(timeZone);
}

/** Offset in minutes east of UTC that the zone observes at the given instant (follows DST). */
export function zoneOffsetMinutes(timeZone: string, ms: number): number {
  const part = zoneFormatter(timeZone)
    .formatToParts(ms)
    .find((p) => p.type === 'timeZoneName')?.value;
  const match = part ? /GMT([+-])(\d{1,2})(?::?(\d{2}))?/.exec(part) : null;
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  return match[1] === '-' ? -minutes : minutes;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad4(n: number): string {
  return String(n).padStart(4, '0');
}
