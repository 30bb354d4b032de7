import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { type ApiDependencies, type AppEnv, resolveContext } from './context.js';
import { bearerAuth } from './middleware/auth.js';
import { errorHandler, validationHook } from './middleware/errors.js';
import { defaultLogger, requestLogger } from './middleware/logging.js';
import { createMetrics } from './middleware/metrics.js';
import { registerDocsRoutes } from './routes/docs.js';
import { registerHookRoutes } from './routes/hooks.js';
import { registerLibraryRoutes } from './routes/library.js';
import { registerOperationRoutes } from './routes/operations.js';
import { registerScheduleRoutes } from './routes/schedule.js';
import { registerStatusPageRoutes } from './routes/status-page.js';
import { registerSyncEventRoutes } from './routes/sync-events.js';
import { registerSyncLogRoutes } from './routes/sync-logs.js';
import { registerSyncRunRoutes } from './routes/sync-runs.js';
import { registerSyncStartRoutes } from './routes/sync-start.js';
import { registerSyncStatusRoutes } from './routes/sync-status.js';
import { registerUserActivityRoutes } from './routes/user-activity.js';
import { registerUserRestrictionRoutes } from './routes/user-restrictions.js';
import { registerUserRoutes } from './routes/users.js';

export type { ApiDependencies } from './context.js';
export { defaultLogger as createApiLogger } from './middleware/logging.js';

/** Request bodies are small JSON documents; anything bigger is refused before it is parsed. */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * The HTTP API (docs/api.md): sync control and history, the smart-sync schedule, library reads
 * in Stash's filter language (as a user: X-Mirror-User), users and their views, and the
 * operational endpoints. Routes are declared with zod schemas, which validate every input and
 * generate /openapi.json.
 */
export function createApiApp(deps: ApiDependencies): OpenAPIHono<AppEnv> {
  const logger = deps.logger ?? defaultLogger();
  const ctx = resolveContext(deps, logger);
  const metrics = createMetrics();
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use('*', requestId());
  app.use('*', requestLogger(logger));
  app.use('*', metrics.middleware);
  app.use(
    '/api/*',
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => c.json({ error: 'body: request body too large', field: 'body' }, 413),
    }),
  );
  if (deps.apiToken) app.use('/api/*', bearerAuth(deps.apiToken));
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'API_TOKEN (required on /api routes when the server has one)',
  });

  registerOperationRoutes(app, ctx, metrics);
  registerDocsRoutes(app);
  registerStatusPageRoutes(app);
  // Before the sync-start routes: POST /api/sync/schedule/trigger also matches
  // /api/sync/{entityType}/{id}, and Hono runs matching routes in registration order.
  registerScheduleRoutes(app, ctx);
  registerSyncStartRoutes(app, ctx);
  registerSyncStatusRoutes(app, ctx);
  registerSyncRunRoutes(app, ctx);
  registerSyncEventRoutes(app, ctx);
  registerSyncLogRoutes(app, ctx);
  registerHookRoutes(app, ctx, deps.hooks);
  registerLibraryRoutes(app, ctx);
  registerUserRoutes(app, ctx);
  registerUserRestrictionRoutes(app, ctx);
  registerUserActivityRoutes(app, ctx);

  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError(errorHandler(logger));
  return app;
}
