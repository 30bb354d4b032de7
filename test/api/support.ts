import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import pino from 'pino';
import { createApiApp } from '../../api/app.js';
import type { Sql } from '../../db/client.js';
import type { TestStack } from '../support/stack.js';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export interface ApiServer {
  url: string;
  /** Every log line the API wrote (JSON strings). */
  logs: string[];
  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { body?: unknown; rawBody?: string; headers?: Record<string, string>; token?: string | null },
  ): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

export interface ApiOptions {
  apiToken?: string;
  sseIntervalMs?: number;
  temporalUiUrl?: string;
  /** The API's pool (default: the stack's, the database owner's); e.g. a login in stash_mirror_api. */
  sql?: Sql;
}

/** The API over real HTTP on a free loopback port, wired to a test stack's database and Temporal. */
export async function startApi(stack: TestStack, options: ApiOptions = {}): Promise<ApiServer> {
  const logs: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  const app = createApiApp({
    sql: options.sql ?? stack.db.sql,
    temporal: stack.client,
    taskQueue: stack.taskQueue,
    workflowId: stack.workflowId,
    apiToken: options.apiToken,
    temporalUiUrl: options.temporalUiUrl ?? 'http://127.0.0.1:8233',
    logger,
    sseIntervalMs: options.sseIntervalMs ?? 250,
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    logs,
    async request(method, path, requestOptions = {}) {
      const headers: Record<string, string> = { ...requestOptions.headers };
      const token = requestOptions.token === undefined ? options.apiToken : requestOptions.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body: string | undefined = requestOptions.rawBody;
      if (requestOptions.body !== undefined) {
        body = JSON.stringify(requestOptions.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(`${url}${path}`, { method, headers, body, signal: AbortSignal.timeout(60_000) });
      const text = await response.text();
      let parsed: unknown = text;
      if (response.headers.get('content-type')?.includes('json')) parsed = text ? JSON.parse(text) : null;
      return { status: response.status, body: parsed as never, headers: response.headers };
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // SSE clients may still hold connections open.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    },
  };
}

export async function waitFor<T>(read: () => Promise<T | undefined | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface SseEvent {
  event: string;
  id: string | undefined;
  data: unknown;
}

/** Reads a Server-Sent Events stream to its end (or the timeout) and returns its events. */
export async function readEvents(url: string, headers: Record<string, string> = {}, timeoutMs = 120_000) {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  const events: SseEvent[] = [];
  if (!response.body) return { response, events };
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const key = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        fields[key] = key in fields ? `${fields[key]}\n${value}` : value;
      }
      if (fields.data !== undefined) {
        events.push({ event: fields.event ?? 'message', id: fields.id, data: JSON.parse(fields.data) });
      }
      end = buffer.indexOf('\n\n');
    }
  }
  return { response, events };
}
