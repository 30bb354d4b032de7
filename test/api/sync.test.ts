import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, type TestStack } from '../support/stack.js';
import { type ApiServer, readEvents, startApi, waitFor } from './support.js';

interface Started {
  runId: string;
  workflowId: string;
  statusUrl: string;
  temporalUiUrl: string | null;
}

interface RunBody {
  run: { id: string; status: string; type: string; trigger: string; counts: Record<string, Record<string, number>> };
  live: { source: string; progress: Record<string, unknown> } | null;
  errors: {
    message: string | null;
    failedCount: number;
    failedEntities: Array<{ entityType: string; entityId: string }>;
  };
}

describe('sync control over HTTP', () => {
  let stack: TestStack;
  let api: ApiServer;

  /** The run's final state, once its workflow has closed too (sync_runs records the end just before). */
  async function finished(statusUrl: string, timeoutMs = 120_000): Promise<RunBody> {
    const body = await waitFor(async () => {
      const response = await api.request<RunBody>('GET', statusUrl);
      expect(response.status).toBe(200);
      return response.body.run.status === 'running' ? undefined : response.body;
    }, timeoutMs);
    const [workflowId, firstExecutionRunId] = [
      body.run.id.slice(0, body.run.id.lastIndexOf('/')),
      body.run.id.split('/').at(-1),
    ];
    await stack.client.workflow
      .getHandle(workflowId, undefined, { firstExecutionRunId })
      .result()
      .catch(() => {});
    return body;
  }

  async function start(path: string, body: unknown = {}): Promise<Started> {
    const response = await api.request<Started>('POST', path, { body });
    expect(response.status, JSON.stringify(response.body)).toBe(202);
    return response.body;
  }

  beforeAll(async () => {
    stack = await createTestStack({ seed: 9, scale: 'tiny' });
    await stack.startWorker({ pageSize: 5 });
    api = await startApi(stack, { sseIntervalMs: 200 });
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it('refuses bad starts with 400 naming the field, before Temporal sees anything', async () => {
    const cases: Array<[string, unknown, string]> = [
      ['/api/sync/incremental', { since: 'yesterday' }, 'since'],
      ['/api/sync/incremental', { since: '2025-01-31T18:00:00' }, 'since'],
      ['/api/sync/incremental', {}, 'since'],
      ['/api/sync/incremental', { since: '2025-01-31T18:00:00Z', entityTypes: ['movie'] }, 'entityTypes.0'],
      ['/api/sync/incremental', { since: '2025-01-31T18:00:00Z', entityTypes: [] }, 'entityTypes'],
      ['/api/sync/full', { force: true }, 'force'],
      ['/api/sync/full', [], 'body'],
      ['/api/sync/smart', { since: '2025-01-31T18:00:00Z' }, 'since'],
    ];
    for (const [path, body, field] of cases) {
      const response = await api.request('POST', path, { body });
      expect(response.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(response.body).toEqual({ error: expect.stringContaining(field), field });
    }
    const badType = await api.request('POST', '/api/sync/movie/1');
    expect(badType.body).toMatchObject({ field: 'entityType' });
    const badId = await api.request('POST', '/api/sync/scene/1%3B%20drop%20table%20scenes');
    expect(badId.body).toMatchObject({ field: 'id' });
    const described = await stack.client.workflow
      .getHandle(stack.workflowId)
      .describe()
      .catch(() => null);
    expect(described).toBeNull();
    const [runs] = await stack.db.sql`select count(*)::int as n from sync_runs`;
    expect(runs?.n).toBe(0);
  });

  it('starts a full sync (202 with links), then incremental and smart ones', async () => {
    const full = await start('/api/sync/full');
    expect(full.workflowId).toBe(stack.workflowId);
    expect(full.runId).toMatch(new RegExp(`^${stack.workflowId}/[0-9a-f-]{36}$`));
    expect(full.statusUrl).toBe(`/api/sync/runs/${encodeURIComponent(full.runId)}`);
    const temporalRunId = full.runId.split('/')[1];
    expect(full.temporalUiUrl).toBe(
      `http://127.0.0.1:8233/namespaces/default/workflows/${stack.workflowId}/${temporalRunId}`,
    );
    // The status URL works at once, before the worker has recorded the run.
    expect((await api.request('GET', full.statusUrl)).status).toBe(200);
    const done = await finished(full.statusUrl);
    expect(done.run).toMatchObject({ id: full.runId, status: 'completed', type: 'full', trigger: 'api' });
    expect(done.run.counts.scene?.created).toBe(stack.simulator.library.scenes.size);
    // The Temporal run id alone finds the run too.
    expect((await api.request<RunBody>('GET', `/api/sync/runs/${temporalRunId}`)).body.run.id).toBe(full.runId);

    const sceneId = [...stack.simulator.library.scenes.keys()][0] as number;
    stack.simulator.control.update('scene', sceneId, { title: 'changed for the incremental sync' });
    const since = new Date(Date.now() - 3600_000).toISOString();
    const incremental = await start('/api/sync/incremental', { since, entityTypes: ['scene', 'scene'] });
    const incrementalDone = await finished(incremental.statusUrl);
    expect(incrementalDone.run).toMatchObject({ status: 'completed', type: 'incremental' });
    expect(Object.keys(incrementalDone.run.counts)).toEqual(['scene']);
    const [row] = await stack.db.sql`select title from scenes where id = ${sceneId}`;
    expect(row?.title).toBe('changed for the incremental sync');

    const smart = await start('/api/sync/smart');
    expect((await finished(smart.statusUrl)).run).toMatchObject({ status: 'completed', type: 'smart' });
  });

  it('lets exactly one of 50 simultaneous starts win; the 49 others get 409 with its run id', async () => {
    stack.simulator.control.setFaults({ latencyMs: 100 });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => api.request<Started & { runningRunId?: string }>('POST', '/api/sync/full')),
    );
    const accepted = responses.filter((response) => response.status === 202);
    const refused = responses.filter((response) => response.status === 409);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(49);
    const winner = accepted[0]?.body.runId;
    for (const response of refused) {
      expect(response.body).toEqual({ error: 'another sync is already running', runningRunId: winner });
    }
    // While it runs: other kinds are refused too, a single entity starts beside it.
    const smart = await api.request<{ runningRunId: string }>('POST', '/api/sync/smart');
    expect(smart.status).toBe(409);
    expect(smart.body.runningRunId).toBe(winner);

    const status = await waitFor(async () => {
      const response = await api.request<{
        runningRunId: string;
        running: { run: { id: string }; live: { source: string; progress: { phase: string } } } | null;
        entities: Array<{ entityType: string }>;
        lastRun: { id: string; status: string } | null;
        schedule: unknown;
        temporalReachable: boolean;
      }>('GET', '/api/sync/status');
      return response.body.running?.live.source === 'query' ? response.body : undefined;
    });
    expect(status.runningRunId).toBe(winner);
    expect(status.running?.run.id).toBe(winner);
    expect(status.running?.live.progress.phase).toMatch(/starting|entities|reconcile|repair|postprocess/);
    expect(status.entities.map((state) => state.entityType).sort()).toEqual([
      'gallery',
      'group',
      'image',
      'performer',
      'scene',
      'studio',
      'tag',
    ]);
    expect(status.lastRun?.status).toBe('completed');
    expect(status.schedule).toBeNull();
    expect(status.temporalReachable).toBe(true);

    const sceneId = [...stack.simulator.library.scenes.keys()][1] as number;
    const [one, two] = await Promise.all([
      api.request<Started>('POST', `/api/sync/scene/${sceneId}`),
      api.request<Started>('POST', `/api/sync/scene/${sceneId}`),
    ]);
    expect([one.status, two.status].sort()).toEqual([202, 409]);
    const entityRun = (one.status === 202 ? one : two).body;
    expect(entityRun.workflowId).toBe(`${stack.workflowId}:scene:${sceneId}`);
    expect((await finished(entityRun.statusUrl)).run).toMatchObject({ status: 'completed', type: 'specific' });

    stack.simulator.control.clearFaults();
    const run = await finished(`/api/sync/runs/${encodeURIComponent(winner as string)}`);
    expect(run.run.status).toBe('completed');
  });

  it('pages the history newest first, filters by status and type, and shows a run’s failures', async () => {
    const sceneId = [...stack.simulator.library.scenes.keys()][2] as number;
    stack.simulator.control.corrupt('scene', sceneId, { date: '2023-13-45' });
    const full = await start('/api/sync/full');
    const done = await finished(full.statusUrl);
    stack.simulator.control.clearCorruptions();
    expect(done.errors.failedCount).toBe(1);
    expect(done.errors.failedEntities).toEqual([
      expect.objectContaining({ entityType: 'scene', entityId: String(sceneId), error: expect.stringMatching(/date/) }),
    ]);

    const all = await api.request<{ count: number; runs: Array<{ id: string; startedAt: string; type: string }> }>(
      'GET',
      '/api/sync/runs?per_page=100',
    );
    expect(all.body.count).toBeGreaterThanOrEqual(6);
    expect(all.body.runs[0]?.id).toBe(full.runId);
    const started = all.body.runs.map((run) => run.startedAt);
    expect(started).toEqual([...started].sort().reverse());

    const paged = await api.request<{ count: number; page: number; per_page: number; runs: Array<{ id: string }> }>(
      'GET',
      '/api/sync/runs?page=2&per_page=2',
    );
    expect(paged.body).toMatchObject({ count: all.body.count, page: 2, per_page: 2 });
    expect(paged.body.runs.map((run) => run.id)).toEqual(all.body.runs.slice(2, 4).map((run) => run.id));

    const specific = await api.request<{ runs: Array<{ type: string; status: string }> }>(
      'GET',
      '/api/sync/runs?type=specific&status=completed',
    );
    expect(specific.body.runs.length).toBeGreaterThan(0);
    expect(specific.body.runs.every((run) => run.type === 'specific' && run.status === 'completed')).toBe(true);

    for (const [query, field] of [
      ['status=done', 'status'],
      ['type=nightly', 'type'],
      ['per_page=0', 'per_page'],
      ['per_page=101', 'per_page'],
      ['page=1e3', 'page'],
      ['page=-1', 'page'],
      ['order=asc', 'order'],
    ]) {
      const response = await api.request('GET', `/api/sync/runs?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.body).toMatchObject({ field });
    }
    expect((await api.request('GET', '/api/sync/runs/nope%2Fnope')).status).toBe(404);
    expect((await api.request('GET', `/api/sync/runs/${'x'.repeat(600)}`)).body).toMatchObject({ field: 'runId' });
  });

  it('streams progress events while a run goes on and a final one when it ends', async () => {
    stack.simulator.control.setFaults({ latencyMs: 60 });
    const full = await start('/api/sync/full');
    const { response, events } = await readEvents(`${api.url}${full.statusUrl}/events`);
    stack.simulator.control.clearFaults();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const progress = events.filter((event) => event.event === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress.some((event) => (event.data as { live: { source: string } }).live.source === 'query')).toBe(true);
    const last = events.at(-1);
    expect(last?.event).toBe('end');
    expect((last?.data as { run: { id: string; status: string } } | undefined)?.run).toMatchObject({
      id: full.runId,
      status: 'completed',
    });
    expect(events.map((event) => Number(event.id))).toEqual(events.map((_, index) => index));

    // A client (re)connecting after the end gets the current state at once, then the stream closes.
    const again = await readEvents(`${api.url}${full.statusUrl}/events`, {}, 10_000);
    expect(again.events.map((event) => event.event)).toEqual(['end']);
    expect((await api.request('GET', '/api/sync/runs/nope%2Fnope/events')).status).toBe(404);
  });

  it('cancels only running runs', async () => {
    const [last] = await stack.db.sql`select id from sync_runs where status = 'completed' limit 1`;
    const finishedRun = await api.request('POST', `/api/sync/runs/${encodeURIComponent(last?.id as string)}/cancel`);
    expect(finishedRun.status).toBe(409);
    expect(finishedRun.body).toMatchObject({ status: 'completed' });
    expect((await api.request('POST', '/api/sync/runs/nope%2Fnope/cancel')).status).toBe(404);
  });
});

describe('cancel mid-run, then resume', () => {
  let stack: TestStack;
  let api: ApiServer;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 4, scale: 'small' });
    await stack.startWorker({ pageSize: 40 });
    api = await startApi(stack);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it('ends the run as cancelled with its pages kept; the next full sync resumes from them and completes', async () => {
    const { sql } = stack.db;
    const library = stack.simulator.library;
    stack.simulator.control.setFaults({ latencyMs: 40 });
    const first = await api.request<Started>('POST', '/api/sync/full');
    expect(first.status).toBe(202);
    // Pages the scene walks have committed (sync_walks is the checkpoint, one row per id range).
    const cursorSeq = async () => {
      const [row] = await sql`
        select coalesce(sum(seq), 0)::int as seq from sync_walks
        where entity_type = 'scene' and sync_type = 'full' and phase = 'walk'`;
      return Number(row?.seq ?? 0);
    };
    await waitFor(async () => (await cursorSeq()) >= 3, 180_000);
    // Slow every further page right down: the walks learn of the cancellation at their next
    // heartbeat (throttled to seconds), and must not finish the scenes meanwhile.
    stack.simulator.control.setFaults({ latencyMs: 1000 });

    const cancel = await api.request<{ status: string; statusUrl: string }>(
      'POST',
      `/api/sync/runs/${encodeURIComponent(first.body.runId)}/cancel`,
    );
    expect(cancel.status).toBe(202);
    expect(cancel.body).toMatchObject({
      runId: first.body.runId,
      status: 'cancelling',
      statusUrl: first.body.statusUrl,
    });
    const cancelled = await waitFor(async () => {
      const response = await api.request<RunBody>('GET', first.body.statusUrl);
      return response.body.run.status === 'cancelled' ? response.body : undefined;
    });
    expect(cancelled.run.status).toBe('cancelled');
    expect((await api.request('POST', `${first.body.statusUrl}/cancel`)).status).toBe(409);

    // Completed pages stay committed: scenes are in the mirror and the cursor waits for the next run.
    const keptSeq = await cursorSeq();
    expect(keptSeq).toBeGreaterThanOrEqual(3);
    const [kept] = await sql`select count(*)::int as n from scenes`;
    expect(kept?.n).toBeGreaterThan(0);
    expect(kept?.n).toBeLessThan(library.scenes.size);

    stack.simulator.control.setFaults({ latencyMs: 20 });
    const second = await api.request<Started>('POST', '/api/sync/full');
    expect(second.status).toBe(202);
    // The new run takes the interrupted walks over: their page sequences continue, never restart.
    const resumed = await waitFor(async () => {
      const [row] = await sql`
        select count(*)::int as walks, coalesce(sum(seq), 0)::int as seq from sync_walks
        where entity_type = 'scene' and sync_type = 'full' and phase = 'walk' and run_id = ${second.body.runId}`;
      return Number(row?.walks ?? 0) > 0 ? { seq: Number(row?.seq ?? 0) } : undefined;
    }, 180_000);
    expect(resumed.seq).toBeGreaterThanOrEqual(keptSeq);
    stack.simulator.control.clearFaults();

    const done = await waitFor(async () => {
      const response = await api.request<RunBody>('GET', second.body.statusUrl);
      return response.body.run.status === 'running' ? undefined : response.body;
    }, 240_000);
    expect(done.run.status).toBe('completed');
    const created = await sql`
      select run_id, count(*)::int as n from sync_log
      where entity_type = 'scene' and change_type = 'created' group by run_id`;
    const byRun = Object.fromEntries(created.map((row) => [row.run_id as string, row.n as number]));
    expect(byRun[first.body.runId]).toBe(kept?.n);
    // Fewer scenes fetched anew than a fresh sync would, and together they make the whole library.
    expect(byRun[second.body.runId]).toBeLessThan(library.scenes.size);
    expect((byRun[first.body.runId] ?? 0) + (byRun[second.body.runId] ?? 0)).toBe(library.scenes.size);
    const { diffMirror } = await import('../support/compare.js');
    expect(await diffMirror(sql, stack.simulator, stack.stashUrl)).toEqual([]);
  }, 400_000);
});
