import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffMirror } from '../support/compare.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';

describe('a cancelled full sync', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 51, scale: 'small' });
    await stack.startWorker({ pageSize: 50 });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('keeps its place through a smart sync in between, and the next full sync resumes it', async () => {
    const { sql } = stack.db;
    stack.simulator.control.setFaults({ latencyMs: 40 });
    const first = await stack.startFull();
    const keptSeq = await waitFor(async () => {
      const [row] =
        await sql`select (resume_cursor->'full'->>'seq')::int as seq from sync_state where entity_type = 'scene'`;
      return (row?.seq ?? 0) >= 3 ? (row?.seq as number) : undefined;
    });
    await stack.client.workflow.getHandle(first.workflowId).cancel();
    await expect(first.result()).rejects.toThrow();
    stack.simulator.control.clearFaults();
    const [cancelled] = await sql`select status from sync_runs where id = ${first.syncRunId}`;
    expect(cancelled?.status).toBe('cancelled');

    // A (scheduled, say) smart sync runs before the full sync is resumed.
    await (await stack.start('smart')).result();
    const [kept] =
      await sql`select (resume_cursor->'full'->>'seq')::int as seq from sync_state where entity_type = 'scene'`;
    expect(kept?.seq).toBeGreaterThanOrEqual(keptSeq);

    stack.simulator.resetStats();
    const second = await stack.startFull();
    await second.result();
    // It continued the scene walk instead of starting it over: no walk page from the first id.
    type PageVariables = {
      filter?: { per_page?: number };
      entity_filter?: { id?: { value: number }; updated_at?: unknown };
    };
    const scenePages = stack.simulator
      .stats()
      .recent.filter((request) => request.field === 'findScenes')
      .map((request) => request.variables as PageVariables)
      .filter(
        // Walk pages (page size 50), not the id scans of reconciliation or catch-up pages.
        (variables) =>
          variables.filter?.per_page === 50 && variables.entity_filter?.id && !variables.entity_filter.updated_at,
      );
    expect(scenePages.length).toBeGreaterThan(0);
    expect(Math.min(...scenePages.map((variables) => variables.entity_filter?.id?.value ?? 0))).toBeGreaterThan(0);
    expect(await diffMirror(sql, stack.simulator, stack.stashUrl)).toEqual([]);
    const [state] = await sql`select resume_cursor from sync_state where entity_type = 'scene'`;
    expect(state?.resume_cursor).toBeNull();
  });
});
