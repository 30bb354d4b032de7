/**
 * Chaos cases 5 and 12 (secrets) of issue 13: Stash refusing the key fails a run at once and says
 * so without the key; the API key and API_TOKEN appear nowhere a run leaves traces.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ApiServer, startApi, waitFor } from '../api/support.js';
import { createTestStack, type TestStack } from '../support/stack.js';

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

/** The history of every execution a sync run started (its chain), as JSON text. */
async function historiesOf(stack: TestStack): Promise<string[]> {
  const runs = await stack.db.sql`select workflow_id, temporal_run_id from sync_runs`;
  const histories: string[] = [];
  for (const run of runs) {
    for (let runId: string | undefined = String(run.temporal_run_id); runId; ) {
      const history = await stack.client.workflow.getHandle(String(run.workflow_id), runId).fetchHistory();
      histories.push(JSON.stringify(history));
      runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
  }
  return histories;
}

/** Every row of the bookkeeping tables, as JSON text. */
async function bookkeepingRows(stack: TestStack): Promise<string[]> {
  const rows: string[] = [];
  for (const table of ['sync_runs', 'sync_log', 'sync_state', 'sync_walks']) {
    const found = await stack.db.sql`select row_to_json(t)::text as row from ${stack.db.sql(table)} t`;
    rows.push(...found.map((row) => String(row.row)));
  }
  return rows;
}

/** What this process writes to stdout and stderr meanwhile (the worker logs through them). */
function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const originals = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };
  const tap =
    (original: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    };
  process.stdout.write = tap(originals.out) as typeof process.stdout.write;
  process.stderr.write = tap(originals.err) as typeof process.stderr.write;
  return {
    text: () => chunks.join(''),
    restore: () => {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
}

describe('Stash answers 401 (chaos case 5)', () => {
  const rightKey = secret('right-key');
  const wrongKey = secret('wrong-key');
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 51, scale: 'tiny', apiKey: rightKey });
    await stack.startWorker({ pageSize: 10, apiKey: wrongKey });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('fails the run at once, without retrying, saying the key is wrong and not what it is', async () => {
    const started = Date.now();
    const run = await stack.startFull();
    await expect(run.result()).rejects.toThrow();
    // Retrying a 401 would take minutes (the page activities' backoff); refusing takes seconds.
    expect(Date.now() - started).toBeLessThan(30_000);

    const [row] = await stack.db.sql`select status, error from sync_runs where id = ${run.syncRunId}`;
    expect(row?.status).toBe('failed');
    expect(String(row?.error)).toMatch(/STASH_API_KEY/);

    const history = await stack.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const failures = (history.events ?? []).flatMap((event) => {
      const failed = event.activityTaskFailedEventAttributes;
      return failed ? [failed] : [];
    });
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure.failure?.applicationFailureInfo?.nonRetryable).toBe(true);
      expect(failure.failure?.applicationFailureInfo?.type).toBe('StashAuthError');
    }
    // Each failed activity ran once: no attempt beyond the first.
    const attempts = (history.events ?? []).flatMap((event) =>
      event.activityTaskStartedEventAttributes ? [event.activityTaskStartedEventAttributes.attempt ?? 1] : [],
    );
    expect(Math.max(...attempts)).toBe(1);

    const traces = [...(await historiesOf(stack)), ...(await bookkeepingRows(stack))].join('\n');
    expect(traces).not.toContain(wrongKey);
    expect(traces).not.toContain(rightKey);
  });
});

describe('secrets stay out of every trace a run leaves (chaos case 12)', () => {
  const apiKey = secret('stash-key');
  const apiToken = secret('api-token');
  let stack: TestStack;
  let api: ApiServer;
  let output: ReturnType<typeof captureOutput>;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 52, scale: 'tiny', apiKey });
    await stack.startWorker({ pageSize: 10 });
    api = await startApi(stack, { apiToken });
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });
  beforeEach(() => {
    output = captureOutput();
  });
  afterEach(() => {
    output.restore();
  });

  it('keeps the Stash API key and API_TOKEN out of histories, logs, bookkeeping rows and API answers', async () => {
    const answers: string[] = [];
    const call = async (method: string, path: string, token?: string | null) => {
      const response = await api.request<unknown>(method, path, token === undefined ? {} : { token });
      answers.push(`${method} ${path} ${response.status} ${JSON.stringify(response.body)}`);
      return response;
    };
    const ended = (statusUrl: string) =>
      waitFor(async () => {
        const { body } = await call('GET', statusUrl);
        const status = (body as { run?: { status?: string } }).run?.status;
        return status && status !== 'running' ? status : undefined;
      }, 120_000);

    const full = await call('POST', '/api/sync/full');
    expect(full.status).toBe(202);
    expect(await ended((full.body as { statusUrl: string }).statusUrl)).toBe('completed');
    const sceneId = [...stack.simulator.library.scenes.keys()][0] as number;
    const entity = await call('POST', `/api/sync/scene/${sceneId}`);
    expect(entity.status).toBe(202);
    expect(await ended((entity.body as { statusUrl: string }).statusUrl)).toBe('completed');
    const smart = await call('POST', '/api/sync/smart');
    expect(smart.status).toBe(202);
    expect(await ended((smart.body as { statusUrl: string }).statusUrl)).toBe('completed');

    for (const path of ['/api/sync/status', '/api/sync/runs', '/api/sync/schedule', '/metrics', '/healthz', '/']) {
      await call('GET', path);
    }
    // A wrong token that contains the right one: the refusal must not echo what it was given.
    expect((await call('GET', '/api/sync/status', `${apiToken}x`)).status).toBe(401);

    const traces = {
      'API answers': answers.join('\n'),
      'API logs': api.logs.join('\n'),
      'process output (worker and SDK logs)': output.text(),
      'workflow histories': (await historiesOf(stack)).join('\n'),
      'sync_runs, sync_log, sync_state, sync_walks': (await bookkeepingRows(stack)).join('\n'),
    };
    expect(traces['workflow histories'].length).toBeGreaterThan(1000);
    expect(traces['sync_runs, sync_log, sync_state, sync_walks']).toContain('"change_type"');
    for (const [where, text] of Object.entries(traces)) {
      expect(text.includes(apiKey), `the Stash API key in ${where}`).toBe(false);
      expect(text.includes(apiToken), `API_TOKEN in ${where}`).toBe(false);
    }
  });
});
