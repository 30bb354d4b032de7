import { ClientError, GraphQLClient } from 'graphql-request';
import { StashAuthError, StashNotFoundError, StashQueryError, StashUnavailableError } from './errors.js';

export interface StashClientOptions {
  /** Base URL of the Stash server, e.g. http://127.0.0.1:9999 (the client appends /graphql). */
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
  const endpoint = `${options.url.replace(/\/+$/, '')}/graphql`;
  const headers: Record<string, string> = {};
  if (options.apiKey) headers.ApiKey = options.apiKey;
  const client = new GraphQLClient(endpoint, { headers });
  const timeoutMs = options.timeoutMs ?? 60_000;

  return {
    async request<T>(query: string, variables: Record<string, unknown>, requestOptions: StashRequestOptions = {}) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = requestOptions.signal ? AbortSignal.any([requestOptions.signal, timeout]) : timeout;
      try {
        return await client.request<T>({ document: query, variables, signal });
      } catch (error) {
        throw classify(error, requestOptions.signal);
      }
    },
  };
}

function classify(error: unknown, callerSignal: AbortSignal | undefined): Error {
  if (callerSignal?.aborted) return error instanceof Error ? error : new Error(String(error));
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
      return new StashUnavailableError(`Stash answered HTTP ${status}`);
    }
    return new StashUnavailableError(`Stash answered with an error: ${first?.message ?? `HTTP ${status}`}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new StashUnavailableError('Stash did not answer in time');
  }
  return new StashUnavailableError(`Stash could not be reached or sent a broken answer: ${message}`);
}
