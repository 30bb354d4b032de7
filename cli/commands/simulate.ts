import type { Command } from 'commander';
import { createSimulator, type Scale } from '../../simulator/index.js';
import { fail, onShutdown } from '../shared.js';

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

export async function startSimulated(options: SimulateOptions) {
  if (!SCALE_NAMES.includes(options.scale)) fail(`--scale must be one of ${SCALE_NAMES.join(', ')}`, 64);
  const seed = Number(options.seed);
  const port = Number(options.port);
  const offset = Number(options.offset);
  if (!Number.isInteger(seed)) fail('--seed must be a whole number', 64);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be a port number', 64);
  if (!Number.isInteger(offset) || Math.abs(offset) > 14 * 60)
    fail('--offset must be minutes east of UTC (-840..840)', 64);
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

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('serve a simulated Stash (GraphQL at /graphql, test control at /__control)')
    .option('--seed <n>', 'generator seed', '1')
    .option('--scale <scale>', 'tiny | small | medium | large', 'small')
    .option('--port <port>', 'port (0 = any free port)', '9999')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--api-key <key>', 'require this ApiKey header')
    .option('--offset <minutes>', "server's UTC offset in minutes", '600')
    .option('--time-zone <zone>', 'IANA zone whose offset follows daylight saving (overrides --offset)')
    .action(async (options: SimulateOptions) => {
      const { server, description } = await startSimulated(options);
      process.stdout.write(`simulated Stash at ${server.url}/graphql: ${description}\n`);
      onShutdown(() => server.close());
    });
}
