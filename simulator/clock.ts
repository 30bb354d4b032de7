import { assertTimeZone, formatStashTime, zoneOffsetMinutes } from './time.js';

export interface ClockOptions {
  now?: Date;
  utcOffsetMinutes?: number;
  timeZone?: string | null;
}

/**
 * The simulated server's clock and local zone. It runs in real time from its start point unless
 * frozen, so tests can pin "now" and step it deliberately.
 */
export class SimClock {
  private baseSim: number;
  private baseReal: number;
  private frozen = false;
  private fixedOffset: number;
  private zone: string | null;
  // DST changes happen on quarter-hour boundaries, so caching per quarter hour keeps bulk
  // generation from calling Intl hundreds of thousands of times.
  private readonly zoneCache = new Map<number, number>();

  constructor(options: ClockOptions = {}) {
    this.baseSim = (options.now ?? new Date()).getTime();
    this.baseReal = Date.now();
    this.fixedOffset = checkOffset(options.utcOffsetMinutes ?? 600);
    this.zone = null;
    if (options.timeZone) this.setTimeZone(options.timeZone);
  }

  nowMs(): number {
    return this.frozen ? this.baseSim : this.baseSim + (Date.now() - this.baseReal);
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  set(date: Date | string | number): void {
    const ms = new Date(date).getTime();
    if (Number.isNaN(ms)) throw new RangeError(`invalid clock value: ${String(date)}`);
    this.baseSim = ms;
    this.baseReal = Date.now();
  }

  advance(seconds: number): void {
    if (!Number.isFinite(seconds)) throw new RangeError('advanceClock needs a finite number of seconds');
    this.set(this.nowMs() + seconds * 1000);
  }

  freeze(frozen = true): void {
    if (frozen === this.frozen) return;
    this.baseSim = this.nowMs();
    this.baseReal = Date.now();
    this.frozen = frozen;
  }

  isFrozen(): boolean {
    return this.frozen;
  }

  setUtcOffset(minutes: number): void {
    this.fixedOffset = checkOffset(minutes);
    this.zone = null;
    this.zoneCache.clear();
  }

  setTimeZone(zone: string | null): void {
    if (zone) assertTimeZone(zone);
    this.zone = zone || null;
    this.zoneCache.clear();
  }

  timeZone(): string | null {
    return this.zone;
  }

  offsetAt(ms: number): number {
    if (!this.zone) return this.fixedOffset;
    const bucket = Math.floor(ms / 900_000);
    let offset = this.zoneCache.get(bucket);
    if (offset === undefined) {
      offset = zoneOffsetMinutes(this.zone, bucket * 900_000);
      this.zoneCache.set(bucket, offset);
    }
    return offset;
  }

  /** The string Stash would store for an instant, in the offset in force at that instant. */
  format(ms: number): string {
    return formatStashTime(ms, this.offsetAt(ms));
  }

  /** The string a write happening now would store. */
  stamp(): string {
    return this.format(this.nowMs());
  }
}

function checkOffset(minutes: number): number {
  if (!Number.isInteger(minutes) || Math.abs(minutes) > 18 * 60) {
    throw new RangeError(`utc offset must be whole minutes within ±18h, got ${minutes}`);
  }
  return minutes;
}
