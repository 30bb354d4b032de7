import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStashClient, probeStash } from '../../stash/client.js';
import { StashEndpointError, StashUnavailableError } from '../../stash/errors.js';
import { createTestStack, type TestStack } from '../support/stack.js';

const CLI = fileURLToPath(new URL('../../bin/stash-mirror.js', import.meta.url));
const KEY = 's3cret-api-key';
const HTML = '<!doctype html><html><head><title>Stash</title></head><body><div id="root"></div></body></html>';
const VERSION = JSON.stringify({ data: { version: { version: 'v0.30.1' } } });

type Route = (response: ServerResponse) => void;
const answer =
  (status: number, contentType: string | null, body: string): Route =>
  (response) => {
    response.writeHead(status, contentType ? { 'content-type': contentType } : {});
    response.end(body);
  };

/** Web servers that are not Stash, and one that is (at the path prefix /stash). */
const ROUTES: Record<string, Route> = {
  '/stash/graphql': answer(200, 'application/json', VERSION),
  '/html/graphql': answer(200, 'text/html; charset=utf-8', HTML),
  '/text/graphql': answer(200, 'text/plain', 'OK'),
  '/bad-request/graphql': answer(400, 'text/plain', 'Bad Request'),
  '/method/graphql': answer(405, 'text/plain', 'Method Not Allowed'),
  '/other-json/graphql': answer(200, 'application/json', '{"status":"ok"}'),
  '/login': answer(200, 'text/html', HTML),
  '/redirect/graphql': (response) => {
    response.writeHead(302, { location: '/login' });
    response.end();
  },
  // Transient: a proxy whose upstream restarts, overload, a cut answer.
  '/gateway/graphql': answer(502, 'text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>'),
  '/unavailable/graphql': answer(503, 'text/plain', 'Service Unavailable'),
  '/busy/graphql': answer(429, 'text/plain', 'Too Many Requests'),
  '/truncated/graphql': answer(200, 'application/json', VERSION.slice(0, 20)),
  '/empty/graphql': answer(200, null, ''),
  '/slow/graphql': (response) => {
    setTimeout(() => answer(200, 'application/json', VERSION)(response), 2_000);
  },
};

