/**
 * The simulated Stash's own serving cost: walks every entity type the way the mirror's full sync
 * does (stash/paging.ts fetchPage with the mirror's own page query: id keyset for scenes, images
 * and galleries, updated_at keyset for the rest) and reports the simulator's CPU time per entity
 * served.
 *
 * mode=http (default): the simulator serves HTTP from a child process (as `stash-mirror simulate`
 * does) and its CPU time is read from /proc, so the client's work is not counted.
 * mode=inprocess: sim.fetch in this process; CPU time around each request/response pair, the
 * client's JSON.parse left out.
 *
 * Run: npx tsx bench/simulator-serving.ts [mode=http|inprocess] [scale=medium]
 *      [executor=compiled|graphql-js] [types=image,scene,...] [perPage=500] [repeat=1]
 * Prints one JSON line per walk (repeat > 1 walks the same library again, warm).
 * SIMULATOR_CPU_PROF=<dir> writes a V8 CPU profile of the serving child (mode=http).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createSimulator, describeLibrary, isScale } from '../simulator/index.js';
import type { StashClient } from '../stash/client.js';
import { initialCursor, type PageCursor } from '../stash/cursor.js';
import { ENTITY_SPECS } from '../stash/entities/index.js';
import type { EntityType } from '../stash/entity-types.js';
import { fetchPage } from '../stash/paging.js';

const args = Object.fromEntries(
  process.argv.slice(2).map((arg) => {
    const at = arg.indexOf('=');
    return at < 0 ? [arg, 'true'] : [arg.slice(0, at), arg.slice(at + 1)];
  }),
) as Record<string, string>;
const mode = args.mode ?? 'http';
const scale = args.scale ?? 'medium';
if (!isScale(scale)) throw new Error(`unknown scale ${scale}`);
const executor = args.executor ?? 'compiled';
if (executor !== 'compiled' && executor !== 'graphql-js') throw new Error(`unknown executor ${executor}`);
const types = (args.types ?? 'studio,tag,performer,group,gallery,scene,image').split(',') as EntityType[];
const perPage = Number(args.perPage ?? 500);
const repeat = Number(args.repeat ?? 1);
const simulatorOptions = { scale, seed: 1, now: new Date('2025-06-01T00:00:00Z'), executor } as const;

if (args.serve) {
  // Child: serve until stdin closes.
  const sim = createSimulator(simulatorOptions);
  const listening = await sim.listen();
  console.log(JSON.stringify({ url: listening.url, library: describeLibrary(sim.library) }));
  process.stdin.resume();
  process.stdin.on('end', () => void listening.close().then(() => process.exit(0)));
} else {
  await main();
}

async function main(): Promise<void> {
  const server = mode === 'http' ? await startChild() : null;
  const sim = server ? null : createSimulator(simulatorOptions);
  if (sim) console.error(`mode=inprocess scale=${scale} executor=${executor}: ${describeLibrary(sim.library)}`);
  let serverCpuS = 0;
  let requests = 0;
  const client: StashClient = {
    async request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
      const body = JSON.stringify({ query, variables });
      const headers = { 'content-type': 'application/json' };
      let status: number;
      let text: string;
      if (server) {
        const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers, body });
        status = response.status;
        text = await response.text();
      } else {
        const cpu = process.cpuUsage();
        const response = await (sim as NonNullable<typeof sim>).fetch(
          new Request('http://sim/graphql', { method: 'POST', headers, body }),
        );
        status = response.status;
        text = await response.text();
        const used = process.cpuUsage(cpu);
        serverCpuS += (used.user + used.system) / 1e6;
      }
      requests++;
      const parsed = JSON.parse(text) as { data?: T; errors?: unknown };
      if (status !== 200 || parsed.errors) throw new Error(`request failed: ${status} ${text.slice(0, 500)}`);
      return parsed.data as T;
    },
  };

  const walk = async (type: EntityType): Promise<number> => {
    const spec = ENTITY_SPECS[type];
    let cursor: PageCursor = initialCursor(spec.paging, null);
    let entities = 0;
    for (;;) {
      const page = await fetchPage(client, spec, cursor, perPage);
      entities += page.entities.length;
      cursor = page.next;
      if (page.done) return entities;
    }
  };

  // Compiles every document and lets V8 optimise the hot code before the timed walks.
  for (const type of types)
    await fetchPage(client, ENTITY_SPECS[type], initialCursor(ENTITY_SPECS[type].paging, null), 50);

  for (let round = 0; round < repeat; round++) {
    serverCpuS = 0;
    requests = 0;
    const childCpuStart = server?.cpuSeconds() ?? 0;
    const started = performance.now();
    const byType: Record<string, number> = {};
    let entities = 0;
    for (const type of types) {
      byType[type] = await walk(type);
      entities += byType[type];
    }
    if (server) serverCpuS = server.cpuSeconds() - childCpuStart;
    console.log(
      JSON.stringify({
        mode,
        scale,
        executor,
        perPage,
        round,
        entities,
        requests,
        serverCpuS: Number(serverCpuS.toFixed(3)),
        wallS: Number(((performance.now() - started) / 1000).toFixed(3)),
        entitiesPerCpuS: Math.round(entities / serverCpuS),
        cpuSPer100k: Number(((serverCpuS / entities) * 1e5).toFixed(3)),
        loadavg1: Number(loadavg()[0]?.toFixed(2)),
        byType,
      }),
    );
  }
  server?.stop();
}

interface Child {
  url: string;
  /** The child's user + system CPU time so far (Linux /proc, clock ticks of 10 ms). */
  cpuSeconds(): number;
  stop(): void;
}

async function startChild(): Promise<Child> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.SIMULATOR_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.SIMULATOR_CPU_PROF}`] : []),
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      'serve',
      `scale=${scale}`,
      `executor=${executor}`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  const { url, library } = JSON.parse(first) as { url: string; library: string };
  console.error(`mode=http scale=${scale} executor=${executor}: ${library}`);
  const ticks = 100; // getconf CLK_TCK
  return {
    url,
    cpuSeconds: () => {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) / ticks;
    },
    stop: () => child.stdin.end(),
  };
}
