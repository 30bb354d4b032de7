import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../api/app.js';
import { connect } from '../../db/client.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { API_ROUTES } from './routes.js';
import { type ApiServer, startApi } from './support.js';

const TOKEN = 'test-token-5b1e9c';

describe('operations, docs, auth and error hygiene', () => {
  let stack: TestStack;
  let api: ApiServer;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 3, scale: 'tiny' });
    await stack.startWorker({ pageSize: 10 });
    await (await stack.startFull()).result();
    api = await startApi(stack, { apiToken: TOKEN });
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it('answers /healthz and /readyz without a token, with a request id', async () => {
    const health = await api.request('GET', '/healthz', { token: null });
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: 'ok' });
    expect(health.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const ready = await api.request('GET', '/readyz', { token: null, headers: { 'x-request-id': 'probe-42' } });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: true, temporal: true } });
    expect(ready.headers.get('x-request-id')).toBe('probe-42');
    // A request id with characters that could forge log lines is replaced, not echoed.
    const forged = await api.request('GET', '/healthz', { headers: { 'x-request-id': 'a"}\\n{"x' } });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('says not ready when PostgreSQL is unreachable', async () => {
    const dead = connect('postgres://nobody@127.0.0.1:1/none', { max: 1 });
    const app = createApiApp({
      sql: dead,
      temporal: stack.client,
      taskQueue: stack.taskQueue,
      workflowId: stack.workflowId,
      logger: pino({ level: 'silent' }),
    });
    const response = await app.request('/readyz');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'unavailable', checks: { postgres: false, temporal: true } });
    await dead.end({ timeout: 1 });
  });

  it('answers 503 when Temporal is unreachable', async () => {
    const { Client, Connection } = await import('@temporalio/client');
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const app = createApiApp({
      sql: stack.db.sql,
      temporal: new Client({ connection }),
      taskQueue: stack.taskQueue,
      workflowId: stack.workflowId,
      logger: pino({ level: 'silent' }),
    });
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable', checks: { postgres: true, temporal: false } });
    const start = await app.request('/api/sync/full', { method: 'POST', headers: { 'x-request-id': 'no-temporal' } });
    expect(start.status).toBe(503);
    expect(await start.json()).toEqual({ error: 'temporal unavailable', requestId: 'no-temporal' });
    // Reads of the mirror do not need Temporal.
    expect((await app.request('/api/library/tags', { method: 'POST' })).status).toBe(200);
    await connection.close().catch(() => {});
  }, 60_000);

  it('serves Prometheus metrics from sync_runs and its own request latency', async () => {
    await api.request('GET', '/api/sync/runs');
    const response = await api.request<string>('GET', '/metrics', { token: null });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = response.body;
    expect(text).toMatch(/stash_mirror_sync_runs\{type="full",status="completed"\} 1/);
    const scenes = stack.simulator.library.scenes.size;
    expect(text).toContain(`stash_mirror_entities_synced{entity_type="scene",outcome="created"} ${scenes}`);
    expect(text).toMatch(/stash_mirror_sync_duration_seconds_count\{type="full",status="completed"\} 1/);
    expect(text).toMatch(
      /stash_mirror_http_request_duration_seconds_count\{method="GET",route="\/api\/sync\/runs",status="200"\} 1/,
    );
  });

  it('publishes an OpenAPI 3.1 document of every route and offline Swagger UI at /docs', async () => {
    const response = await api.request<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(
      'GET',
      '/openapi.json',
      { token: null },
    );
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    const documented = Object.entries(response.body.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    for (const route of API_ROUTES) {
      const template = route.path
        .replace(/\/runs\/some-run/, '/runs/{runId}')
        .replace(/\/sync\/scene\/1$/, '/sync/{entityType}/{id}')
        .replace(/\?.*$/, '')
        .replace(/\/hidden\/scene\/1$/, '/hidden/{entityType}/{entityId}')
        .replace(/\/\d+(\/|$)/, '/{id}$1');
      expect(documented).toContain(`${route.method} ${template}`);
    }
    for (const path of ['/healthz', '/readyz', '/metrics']) expect(documented).toContain(`GET ${path}`);

    const page = await api.request<string>('GET', '/docs', { token: null });
    expect(page.status).toBe(200);
    expect(page.body).toContain('swagger-ui-bundle.js');
    expect(page.body).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${api.url}/docs/assets/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toMatch(/javascript/);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    expect((await fetch(`${api.url}/docs/assets/init.js`)).status).toBe(200);
    expect((await fetch(`${api.url}/docs/assets/constructor`)).status).toBe(404);
    expect((await fetch(`${api.url}/docs/assets/..%2Fpackage.json`)).status).toBe(404);
  });

  it('requires the bearer token on every /api route and says so in JSON', async () => {
    for (const route of API_ROUTES) {
      for (const token of [null, 'wrong-token']) {
        const response = await api.request(route.method, route.path, { token, body: route.body });
        expect(response.status, `${route.method} ${route.path}`).toBe(401);
        expect(response.body).toEqual({ error: expect.stringContaining('unauthorized') });
        expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    const basic = await api.request('GET', '/api/sync/runs', {
      token: null,
      headers: { authorization: `Basic ${TOKEN}` },
    });
    expect(basic.status).toBe(401);
    expect((await api.request('GET', '/api/sync/runs')).status).toBe(200);
    expect(api.logs.join('\n')).not.toContain(TOKEN);
  });

  it('answers unknown routes with 404 JSON', async () => {
    const unknown = await api.request('GET', '/nope', { token: null });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ error: 'no route GET /nope' });
    const unknownApi = await api.request('DELETE', '/api/sync/full');
    expect(unknownApi.status).toBe(404);
    expect(unknownApi.body).toMatchObject({ error: expect.any(String) });
  });

  it('answers 500 with a request id only: no SQL, stack or connection details', async () => {
    const dead = connect('postgres://secret-user:secret-pass@127.0.0.1:1/none', { max: 1 });
    const logs: string[] = [];
    const app = createApiApp({
      sql: dead,
      temporal: stack.client,
      taskQueue: stack.taskQueue,
      workflowId: stack.workflowId,
      logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }),
    });
    const response = await app.request('/api/library/scenes', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'fail-1' },
      body: '{}',
    });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: 'internal error', requestId: 'fail-1' });
    expect(logs.some((line) => line.includes('"requestId":"fail-1"') && line.includes('request failed'))).toBe(true);
    await dead.end({ timeout: 1 });
  });

  it('refuses malformed JSON, wrong media types and oversized bodies with 4xx JSON', async () => {
    const malformed = await api.request('POST', '/api/library/scenes', {
      rawBody: '{"filter": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ error: 'body: malformed JSON', field: 'body' });
    const text = await api.request('POST', '/api/library/scenes', {
      rawBody: 'filter=1',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ field: 'body' });
    const huge = await api.request('POST', '/api/library/scenes', { body: { filter: { q: 'x'.repeat(300_000) } } });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ field: 'body' });
  });
});
