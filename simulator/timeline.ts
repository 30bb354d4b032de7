import type { SimClock } from './clock.js';
import type { Rng } from './rng.js';

const DAY = 86_400_000;

/** How far back generated libraries reach before the clock's start. */
export const HISTORY_MS = 730 * DAY;

/**
 * Creation instants for `count` rows in id order. Rows are created in batches (a scan or an import
 * stamps a whole folder in the same second), so creation times never decrease with the id and
 * many consecutive rows share one second.
 */
export function creationTimes(rng: Rng, count: number, startMs: number, endMs: number): Float64Array {
  const out = new Float64Array(count);
  if (count === 0) return out;
  const sizes: number[] = [];
  let total = 0;
  const bigBatch = Math.max(13, Math.ceil(count / 40));
  while (total < count) {
    const r = rng.next();
    const size = r < 0.55 ? 1 : r < 0.9 ? rng.int(2, 12) : rng.int(13, bigBatch);
    sizes.push(Math.min(size, count - total));
    total += size;
  }
  const offsets = new Float64Array(sizes.length);
  for (let i = 0; i < offsets.length; i++) offsets[i] = rng.next();
  offsets.sort();
  let row = 0;
  for (let b = 0; b < sizes.length; b++) {
    const at = wholeSecond(startMs + (offsets[b] as number) * (endMs - startMs));
    for (let k = 0; k < (sizes[b] as number); k++) out[row++] = at;
  }
  return out;
}

/**
 * Update instants: untouched rows keep their creation time, many fall into a few bulk operations
 * (scans, bulk edits) that stamp thousands of rows with exactly one second, the rest are edits
 * spread between creation and the end of history.
 */
export function updateTimes(rng: Rng, created: Float64Array, startMs: number, endMs: number): Float64Array {
  const count = created.length;
  const out = new Float64Array(count);
  const clusterCount = Math.max(2, Math.min(16, Math.round(2 + Math.log2(count + 1) / 2)));
  const clusters = new Float64Array(clusterCount);
  for (let i = 0; i < clusterCount; i++) clusters[i] = wholeSecond(startMs + rng.next() * (endMs - startMs));
  clusters.sort();
  // The most recent library scan touches nearly everything, which makes the largest tie group.
  const recentScan = wholeSecond(endMs - rng.int(1, 48) * 3_600_000);
  for (let i = 0; i < count; i++) {
    const c = created[i] as number;
    const r = rng.next();
    let u = c;
    if (r < 0.35) {
      u = c;
    } else if (r < 0.8) {
      if (rng.chance(0.5)) {
        u = recentScan;
      } else {
        const first = lowerBound(clusters, c);
        if (first < clusterCount) u = clusters[rng.int(first, clusterCount - 1)] as number;
      }
    } else {
      u = wholeSecond(c + rng.next() * (endMs - c));
    }
    out[i] = Math.max(u, c);
  }
  return out;
}

/** Formats many instants, reusing the string for repeated seconds (which are the norm). */
export class StampFormatter {
  private readonly cache = new Map<number, string>();

  constructor(private readonly clock: SimClock) {}

  format(ms: number): string {
    let s = this.cache.get(ms);
    if (s === undefined) {
      s = this.clock.format(ms);
      if (this.cache.size > 200_000) this.cache.clear();
      this.cache.set(ms, s);
    }
    return s;
  }
}

export function wholeSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function lowerBound(sorted: Float64Array, value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
