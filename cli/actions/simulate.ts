import { createSimulator, type Scale } from '../../simulator/index.js';
import { EXIT, fail, onShutdown } from '../shared.js';

export interface SimulateOptions {
  seed: string;
  scale: string;
  port: string;
  host: string;
  apiKey?: string;
  offset: string;
  timeZone?: string;
}

const SCALE_NAMES = ['tiny', 'small', 'medium', 'large'];

/** Checks the options, generates the library and serves it (`simulate`, and `dev` without STASH_URL). */
export async function startSimulated(options: SimulateOptions) {
  if (!SCALE_NAMES.includes(options.scale)) fail(`--scale must be one of ${SCALE_NAMES.join(', ')}`, EXIT.usage);
  const seed = Number(options.seed);
  const port = Number(options.port);
  const offset = Number(options.offset);
  if (!Number.isInteger(seed)) fail('--seed must be a whole number', EXIT.usage);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be a port number', EXIT.usage);
  if (!Number.isInteger(offset) || Math.abs(offset) > 14 * 60)
    fail('--offset must be minutes east of UTC (-840..840)', EXIT.usage);
  const started = Date.now();
  const simulator = createSimulator({
    seed,
    scale: options.scale as Scale,
    apiKey: options.apiKey ?? null,
    utcOffsetMinutes: offset,
    ...(options.timeZone ? { timeZone: options.timeZone } : {}),
  });
  const generatedMs = Date.now() - started;
  const server = await simulator.listen({ port, host: options.host });
  const library = simulator.library;
  const counts = Object.entries(library)
    .map(([name, rows]) => `${(rows as Map<number, unknown>).size} ${name}`)
    .join(', ');
  return { simulator, server, description: `${counts} (generated in ${generatedMs} ms)` };
}

/** `stash-mirror simulate`: serves until SIGINT/SIGTERM. */
export async function runSimulate(options: SimulateOptions): Promise<void> {
  const { server, description } = await startSimulated(options);
  process.stdout.write(`simulated Stash at ${server.url}/graphql: ${description}\n`);
  onShutdown(() => server.close());
}
