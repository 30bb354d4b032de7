/**
 * Small seeded PRNG (mulberry32). Library data and per-request tie shuffles draw from these so a
 * seed reproduces a run; Math.random is never used for anything observable.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer. */
  uint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Up to k distinct integers from [min, max], in ascending order. */
  distinctInts(k: number, min: number, max: number): number[] {
    const span = max - min + 1;
    if (span <= 0 || k <= 0) return [];
    if (k >= span) return Array.from({ length: span }, (_, i) => min + i);
    const chosen = new Set<number>();
    while (chosen.size < k) chosen.add(this.int(min, max));
    return [...chosen].sort((a, b) => a - b);
  }

  /** In-place Fisher-Yates shuffle of items[from, to). */
  shuffleRange<T>(items: T[], from = 0, to = items.length): void {
    for (let i = to - 1; i > from; i--) {
      const j = from + Math.floor(this.next() * (i - from + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
  }

  /** A new independent generator seeded from this one. */
  fork(): Rng {
    return new Rng(this.uint32());
  }
}

/** Stable 32-bit mix of two integers (for per-row keys such as seeded random sorts and fingerprints). */
export function hash32(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be59b, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}
