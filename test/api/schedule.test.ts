import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, type TestStack } from '../support/stack.js';
import { type ApiServer, startApi, waitFor } from './support.js';

interface Schedule {
  scheduleId: string;
  intervalSeconds: number | null;
  cron: string | null;
  paused: boolean;
  nextRuns: string[];
}

describe('the smart-sync schedule over HTTP', () => {
  let stack: TestStack;
  let api: ApiServer;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 12, scale: 'tiny' });
    await stack.startWorker({ pageSize: 10 });
    api = await startApi(stack);
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it('is 404 before it exists; refuses bad specs with 400 naming the field', async () => {
    expect((await api.request('GET', '/api/sync/schedule')).status).toBe(404);
    expect((await api.request('POST', '/api/sync/schedule/trigger')).status).toBe(404);
    const cases: Array<[unknown, string]> = [
      [{ intervalSeconds: 5 }, 'intervalSeconds'],
      [{ intervalSeconds: 1.5 }, 'intervalSeconds'],
      [{ intervalSeconds: '300' }, 'intervalSeconds'],
      [{ cron: '61 * * * *' }, 'cron'],
      [{ cron: '* * *' }, 'cron'],
      [{ cron: '0 3 * * MON-XYZ' }, 'cron'],
      [{ cron: '*/0 * * * *' }, 'cron'],
      [{ cron: '0 3 * * *', intervalSeconds: 600 }, 'cron'],
      [{ paused: 'yes' }, 'paused'],
      [{ every: 300 }, 'every'],
      [{ paused: true }, 'intervalSeconds'],
    ];
    for (const [body, field] of cases) {
      const response = await api.request('PUT', '/api/sync/schedule', { body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toEqual({ error: expect.stringContaining(field), field });
    }
    expect((await api.request('GET', '/api/sync/schedule')).status).toBe(404);
  });

  it('creates and updates the schedule: interval, cron, pause', async () => {
    const created = await api.request<Schedule>('PUT', '/api/sync/schedule', {
      body: { intervalSeconds: 3600, paused: true },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      scheduleId: `${stack.workflowId}-smart-schedule`,
      intervalSeconds: 3600,
      cron: null,
      paused: true,
    });
    const read = await api.request<Schedule>('GET', '/api/sync/schedule');
    expect(read.body).toMatchObject({ intervalSeconds: 3600, paused: true });

    const cron = await api.request<Schedule>('PUT', '/api/sync/schedule', { body: { cron: '15 3 * * MON-FRI' } });
    expect(cron.body).toMatchObject({ cron: '15 3 * * MON-FRI', paused: true });
    const resumed = await api.request<Schedule>('PUT', '/api/sync/schedule', { body: { paused: false } });
    expect(resumed.body).toMatchObject({ cron: '15 3 * * MON-FRI', paused: false });
    expect(resumed.body.nextRuns.length).toBeGreaterThan(0);

    const status = await api.request<{ schedule: Schedule }>('GET', '/api/sync/status');
    expect(status.body.schedule).toMatchObject({ cron: '15 3 * * MON-FRI', paused: false });
  });

  it('triggers a smart sync now, and refuses while another sync runs', async () => {
    const updated = await api.request<Schedule>('PUT', '/api/sync/schedule', {
      body: { intervalSeconds: 3600, paused: false },
    });
    expect(updated.body).toMatchObject({ intervalSeconds: 3600, cron: null });
    const triggered = await api.request('POST', '/api/sync/schedule/trigger');
    expect(triggered.status).toBe(202);
    expect(triggered.body).toMatchObject({ triggered: true, scheduleId: `${stack.workflowId}-smart-schedule` });
    const smart = await waitFor(async () => {
      const response = await api.request<{ runs: Array<{ id: string; trigger: string; status: string }> }>(
        'GET',
        '/api/sync/runs?type=smart&status=completed',
      );
      return response.body.runs.find((run) => run.trigger === 'schedule');
    });
    expect(smart.id.startsWith(`${stack.workflowId}/`)).toBe(true);
    await stack.client.workflow
      .getHandle(stack.workflowId)
      .result()
      .catch(() => {});

    stack.simulator.control.setFaults({ latencyMs: 100 });
    const full = await api.request<{ runId: string }>('POST', '/api/sync/full');
    expect(full.status).toBe(202);
    const busy = await api.request('POST', '/api/sync/schedule/trigger');
    expect(busy.status).toBe(409);
    expect(busy.body).toEqual({ error: 'another sync is already running', runningRunId: full.body.runId });
    stack.simulator.control.clearFaults();
    await stack.client.workflow
      .getHandle(stack.workflowId)
      .result()
      .catch(() => {});
  });
});
