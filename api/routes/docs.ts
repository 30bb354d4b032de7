import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../context.js';

/** Swagger UI's files come from the swagger-ui-dist package: /docs works offline, no CDN. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>stash-mirror API</title>
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script src="docs/assets/init.js"></script>
</body>
</html>
`;

// Relative URLs, so the page also works behind a reverse proxy that mounts the API under a prefix.
const INIT = `window.ui = SwaggerUIBundle({ url: './openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });\n`;

function assetDirectory(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

export function registerDocsRoutes(app: OpenAPIHono<AppEnv>): void {
  let document: unknown;
  app.get('/openapi.json', (c) => {
    document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: 'stash-mirror API',
        version: '1',
        description:
          'Start, watch, cancel and schedule syncs of a Stash library into PostgreSQL; read the mirror with Stash-style filters. Every /api route needs `Authorization: Bearer <API_TOKEN>` when API_TOKEN is set.',
      },
      tags: [
        { name: 'sync', description: 'start syncs and see what runs' },
        { name: 'runs', description: 'sync history, cancel, live events, per-scene logs' },
        { name: 'schedule', description: 'the smart-sync Temporal Schedule' },
        { name: 'library', description: 'the mirror, queried like Stash' },
        { name: 'operations', description: 'health, readiness, metrics' },
      ],
    });
    return c.json(document);
  });

  app.get('/docs', (c) => c.html(PAGE));
  const cache = new Map<string, Uint8Array<ArrayBuffer>>();
  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    if (file === 'init.js') return c.body(INIT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) return c.json({ error: 'not found' }, 404);
    let content = cache.get(file);
    if (!content) {
      content = new Uint8Array(await readFile(join(assetDirectory(), file)));
      cache.set(file, content);
    }
    return c.body(content, 200, { 'Content-Type': type, 'Cache-Control': 'public, max-age=86400' });
  });
}
