import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findSeedScenario } from '../../simulator/index.js';
import { SyncAlreadyRunningError } from '../../temporal/sync-client.js';
import { progressQuery } from '../../workflows/progress.js';
import { createTestStack, type TestStack } from '../support/stack.js';

describe('full sync on a tiny library', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 7, scale: 'tiny' });
    await stack.startWorker({ pageSize: 10 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('mirrors the library and finds gallery-only performers through the derived data', async () => {
    const started = await stack.startFull();
    await expect(stack.startFull()).rejects.toBeInstanceOf(SyncAlreadyRunningError);
    const summary = await started.result();
    expect(summary.status).toBe('completed');

    const { sql } = stack.db;
    const library = stack.simulator.library;
    const [counts] = await sql`
      select (select count(*) from scenes where deleted_at is null)::int as scenes,
             (select count(*) from images where deleted_at is null)::int as images,
             (select count(*) from performers where deleted_at is null)::int as performers`;
    expect(counts).toEqual({
      scenes: library.scenes.size,
      images: library.images.size,
      performers: library.performers.size,
    });

    const seed = findSeedScenario(library);
    expect(seed).not.toBeNull();
    if (!seed) return;
    const own = await sql`select 1 from image_performers where image_id = any(${seed.imageIds}::bigint[])
                          and performer_id = ${seed.performerId}`;
    expect(own).toHaveLength(0);
    const found = await sql`
      select image_id from image_effective_performers where performer_id = ${seed.performerId}
      and image_id = any(${seed.imageIds}::bigint[])`;
    expect(found.map((row) => Number(row.image_id)).sort()).toEqual([...seed.imageIds].sort());

    // The progress query answers from the workflow (a worker is polling) with the final state.
    const progress = await stack.client.workflow.getHandle(started.workflowId).query(progressQuery);
    expect(progress).toMatchObject({ runId: started.syncRunId, phase: 'completed', syncType: 'full' });
    expect(progress.types.scene?.created).toBe(library.scenes.size);

    const [run] = await sql`select status, completed_at, counts from sync_runs where id = ${started.syncRunId}`;
    expect(run?.status).toBe('completed');
    expect(run?.counts.scene.created).toBe(library.scenes.size);
  });
});
