import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createApp, DROP_HEADER } from './app.js';
import { SimClock } from './clock.js';
import { createControl, type SimulatorControl } from './control.js';
import { Corruptions } from './corruptions.js';
import { Faults } from './faults.js';
import { generateLibrary } from './generator.js';
import type { Executor } from './graphql-handler.js';
import { Hooks } from './hooks.js';
import type { Library } from './model.js';
import { Lister } from './query.js';
import { simulatorSchema } from './resolvers.js';
import { Rng } from './rng.js';
import { type LibraryCounts, resolveCounts, type Scale } from './scales.js';
import { type RequestStats, StatsRecorder } from './stats.js';
import { Store } from './store.js';

export interface SimulatorOptions {
  /** Default 1; same seed + scale/counts (+ `now`, zone) gives an identical library. */
  seed?: number;
  /** Default 'tiny'. */
  scale?: Scale;
  /** Overrides the scale's counts. */
  counts?: Partial<LibraryCounts>;
  /** When set, /graphql needs header `ApiKey: <key>` or `?apikey=<key>`, else 401. */
  apiKey?: string | null;
  /** Fixed server offset in minutes east of UTC; default +600 (+10:00). */
  utcOffsetMinutes?: number;
  /** IANA zone; overrides utcOffsetMinutes and follows DST. */
  timeZone?: string;
  /**
   * Initial simulated clock (default: real now); it then runs in real time unless frozen.
   * Generated history ends at `now` when given, else at a fixed instant (DEFAULT_HISTORY_END)
   * so that a library does not depend on when it was generated.
   */
  now?: Date;
  /** Default true; false disables POST /__control (the in-process control stays available). */
  control?: boolean;
  /**
   * How queries are executed: 'compiled' (default, graphql-jit where it answers exactly as
   * graphql-js) or 'graphql-js' (always graphql-js: the reference the compiled path is tested against).
   */
  executor?: Executor;
}

export interface ListeningSimulator {
  /** e.g. http://127.0.0.1:54321 (append /graphql for the endpoint). */
  url: string;
  close(): Promise<void>;
}

export interface Simulator {
  /** The live data; read it to compare with a mirror, change it through `control`. */
  library: Library;
  control: SimulatorControl;
  fetch(request: Request): Promise<Response>;
  listen(opts?: { port?: number; host?: string }): Promise<ListeningSimulator>;
  stats(): RequestStats;
  resetStats(): void;
}

export const DEFAULT_HISTORY_END = new Date('2025-06-01T00:00:00Z');

export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const seed = options.seed ?? 1;
  const clock = new SimClock({
    ...(options.now ? { now: options.now } : {}),
    utcOffsetMinutes: options.utcOffsetMinutes ?? 600,
    timeZone: options.timeZone ?? null,
  });
  const counts = resolveCounts(options.scale ?? 'tiny', options.counts ?? {});
  const endMs = options.now ? options.now.getTime() : Math.min(DEFAULT_HISTORY_END.getTime(), clock.nowMs());
  const library = generateLibrary({ seed, counts, clock, endMs });
  const store = new Store(library, clock);
  const stats = new StatsRecorder();
  const faults = new Faults();
  const corruptions = new Corruptions();
  const hooks = new Hooks<SimulatorControl>();
  const control = createControl({ store, clock, faults, corruptions, hooks, stats });
  const app = createApp({
    schema: simulatorSchema(),
    store,
    lister: new Lister(store),
    stats,
    corruptions,
    requestRng: new Rng(seed ^ 0x7e57),
    executor: options.executor ?? 'compiled',
    apiKey: options.apiKey ?? null,
    faults,
    hooks,
    control,
    controlEnabled: options.control !== false,
  });

  const fetch = async (request: Request): Promise<Response> => {
    const response = await app.fetch(request);
    if (response.headers.get(DROP_HEADER)) {
      // What undici reports when the peer closes the socket without answering.
      throw new TypeError('fetch failed', { cause: new Error('other side closed') });
    }
    return response;
  };

  const listen = (opts: { port?: number; host?: string } = {}): Promise<ListeningSimulator> => {
    const host = opts.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const server = serve({ fetch: app.fetch, port: opts.port ?? 0, hostname: host }, (info: AddressInfo) => {
        const shown = host.includes(':') ? `[${host}]` : host;
        resolve({
          url: `http://${shown}:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              if ('closeAllConnections' in server) server.closeAllConnections();
              server.close(() => done());
            }),
        });
      });
      server.once('error', reject);
    });
  };

  return { library, control, fetch, listen, stats: () => stats.snapshot(), resetStats: () => stats.reset() };
}
