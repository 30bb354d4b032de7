export type Scale = 'tiny' | 'small' | 'medium' | 'large';

export interface LibraryCounts {
  studios: number;
  tags: number;
  performers: number;
  groups: number;
  galleries: number;
  scenes: number;
  images: number;
}

export const SCALES: Record<Scale, LibraryCounts> = {
  tiny: { studios: 6, tags: 20, performers: 12, groups: 5, galleries: 6, scenes: 25, images: 60 },
  small: { studios: 50, tags: 150, performers: 200, groups: 30, galleries: 200, scenes: 1000, images: 3000 },
  medium: { studios: 200, tags: 500, performers: 1000, groups: 100, galleries: 2000, scenes: 10000, images: 50000 },
  large: {
    studios: 2000,
    tags: 5000,
    performers: 10000,
    groups: 1000,
    galleries: 20000,
    scenes: 100000,
    images: 500000,
  },
};

export function isScale(value: string): value is Scale {
  return Object.hasOwn(SCALES, value);
}

export function resolveCounts(scale: Scale = 'tiny', overrides: Partial<LibraryCounts> = {}): LibraryCounts {
  const counts: LibraryCounts = { ...SCALES[scale] };
  for (const key of Object.keys(counts) as (keyof LibraryCounts)[]) {
    const value = overrides[key];
    if (value !== undefined) {
      if (!Number.isInteger(value) || value < 0) throw new RangeError(`counts.${key} must be a non-negative integer`);
      counts[key] = value;
    }
  }
  return counts;
}
