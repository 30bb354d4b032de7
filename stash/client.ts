import { ClientError, GraphQLClient } from 'graphql-request';
import { answerNeedsBody, endpointError, endpointProblem, redactUrl, stashEndpoint } from './endpoint.js';
import { StashAuthError, StashError, StashNotFoundError, StashQueryError, StashUnavailableError } from './errors.js';
import { versionQuery } from './queries.js';

export interface StashClientOptions {
  /** STASH_URL: Stash's base URL (http://127.0.0.1:9999) or its endpoint (…/graphql); see stashEndpoint. */
  url: string;
  apiKey?: string | undefined;
  /** Per-request timeout. */
  timeoutMs?: number;
}

export interface StashRequestOptions {
  signal?: AbortSignal | undefined;
}

/** The only way the mirror talks to Stash: read-only GraphQL queries with typed error classes. */
export interface StashClient {
  request<T>(query: string, variables: Record<string, unknown>, options?: StashRequestOptions): Promise<T>;
}

const NOT_FOUND = /with id (\d+) not found/i;

export function createStashClient(options: StashClientOptions): StashClient {
  const headers: Record<string, string> = {};
  if (options.apiKey) headers.ApiKey = options.apiKey;
  const client = new GraphQLClient(stashEndpoint(options.url), { headers, fetch: endpointCheckingFetch(options.url) });
  const timeoutMs = options.timeoutMs ?? 60_000;
  // Any answer at all (an error included) shows Stash was reachable then: an outage is measured
  // from here, not from when a long activity began (stash/outage.ts).
  let lastAnswerAtMs: number | null = null;

  return {
    async request<T>(query: string, variables: Record<string, unknown>, requestOptions: StashRequestOptions = {}) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = requestOptions.signal ? AbortSignal.any([requestOptions.signal, timeout]) : timeout;
      try {
        const data = await client.request<T>({ document: query, variables, signal });
        lastAnswerAtMs = Date.now();
        // A 2xx JSON answer without `data` (or `errors`, which graphql-request throws) is some other JSON API.
        if (data === undefined) throw endpointError(options.url, 'answered with JSON that is not a GraphQL response');
        return data;
      } catch (error) {
        const classified = classify(error, requestOptions.signal, timeoutMs);
        if (classified instanceof StashUnavailableError) {
          classified.stashUrl = redactUrl(options.url);
          classified.lastAnswerAtMs = lastAnswerAtMs;
        } else if (!requestOptions.signal?.aborted) {
          lastAnswerAtMs = Date.now();
        }
        throw classified;
      }
    },
  };
}

/**
 * fetch for graphql-request that turns an answer showing STASH_URL is not a Stash GraphQL
 * endpoint (404/405, an HTML page, a body that is not JSON) into a StashEndpointError at once.
 * The usual JSON answer passes through untouched; only the rare other kind has its body read here.
 */
function endpointCheckingFetch(stashUrl: string): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const contentType = response.headers.get('content-type') ?? '';
    const body = answerNeedsBody(response.status, contentType) ? await response.text() : null;
    const problem = endpointProblem(response.status, contentType, body);
    if (problem) {
      await response.body?.cancel().catch(() => {});
      const redirected = response.redirected ? ` after a redirect to ${redactUrl(response.url)}` : '';
      throw endpointError(stashUrl, `${problem}${redirected}`);
    }
    if (body === null) return response;
    const { status, statusText, headers } = response;
    return new Response(body === '' ? null : body, { status, statusText, headers });
  };
}

/** Asks Stash for its version: one cheap query that tells at start whether STASH_URL and the key work. */
export async function probeStash(client: StashClient, options: StashRequestOptions = {}): Promise<string> {
  const data = await client.request<{ version?: { version?: string | null } }>(versionQuery(), {}, options);
  return data.version?.version ?? 'unknown version';
}

function classify(error: unknown, callerSignal: AbortSignal | undefined, timeoutMs: number): Error {
  if (callerSignal?.aborted) return error instanceof Error ? error : new Error(String(error));
  if (error instanceof StashError) return error;
  if (error instanceof ClientError) {
    const status = error.response.status;
    const first = error.response.errors?.[0];
    const code = (first?.extensions as { code?: unknown } | undefined)?.code;
    if (status === 401 || status === 403) {
      return new StashAuthError(`Stash refused the request (HTTP ${status}): check STASH_API_KEY`);
    }
    if (status === 422 || code === 'GRAPHQL_VALIDATION_FAILED') {
      return new StashQueryError(`Stash rejected the query: ${first?.message ?? `HTTP ${status}`}`);
    }
    const notFound = first?.message ? NOT_FOUND.exec(first.message) : null;
    if (notFound) return new StashNotFoundError(first?.message ?? 'not found', Number(notFound[1]));
    if (status >= 500 || status === 429 || status === 408) {
      return new StashUnavailableError(`Stash answered HTTP ${status}`, `HTTP ${status}`);
    }
    return new StashUnavailableError(`Stash answered with an error: ${first?.message ?? `HTTP ${status}`}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new StashUnavailableError('Stash did not answer in time', `no answer within ${timeoutMs / 1000} s`);
  }
  const cause = innermostCause(error);
  const detail = cause && cause !== message ? `${message} (${cause})` : message;
  return new StashUnavailableError(`Stash could not be reached or sent a broken answer: ${detail}`, cause ?? message);
}

/**
 * What actually went wrong beneath fetch's "fetch failed": `connect ECONNREFUSED 127.0.0.1:9999`,
 * `other side closed`. undici nests it in `cause`, an AggregateError when several addresses failed.
 */
function innermostCause(error: unknown): string | null {
  let current: unknown = error;
  let found: string | null = null;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (current.message) found = current.message;
    else if (typeof code === 'string') found = code;
    current = current instanceof AggregateError && current.errors.length > 0 ? current.errors[0] : current.cause;
  }
  return found;
}
