import { StashEndpointError } from './errors.js';

/**
 * Where STASH_URL leads, and how to tell when it leads somewhere that is not Stash's GraphQL
 * endpoint. The one home of "base URL or /graphql endpoint": the client and the CLI use it.
 */

const GRAPHQL_PATH = '/graphql';

/**
 * The GraphQL endpoint for STASH_URL in either common form: `http://host:9999`, `…/`,
 * `…/graphql` and `…/graphql/` all give `http://host:9999/graphql`. A path prefix (Stash behind a
 * reverse proxy) is kept: `http://host/stash` gives `http://host/stash/graphql`. A query string
 * (e.g. `?apikey=`) is kept; a fragment is dropped.
 */
export function stashEndpoint(url: string): string {
  const parsed = parseStashUrl(url);
  const path = parsed.pathname.replace(/\/+$/, '');
  parsed.pathname = path.endsWith(GRAPHQL_PATH) ? path : `${path}${GRAPHQL_PATH}`;
  parsed.hash = '';
  return parsed.toString();
}

/** A URL fit for messages: an `apikey` query parameter and a password are masked; else unchanged. */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(not a URL)';
  }
  const keys = [...parsed.searchParams.keys()].filter((name) => name.toLowerCase() === 'apikey');
  if (!parsed.password && keys.length === 0) return url;
  if (parsed.password) parsed.password = '***';
  for (const name of keys) parsed.searchParams.set(name, '***');
  return parsed.toString();
}

/** Nothing answers POST at this path: the status alone says the URL is wrong. */
const isNoSuchEndpoint = (status: number) => status === 404 || status === 405;

/**
 * Statuses that say nothing about the URL itself: auth (401/403), overload and timeouts
 * (408/429) and every 5xx (a proxy whose upstream is restarting answers 502 with an HTML page).
 */
function isTransientOrAuth(status: number): boolean {
  return status === 401 || status === 403 || status === 408 || status === 429 || status >= 500;
}

const isJsonType = (contentType: string) => /\bjson\b|\+json/i.test(contentType);

/**
 * Why an HTTP answer shows the URL is not a Stash GraphQL endpoint, or null when it may be one
 * (or the failure may pass). `body` is only needed when `answerNeedsBody` says so.
 *
 * Configuration errors: 404 and 405; a 2xx or other 4xx answer that is an HTML page, or whose
 * body is not JSON at all. Never: 5xx, 401/403/408/429, a JSON content type (a truncated body
 * from a proxy mid-restart stays retryable), an empty body (what a cut answer looks like).
 */
export function endpointProblem(status: number, contentType: string, body: string | null): string | null {
  if (isNoSuchEndpoint(status)) return `answered HTTP ${status}`;
  if (body === null || !answerNeedsBody(status, contentType)) return null;
  const start = body.trimStart();
  if (start === '') return null;
  if (/html/i.test(contentType) || start.startsWith('<')) return `answered HTTP ${status} with an HTML page`;
  if (start.startsWith('{') || start.startsWith('[')) return null;
  const mediaType = contentType.split(';')[0]?.trim();
  return `answered HTTP ${status} with a ${mediaType ? `${mediaType} ` : ''}body that is not JSON`;
}

/** Whether `endpointProblem` must see the body: never for the usual JSON answer (no extra copy). */
export function answerNeedsBody(status: number, contentType: string): boolean {
  return status >= 200 && !isNoSuchEndpoint(status) && !isTransientOrAuth(status) && !isJsonType(contentType);
}

/**
 * The one-line configuration error: names STASH_URL as given (redacted), what was tried and what
 * happened, and the two forms that work. Never carries the API key or the answer's body.
 */
export function endpointError(stashUrl: string, what: string): StashEndpointError {
  const endpoint = stashEndpoint(stashUrl);
  const base = new URL(endpoint).origin;
  return new StashEndpointError(
    `STASH_URL ${redactUrl(stashUrl)}: POST ${redactUrl(endpoint)} ${what} (not a Stash GraphQL endpoint); ` +
      `set STASH_URL to Stash's base URL (e.g. ${base}) or its ${GRAPHQL_PATH} endpoint`,
  );
}

function parseStashUrl(url: string): URL {
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return parsed;
  } catch {
    // reported below
  }
  throw new StashEndpointError(`STASH_URL ${redactUrl(url)} is not an http(s) URL such as http://127.0.0.1:9999`);
}