async function listen(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<Server> {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

function clientFor(url: string) {
  return createStashClient({ url, apiKey: KEY, timeoutMs: 500 });
}

/** The probe's error, and how long it took to come. */
async function probeError(url: string): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await probeStash(clientFor(url)).then(
    () => null,
    (thrown: unknown) => thrown,
  );
  return { error, ms: Date.now() - started };
}

/** The Temporal failure type at the bottom of a workflow failure's cause chain. */
function innermostFailure(error: unknown): { type?: string; nonRetryable?: boolean; message: string } {
  let current = error as Error & { cause?: unknown };
  while (current.cause instanceof Error) current = current.cause as Error & { cause?: unknown };
  return current as Error & { type?: string; nonRetryable?: boolean };
}

describe('STASH_URL against web servers that are not Stash', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = await listen((request, response) => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      (ROUTES[path] ?? answer(404, 'text/plain', '404 page not found'))(response);
    });
    base = urlOf(server);
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each(['/stash', '/stash/', '/stash/graphql', '/stash/graphql/'])('reaches Stash at %s', async (path) => {
    expect(await probeStash(clientFor(`${base}${path}`))).toBe('v0.30.1');
  });

  it.each([
    ['/nope', /\/nope\/graphql\?apikey=\*\*\* answered HTTP 404 \(not a Stash GraphQL endpoint\)/],
    ['/method', /answered HTTP 405 \(/],
    ['/html', /answered HTTP 200 with an HTML page \(/],
    [
      '/redirect/graphql',
      /answered HTTP 200 with an HTML page after a redirect to http:\/\/127\.0\.0\.1:\d+\/login \(/,
    ],
    ['/text', /answered HTTP 200 with a text\/plain body that is not JSON \(/],
    ['/bad-request', /answered HTTP 400 with a text\/plain body that is not JSON \(/],
    ['/other-json', /answered with JSON that is not a GraphQL response \(/],
  ])('%s is a configuration error: at once, non-retryable, one line naming STASH_URL', async (path, what) => {
    const url = `${base}${path}?apikey=${KEY}`;
    const { error, ms } = await probeError(url);
    expect(error).toBeInstanceOf(StashEndpointError);
    const { message, retryable } = error as StashEndpointError;
    expect(retryable).toBe(false);
    expect(message).toMatch(new RegExp(`^STASH_URL ${base}${path}\\?apikey=\\*\\*\\*: POST ${base}/`));
    expect(message).toMatch(what);
    expect(message).toMatch(
      /set STASH_URL to Stash's base URL \(e\.g\. http:\/\/127\.0\.0\.1:\d+\) or its \/graphql endpoint$/,
    );
    expect(message).not.toContain(KEY);
    expect(message).not.toMatch(/\n|<html|Bad Request/);
    expect(ms).toBeLessThan(10_000);
  });

  it.each([
    ['/gateway', /HTTP 502/],
    ['/unavailable', /HTTP 503/],
    ['/busy', /HTTP 429/],
    ['/truncated', /broken answer/],
    ['/empty', /broken answer/],
    ['/slow', /did not answer in time/],
  ])('%s stays a transient, retryable failure', async (path, what) => {
    const { error } = await probeError(`${base}${path}`);
    expect(error).toBeInstanceOf(StashUnavailableError);
    expect((error as StashUnavailableError).retryable).toBe(true);
    expect((error as Error).message).toMatch(what);
  });

  it('a refused connection stays a transient, retryable failure', async () => {
    const closed = await listen(() => {});
    const url = urlOf(closed);
    await new Promise((resolve) => closed.close(resolve));
    const { error } = await probeError(url);
    expect(error).toBeInstanceOf(StashUnavailableError);
  });

  it.each(['worker', 'dev'])('`%s` with a wrong STASH_URL exits 78 with that one line', async (command) => {
    const started = Date.now();
    const child = spawn(process.execPath, [CLI, command], {
      env: { ...process.env, STASH_URL: `${base}/nope`, STASH_API_KEY: KEY, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += String(chunk);
    });
    child.stdout.resume();
    const [code] = await once(child, 'exit');
    expect(code).toBe(78);
    expect(stderr).toMatch(
      new RegExp(`^stash-mirror: STASH_URL ${base}/nope: POST ${base}/nope/graphql answered HTTP 404 .*\\n$`),
    );
    expect(stderr).not.toContain(KEY);
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe('a full sync with STASH_URL in either form', () => {
  let stack: TestStack;
  let htmlServer: Server;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 3, scale: 'tiny' });
    htmlServer = await listen((_request, response) => answer(200, 'text/html', HTML)(response));
  });
  afterAll(async () => {
    await stack?.close();
    htmlServer?.closeAllConnections();
    await new Promise((resolve) => htmlServer?.close(resolve));
  });

  it.each(['', '/graphql'])('completes with STASH_URL = <base>%s', async (suffix) => {
    await stack.startWorker({ pageSize: 10, stashUrl: `${stack.stashUrl}${suffix}` });
    try {
      const summary = await (await stack.startFull()).result();
      expect(summary.status).toBe('completed');
      const [row] = await stack.db.sql`select count(*)::int as n from scenes where deleted_at is null`;
      expect(row?.n).toBe(stack.simulator.library.scenes.size);
    } finally {
      await stack.stopWorker();
    }
  });

  it.each([
    ['a wrong path', () => `${stack.stashUrl}/nope`, /answered HTTP 404 \(not a Stash GraphQL endpoint\)/],
    ['an HTML page', () => urlOf(htmlServer), /answered HTTP 200 with an HTML page \(not a Stash GraphQL endpoint\)/],
  ])('%s fails the run in seconds, non-retryable, with the message naming STASH_URL', async (_name, url, what) => {
    const stashUrl = url();
    await stack.startWorker({ pageSize: 10, stashUrl });
    try {
      const begun = Date.now();
      const started = await stack.startFull();
      const error = await started.result().then(
        () => null,
        (thrown: unknown) => thrown,
      );
      expect(Date.now() - begun).toBeLessThan(10_000);
      expect(innermostFailure(error)).toMatchObject({ type: 'StashEndpointError', nonRetryable: true });
      const [run] = await stack.db.sql`select status, error from sync_runs where id = ${started.syncRunId}`;
      expect(run?.status).toBe('failed');
      expect(run?.error).toMatch(new RegExp(`^STASH_URL ${stashUrl}: POST ${stashUrl}/graphql `));
      expect(run?.error).toMatch(what);
    } finally {
      await stack.stopWorker();
    }
  });
});
