import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDevServer, startTemporalDevServer } from '../../runtime/temporal-dev-server.js';
import { diffMirror } from '../support/compare.js';
import { createTestStack, type TestStack } from '../support/stack.js';

describe('full sync under a tiny history limit', () => {
  let server: RunningDevServer;
  let stack: TestStack;
  beforeAll(async () => {
    // A dev server of its own whose "suggest continue-as-new" threshold is 50 events.
    server = await startTemporalDevServer({
      dbFilename: null,
      port: 0,
      uiPort: null,
      logLevel: 'error',
      dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 50 },
    });
    stack = await createTestStack({ seed: 9, scale: 'tiny' }, server.address);
    await stack.startWorker({ pageSize: 5 });
  });
  afterAll(async () => {
    await stack?.close();
    await server?.stop();
  });

  it('continues as new, keeps one run id, and ends with the same mirror', async () => {
    const started = await stack.startFull({ pageBudget: 1000 });
    const summary = await started.result();
    expect(summary.continuedAsNew).toBeGreaterThanOrEqual(2);
    expect(summary.runId).toBe(started.syncRunId);
    expect(await diffMirror(stack.db.sql, stack.simulator, stack.stashUrl)).toEqual([]);

    const runs = await stack.db.sql`select id, status from sync_runs`;
    expect(runs).toEqual([{ id: started.syncRunId, status: 'completed' }]);

    // The last execution's history stayed small: continue-as-new did its job.
    const handle = stack.client.workflow.getHandle(stack.workflowId);
    const history = await handle.fetchHistory();
    expect(history.events?.length ?? 0).toBeLessThan(200);
  });
});
