import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffMirror } from '../support/compare.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { waitFor } from '../support/wait.js';
import { startWorkerProcess } from '../support/worker-process.js';

describe('a worker killed mid-sync', () => {
  let stack: TestStack;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    stack = await createTestStack({ seed: 5, scale: 'small' });
  });
  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await stack?.close();
  });

  it('is replaced by a new one that finishes the same run with the same result', async () => {
    const first = startWorkerProcess(stack);
    children.push(first);
    // Slow pages, so the kill lands in the middle of the scene walks.
    stack.simulator.control.setFaults({ latencyMs: 30 });
    const started = await stack.startFull();
    await waitFor(async () => {
      const [row] = await stack.db.sql`
        select coalesce(sum(seq), 0)::int as pages from sync_walks
        where entity_type = 'scene' and sync_type = 'full' and phase = 'walk'`;
      return (row?.pages ?? 0) >= 3 ? true : undefined;
    }, 90_000);
    first.kill('SIGKILL');
    stack.simulator.control.clearFaults();
    await new Promise((resolve) => first.once('exit', resolve));
    const [before] = await stack.db.sql`select status from sync_runs where id = ${started.syncRunId}`;
    expect(before?.status).toBe('running');

    children.push(startWorkerProcess(stack));
    const summary = await started.result();
    expect(summary.runId).toBe(started.syncRunId);

    expect(await diffMirror(stack.db.sql, stack.simulator, stack.stashUrl)).toEqual([]);
    const duplicates = await stack.db.sql`
      select entity_type, entity_id, count(*)::int as n from sync_log
      where run_id = ${started.syncRunId} and entity_id is not null
      group by entity_type, entity_id, change_type having count(*) > 1`;
    expect(duplicates).toEqual([]);
    const [created] = await stack.db.sql`
      select count(*)::int as n from sync_log where run_id = ${started.syncRunId} and change_type = 'created'`;
    const library = stack.simulator.library;
    const total = Object.values(library).reduce((sum, rows) => sum + (rows as Map<number, unknown>).size, 0);
    const byType = await stack.db.sql`
      select entity_type, change_type, count(*)::int as n from sync_log
      where run_id = ${started.syncRunId} group by 1, 2 order by 1, 2`;
    expect(created?.n, JSON.stringify(byType)).toBe(total);
    const [run] = await stack.db.sql`select status, counts from sync_runs where id = ${started.syncRunId}`;
    expect(run?.status).toBe('completed');
    expect(run?.counts.scene.created).toBe(library.scenes.size);
  }, 240_000);
});
