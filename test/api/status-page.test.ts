import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../api/status-page/page.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { type ApiServer, startApi } from './support.js';

/** The page over HTTP; what it does in a browser is test/browser/status-page.test.ts. */
describe('the status page route', () => {
  let stack: TestStack;
  let api: ApiServer;
  beforeAll(async () => {
    stack = await createTestStack({ seed: 4, scale: 'tiny' });
    api = await startApi(stack, { apiToken: 'status-page-token' });
  });
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it('serves the page and its files without the token, same-origin only', async () => {
    const page = await api.request<string>('GET', '/', { token: null });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.body).toContain('<select id="history-type">');
    expect(page.body).toContain('data-plural="galleries"');
    expect(page.body).not.toMatch(/<script>|style="|https?:\/\//);

    for (const [file, type] of [
      ['status.js', 'text/javascript'],
      ['api.js', 'text/javascript'],
      ['dom.js', 'text/javascript'],
      ['status.css', 'text/css'],
    ]) {
      const asset = await api.request('GET', `/status/assets/${file}`, { token: null });
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('content-type')).toContain(type);
    }
    for (const file of ['page.ts', '..%2Fpage.ts', 'constructor']) {
      expect((await api.request('GET', `/status/assets/${file}`, { token: null })).status, file).toBe(404);
    }
    // The data stays behind the token.
    expect((await api.request('GET', '/api/sync/status', { token: null })).status).toBe(401);
  });

  it('escapes text for HTML', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
