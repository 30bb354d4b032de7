import { Rng } from './rng.js';

export interface FaultOptions {
  /** Fraction of /graphql requests answered with HTTP 500. */
  errorRate?: number;
  /** Delay added before every /graphql answer. */
  latencyMs?: number;
  /** Fraction of /graphql requests whose connection is destroyed without an answer. */
  dropRate?: number;
  /** Fraction of /graphql answers whose body is cut in half (status 200, broken JSON). */
  truncateRate?: number;
  /** Seeds the dice, so a fault pattern can be replayed. */
  seed?: number;
}

export type FaultDecision = 'drop' | 'error' | 'truncate' | null;

/** Transport faults, decided per request by their own seeded dice. */
export class Faults {
  private options: Required<Omit<FaultOptions, 'seed'>> = { errorRate: 0, latencyMs: 0, dropRate: 0, truncateRate: 0 };
  private rng = new Rng(0xfa017);

  set(options: FaultOptions): void {
    for (const key of ['errorRate', 'dropRate', 'truncateRate'] as const) {
      const value = options[key];
      if (value !== undefined && !(value >= 0 && value <= 1)) throw new RangeError(`${key} must be within [0, 1]`);
    }
    if (options.latencyMs !== undefined && !(options.latencyMs >= 0)) throw new RangeError('latencyMs must be >= 0');
    this.options = {
      errorRate: options.errorRate ?? this.options.errorRate,
      latencyMs: options.latencyMs ?? this.options.latencyMs,
      dropRate: options.dropRate ?? this.options.dropRate,
      truncateRate: options.truncateRate ?? this.options.truncateRate,
    };
    if (options.seed !== undefined) this.rng = new Rng(options.seed);
  }

  clear(): void {
    this.options = { errorRate: 0, latencyMs: 0, dropRate: 0, truncateRate: 0 };
  }

  current(): Required<Omit<FaultOptions, 'seed'>> {
    return { ...this.options };
  }

  latencyMs(): number {
    return this.options.latencyMs;
  }

  /** Rolls for one request. Unset rates never consume dice, so enabling one fault does not shift another's pattern. */
  decide(): FaultDecision {
    const { dropRate, errorRate, truncateRate } = this.options;
    if (dropRate > 0 && this.rng.next() < dropRate) return 'drop';
    if (errorRate > 0 && this.rng.next() < errorRate) return 'error';
    if (truncateRate > 0 && this.rng.next() < truncateRate) return 'truncate';
    return null;
  }
}
