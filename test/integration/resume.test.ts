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
    // Each id range of the scene walk has committed a few pages (sync_walks is the checkpoint).
    const scenePagesDone = async () => {
      const [row] = await sql`
        select count(*)::int as walks, coalesce(min(seq), 0)::int as least, coalesce(sum(seq), 0)::int as pages
        from sync_walks where entity_type = 'scene' and sync_type = 'full' and phase = 'walk'`;
      return { walks: Number(row?.walks ?? 0), least: Number(row?.least ?? 0), pages: Number(row?.pages ?? 0) };
    };
    const kept = await waitFor(async () => {
      const walks = await scenePagesDone();
      return walks.walks > 0 && walks.least >= 2 ? walks : undefined;
    });
    // Slow every further page right down: the walks learn of the cancellation at their next
    // heartbeat (throttled to seconds), and must not finish the library meanwhile.
    stack.simulator.control.setFaults({ latencyMs: 1000 });
    await stack.client.workflow.getHandle(first.workflowId).cancel();
    await expect(first.result()).rejects.toThrow();
    stack.simulator.control.clearFaults();
    const [cancelled] = await sql`select status from sync_runs where id = ${first.syncRunId}`;
    expect(cancelled?.status).toBe('cancelled');

    // A (scheduled, say) smart sync runs before the full sync is resumed.
    await (await stack.start('smart')).result();
    const afterSmart = await scenePagesDone();
    expect(afterSmart.walks).toBe(kept.walks);
    expect(afterSmart.pages).toBeGreaterThanOrEqual(kept.pages);

    stack.simulator.resetStats();
    const second = await stack.startFull();
    await second.result();
    // It continued the scene walks instead of starting them over.
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
    // It read fewer walk pages than a fresh walk needs by about the pages kept (a range may end
    // with one short page).
    const fresh = Math.ceil(stack.simulator.library.scenes.size / 50) + afterSmart.walks;
    expect(scenePages.length).toBeLessThanOrEqual(fresh - afterSmart.pages + afterSmart.walks);
    expect(await diffMirror(sql, stack.simulator, stack.stashUrl)).toEqual([]);
    const [state] = await sql`select resume_cursor from sync_state where entity_type = 'scene'`;
    expect(state?.resume_cursor).toBeNull();
  });
});
