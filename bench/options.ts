/** The bench's command line (`npm run bench -- --scale medium …`). */
import { parseArgs } from 'node:util';
import { isScale, type Scale } from '../simulator/scales.js';

/** The parts of a run, in the order they run (`--only` picks some). */
export const PARTS = ['full', 'floor', 'serving', 'smart', 'reads', 'latency'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  scale: Scale;
  pageSize: number;
  /** Repeats of the cheap measurements (smart syncs); medians are reported. */
  repeats: number;
  /** Requests per kind of library read. */
  reads: number;
  /** Fetchers at once when measuring the simulator's serving rate. */
  servingConcurrency: number;
  compare: string | null;
  /** Latency mode: a delay per simulator request, and the concurrencies to measure at. */
  latencyMs: number | null;
  concurrency: number[];
  only: ReadonlySet<Part>;
}

export const USAGE = `npm run bench -- [--scale tiny|small|medium|large] [--compare FILE] [--latency-ms 50]
  [--concurrency 1,4] [--page-size 500] [--repeats 3] [--reads 50] [--serving-concurrency 4]
  [--only ${PARTS.join(',')}]`;

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number (${USAGE})`);
  return value;
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string', default: 'medium' },
      'page-size': { type: 'string', default: '500' },
      repeats: { type: 'string', default: '3' },
      reads: { type: 'string', default: '50' },
      'serving-concurrency': { type: 'string', default: '4' },
      compare: { type: 'string' },
      'latency-ms': { type: 'string' },
      concurrency: { type: 'string', default: '1,4' },
      only: { type: 'string', default: PARTS.join(',') },
    },
  });
  if (!isScale(values.scale)) throw new Error(`--scale must be tiny, small, medium or large (${USAGE})`);
  const latency = values['latency-ms'];
  const latencyMs = latency === undefined ? null : Number(latency);
  if (latencyMs !== null && !(Number.isFinite(latencyMs) && latencyMs >= 0)) {
    throw new Error('--latency-ms must be a number of milliseconds');
  }
  const only = values.only.split(',').map((part) => part.trim());
  const unknown = only.find((part) => !(PARTS as readonly string[]).includes(part));
  if (unknown) throw new Error(`--only: unknown part "${unknown}" (${PARTS.join(', ')})`);
  return {
    scale: values.scale,
    pageSize: positive('page-size', values['page-size']),
    repeats: positive('repeats', values.repeats),
    reads: positive('reads', values.reads),
    servingConcurrency: positive('serving-concurrency', values['serving-concurrency']),
    compare: values.compare ?? null,
    latencyMs,
    concurrency: values.concurrency.split(',').map((each) => positive('concurrency', each.trim())),
    only: new Set(only as Part[]),
  };
}
