// Calls to the /api routes with the API token, and a Server-Sent Events reader over fetch
// (EventSource cannot send an Authorization header). Paths are relative, so the page also works
// behind a reverse proxy that mounts the API under a prefix.

const TOKEN_KEY = 'stash-mirror.apiToken';

/** Thrown after a 401: the page shows the token form; callers just stop. */
export class Unauthorized extends Error {
  constructor() {
    super('the API needs its token');
  }
}

let onUnauthorized = () => {};

/** What to do when an /api call answers 401 (show the token form). */
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra) {
  const token = getToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/**
 * One /api call: `{ status, body }` (body parsed when it is JSON). 401 throws Unauthorized after
 * telling the page; other statuses are the caller's to read. Bounded: 15 s.
 * @param {string} method
 * @param {string} path relative, e.g. `api/sync/status`
 * @param {unknown} [body]
 */
export async function api(method, path, body) {
  const init = { method, headers: headers({ Accept: 'application/json' }), signal: AbortSignal.timeout(15_000) };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    onUnauthorized();
    throw new Unauthorized();
  }
  const text = await response.text();
  const json = response.headers.get('content-type')?.includes('json') && text ? JSON.parse(text) : null;
  return { status: response.status, body: json };
}

/** The text of one SSE block (`event:`, `data:` lines) as `{ event, data }`, or null without data. */
function parseBlock(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
  }
  return data.length > 0 ? { event, data: JSON.parse(data.join('\n')) } : null;
}

/**
 * Reads a Server-Sent Events stream until it closes or `signal` aborts, calling
 * `onEvent(event, data)` for each event.
 */
export async function streamEvents(path, onEvent, signal) {
  const response = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal });
  if (response.status === 401) {
    onUnauthorized();
    throw new Unauthorized();
  }
  if (!response.ok || !response.body) throw new Error(`${path} answered ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer = (buffer + value).replace(/\r\n/g, '\n');
    const blocks = buffer.split('\n\n');
    buffer = blocks.pop() ?? '';
    for (const block of blocks) {
      const parsed = parseBlock(block);
      if (parsed) onEvent(parsed.event, parsed.data);
    }
  }
}
