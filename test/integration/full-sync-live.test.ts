import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../simulator/index.js';
import { diffMirror } from '../support/compare.js';
import { createTestStack, type TestStack } from '../support/stack.js';

/** Ids of a type in ascending order, read from the simulator at the moment a hook fires. */
function ids(simulator: Simulator, type: keyof Simulator['library']): number[] {
  return [...simulator.library[type].keys()].sort((a, b) => a - b);
}

describe('full sync while Stash changes underneath (scale small)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 3, scale: 'small' });
    await stack.startWorker({ pageSize: 50 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('ends identical to Stash, row for row and link for link', async () => {
    const sim = stack.simulator;
    const { control } = sim;
    const fired: string[] = [];
    control.afterRequests({
      field: 'findStudios',
      n: 1,
      run: (c) => {
        // Every studio lands in one second, moving all of them behind the cursor: ties across pages.
        c.touch('studio', 'all');
        c.create('studio', { name: 'Studio created mid-sync' });
        fired.push('studios');
      },
    });
    control.afterRequests({
      field: 'findTags',
      n: 2,
      run: (c) => {
        const [first, second] = ids(sim, 'tags');
        c.update('tag', first as number, { name: 'renamed mid-sync' });
        c.remove('tag', second as number);
        fired.push('tags');
      },
    });
    control.afterRequests({
      field: 'findPerformers',
      n: 2,
      run: (c) => {
        const performers = ids(sim, 'performers');
        c.update('performer', performers[0] as number, { name: 'moved to the end' });
        c.remove('performer', performers[1] as number);
        c.create('performer', { name: 'Performer created mid-sync' });
        fired.push('performers');
      },
    });
    control.afterRequests({
      field: 'findGalleries',
      n: 2,
      run: (c) => {
        c.remove('gallery', ids(sim, 'galleries')[0] as number);
        fired.push('galleries');
      },
    });
    control.afterRequests({
      field: 'findScenes',
      n: 3,
      run: (c) => {
        const scenes = ids(sim, 'scenes');
        const tags = ids(sim, 'tags');
        c.update('scene', scenes[0] as number, { tag_ids: tags.slice(5, 8) });
        c.remove('scene', scenes[1] as number);
        c.remove('scene', scenes[scenes.length - 5] as number);
        c.create('scene', { title: 'Scene created mid-sync' });
        // A merge rewrites links without bumping anyone.
        c.mergeTags([tags[10] as number, tags[11] as number], tags[12] as number);
        fired.push('scenes');
      },
    });
    control.afterRequests({
      field: 'findImages',
      n: 5,
      run: (c) => {
        const images = ids(sim, 'images');
        const galleries = ids(sim, 'galleries');
        c.update('image', images[3] as number, { gallery_ids: [galleries[4] as number] });
        c.remove('image', images[7] as number);
        fired.push('images');
      },
    });

    const started = await stack.startFull();
    const summary = await started.result();
    expect(control.hookErrors()).toEqual([]);
    expect(fired.sort()).toEqual(['galleries', 'images', 'performers', 'scenes', 'studios', 'tags']);
    // A row removed before its id range was walked (ranges are walked at once) is never created,
    // so never deleted: at least the tag, merged tags, performer, gallery and early scene are.
    expect(summary.deleted).toBeGreaterThanOrEqual(5);

    expect(await diffMirror(stack.db.sql, sim, stack.stashUrl)).toEqual([]);

    // Deleted rows are kept, soft-deleted, and their deletion is in the log.
    const [deleted] = await stack.db.sql`
      select count(*)::int as n from sync_log where run_id = ${started.syncRunId} and change_type = 'deleted'`;
    expect(deleted?.n).toBe(summary.deleted);

    // No OFFSET paging: every list request asked for page 1 (keyset) or everything at once.
    const recent = sim.stats().recent;
    for (const request of recent) {
      const filter = (request.variables as { filter?: { page?: number } }).filter;
      if (filter?.page !== undefined) expect(filter.page).toBe(1);
    }
  });

  it('a second full sync finds nothing to change', async () => {
    const started = await stack.startFull();
    const summary = await started.result();
    for (const counts of Object.values(summary.counts)) {
      expect(counts?.created).toBe(0);
      expect(counts?.updated).toBe(0);
      expect(counts?.failed).toBe(0);
    }
    const [logged] = await stack.db.sql`
      select count(*)::int as n from sync_log where run_id = ${started.syncRunId} and entity_id is not null`;
    expect(logged?.n).toBe(0);
  });
});
