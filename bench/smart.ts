/**
 * Everyday syncs after a full sync: a no-op smart sync in process (client start → result) and as
 * a whole command (`stash-mirror sync smart --wait`, process start included), smart syncs after a
 * share of scenes and images was edited in Stash (real field edits, not just a bumped stamp), and
 * a one-scene change with its post-processing steps.
 */
import { spawnSync } from 'node:child_process';
import { liveIds } from '../db/entity-store.js';
import type { StepResult } from '../db/postprocess/plan.js';
import type { EntityCounts } from '../db/vocabulary.js';
import { ENTITY_SPECS } from '../stash/entities/index.js';
import type { EntityType } from '../stash/entity-types.js';
import { CLI, PROJECT_ROOT } from './child.js';
import { runHistory } from './history.js';
import type { BenchStack } from './stack.js';
import { inPool } from './stats.js';

export interface ChangedSync {
  /** Share of scenes and of images edited before each run (0.001 = 0.1%). */
  share: number;
  edited: { scene: number; image: number };
  seconds: number[];
  pages: number;
  counts: Partial<Record<EntityType, EntityCounts>>;
}

export interface SmartMeasure {
  noopInProcess: number[];
  noopCli: number[];
  changed: ChangedSync[];
  oneScene: { seconds: number[]; steps: StepResult[] };
}

type Edited = 'scene' | 'image';

/** `count` ids spread evenly over `ids`, shifted by `round` so repeats edit other entities. */
function spread(ids: readonly number[], count: number, round: number): number[] {
  const step = ids.length / count;
  const shift = (round * 0.37) % 1;
  return Array.from({ length: count }, (_, index) => ids[Math.floor((index + shift) * step) % ids.length] as number);
}

async function edit(stack: BenchStack, type: Edited, ids: number[], label: string): Promise<void> {
  await inPool(ids, 16, async (id) => {
    await stack.control({ action: 'update', type, id, patch: { title: `bench ${label} ${id}` } });
  });
}

/** Wall seconds of `stash-mirror sync smart --wait`, from spawning node to its exit. */
function smartSyncCommand(stack: BenchStack): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [CLI, 'sync', 'smart', '--wait', '--json'], {
    cwd: PROJECT_ROOT,
    env: stack.cliEnv(),
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) {
    throw new Error(`sync smart --wait exited ${result.status}: ${result.stderr.trim()} ${result.stdout.trim()}`);
  }
  return seconds;
}

export async function measureSmart(stack: BenchStack, repeats: number): Promise<SmartMeasure> {
  const measure: SmartMeasure = { noopInProcess: [], noopCli: [], changed: [], oneScene: { seconds: [], steps: [] } };
  // The first smart sync after a full sync may still read its high-water second again: not a no-op.
  await stack.run('smart');
  for (let round = 0; round < repeats; round += 1) measure.noopInProcess.push((await stack.run('smart')).seconds);
  for (let round = 0; round < repeats; round += 1) measure.noopCli.push(smartSyncCommand(stack));

  const live: Record<Edited, number[]> = {
    scene: await liveIds(stack.sql, ENTITY_SPECS.scene),
    image: await liveIds(stack.sql, ENTITY_SPECS.image),
  };
  for (const share of [0.001, 0.01]) {
    const changed: ChangedSync = { share, edited: { scene: 0, image: 0 }, seconds: [], pages: 0, counts: {} };
    for (let round = 0; round < repeats; round += 1) {
      for (const type of ['scene', 'image'] as const) {
        const ids = spread(live[type], Math.max(1, Math.ceil(live[type].length * share)), round);
        await edit(stack, type, ids, `${share} r${round}`);
        changed.edited[type] = ids.length;
      }
      const run = await stack.run('smart');
      changed.seconds.push(run.seconds);
      changed.pages = run.summary.pages;
      changed.counts = run.summary.counts;
    }
    measure.changed.push(changed);
  }

  for (let round = 0; round < repeats; round += 1) {
    await edit(stack, 'scene', spread(live.scene, 1, round + 1), `one r${round}`);
    const run = await stack.run('smart');
    measure.oneScene.seconds.push(run.seconds);
    measure.oneScene.steps = (await runHistory(stack.client, run.workflowId, run.firstRunId)).steps;
  }
  return measure;
}
