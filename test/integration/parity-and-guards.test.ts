import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MainSyncType } from '../../db/vocabulary.js';
import type { StashClient } from '../../stash/client.js';
import { createStashClient } from '../../stash/client.js';
import { StashUnavailableError } from '../../stash/errors.js';
import { NO_SIGNALS } from '../../sync/context.js';
import { reconcileIfChanged } from '../../sync/reconcile.js';

import { createTestStack, type TestStack } from '../support/stack.js';

/** Derived tables without their computed_at stamps: what every sync mode must agree on. */
async function derivedData(stack: TestStack) {
  const { sql } = stack.db;
  return {
    effective:
      await sql`select image_id, studio_id, date, photographer, details from image_effective order by image_id`,
    performers: await sql`select * from image_effective_performers order by image_id, performer_id`,
    tags: await sql`select * from image_effective_tags order by image_id, tag_id`,
    inherited: await sql`select * from scene_inherited_tags order by scene_id, tag_id, source`,
    counts: await sql`select entity_type, entity_id, image_count, scene_count from entity_counts order by 1, 2`,
  };
}

function mutate(stack: TestStack): void {
  const { control, library } = stack.simulator;
  const ids = (type: keyof typeof library) => [...library[type].keys()].sort((a, b) => a - b);
  control.advanceClock(3600);
  control.update('gallery', ids('galleries')[0] as number, { performer_ids: [ids('performers')[3] as number] });
  control.update('performer', ids('performers')[1] as number, { tag_ids: [ids('tags')[2] as number] });
  control.update('image', ids('images')[5] as number, { gallery_ids: [ids('galleries')[1] as number] });
  control.mergeTags([ids('tags')[6] as number], ids('tags')[7] as number);
  control.remove('studio', ids('studios')[1] as number);
}

describe('post-processing parity across sync modes', () => {
  const stacks: Partial<Record<MainSyncType, TestStack>> = {};
  beforeAll(async () => {
    for (const kind of ['full', 'incremental', 'smart'] as const) {
      const stack = await createTestStack({ seed: 41, scale: 'tiny', now: new Date('2025-07-01T00:00:00Z') });
      await stack.startWorker({ pageSize: 10 });
      stacks[kind] = stack;
    }
  });
  afterAll(async () => {
    for (const stack of Object.values(stacks)) await stack?.close();
  });

  it('full, incremental and smart leave identical derived data, before and after changes', async () => {
    const full = stacks.full as TestStack;
    const incremental = stacks.incremental as TestStack;
    const smart = stacks.smart as TestStack;
    const since = '2000-01-01T00:00:00Z';
    await Promise.all([
      full.start('full').then((run) => run.result()),
      incremental.start('incremental', { since }).then((run) => run.result()),
      smart.start('smart').then((run) => run.result()),
    ]);
    const baseline = await derivedData(full);
    expect(baseline.performers.length).toBeGreaterThan(0);
    expect(await derivedData(incremental)).toEqual(baseline);
    expect(await derivedData(smart)).toEqual(baseline);

    for (const stack of [full, incremental, smart]) mutate(stack);
    const changedSince = new Date(full.simulator.control.now().getTime() - 1800_000).toISOString();
    await Promise.all([
      full.start('full').then((run) => run.result()),
      incremental.start('incremental', { since: changedSince }).then((run) => run.result()),
      smart.start('smart').then((run) => run.result()),
    ]);
    const after = await derivedData(full);
    expect(after).not.toEqual(baseline);
    expect(await derivedData(incremental)).toEqual(after);
    expect(await derivedData(smart)).toEqual(after);
  });
});

describe('deletion guards', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 42, scale: 'small' });
    await stack.startWorker({ pageSize: 100, maxDeleteShare: 0.5 });
    await (await stack.startFull()).result();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('a failed id scan deletes nothing', async () => {
    const { control, library } = stack.simulator;
    const victim = [...library.performers.keys()][0] as number;
    control.remove('performer', victim);
    const real = createStashClient({ url: stack.stashUrl });
    const failingScans: StashClient = {
      request(query, variables, options) {
        if (query.includes('Ids(')) return Promise.reject(new StashUnavailableError('Stash answered HTTP 500'));
        return real.request(query, variables, options);
      },
    };
    const context = {
      sql: stack.db.sql,
      stash: failingScans,
      pageSize: 100,
      maxDeleteShare: 0.5,
      catchUpMarginSeconds: 7200,
      logSkipped: true,
      walkConcurrency: 1,
    };
    await expect(reconcileIfChanged(context, 'guard-test', 'smart', 'performer', NO_SIGNALS)).rejects.toThrow(
      StashUnavailableError,
    );
    const [row] = await stack.db.sql`select deleted_at from performers where id = ${victim}`;
    expect(row?.deleted_at).toBeNull();
    const [logged] = await stack.db.sql`select count(*)::int as n from sync_log where change_type = 'deleted'`;
    expect(logged?.n).toBe(0);
  });

  it('refuses to delete more than the allowed share, records why and fails loudly', async () => {
    const { control, library } = stack.simulator;
    const tags = [...library.tags.keys()];
    for (const id of tags.slice(0, Math.ceil(tags.length * 0.6))) control.remove('tag', id);
    const started = await stack.start('smart');
    await expect(started.result()).rejects.toThrow();
    const [run] = await stack.db.sql`select status, error from sync_runs where id = ${started.syncRunId}`;
    expect(run?.status).toBe('failed');
    expect(run?.error).toMatch(/refusing to delete \d+ of \d+ tags .*nothing was deleted/);
    const [live] = await stack.db.sql`select count(*)::int as n from tags where deleted_at is null`;
    expect(live?.n).toBe(tags.length);
  });
});
