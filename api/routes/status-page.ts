import { readFile } from 'node:fs/promises';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../context.js';
import { statusPageHtml } from '../status-page/page.js';

/** The page's own files (api/status-page/assets/), served from disk: no build step, no CDN. */
const ASSETS: Record<string, string> = {
  'status.js': 'text/javascript; charset=utf-8',
  'api.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'status.css': 'text/css; charset=utf-8',
};

/** Everything the page loads is its own: no inline script or style, no other origin. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * `GET /`: the status page (current run with live progress, last runs, per-type state, schedule,
 * an entity's history). Open like /docs: it holds no data; its script calls /api with the token.
 */
export function registerStatusPageRoutes(app: OpenAPIHono<AppEnv>): void {
  const page = statusPageHtml();
  app.get('/', (c) => c.html(page, 200, { 'Content-Security-Policy': CONTENT_SECURITY_POLICY }));

  const cache = new Map<string, string>();
  app.get('/status/assets/:file', async (c) => {
    const file = c.req.param('file');
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) return c.json({ error: 'not found' }, 404);
    let content = cache.get(file);
    if (content === undefined) {
      content = await readFile(new URL(`../status-page/assets/${file}`, import.meta.url), 'utf8');
      cache.set(file, content);
    }
    return c.body(content, 200, { 'Content-Type': type, 'Cache-Control': 'no-cache' });
  });
}
