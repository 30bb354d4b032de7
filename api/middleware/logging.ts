import type { MiddlewareHandler } from 'hono';
import pino, { type Logger } from 'pino';
import type { AppEnv } from '../context.js';
import { routeLabel } from './metrics.js';

/** The default logger: JSON lines on stdout; the CLI passes one at LOG_LEVEL. */
export function defaultLogger(level = 'info'): Logger {
  return pino({ level, base: { service: 'stash-mirror-api' } });
}

/**
 * One line per request with its request id, route pattern, status and duration. The query
 * string and headers are not logged: they may carry tokens.
 */
export function requestLogger(logger: Logger): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = c.res.status;
    const line = {
      requestId: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      route: routeLabel(c),
      status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
    };
    if (status >= 500) logger.error(line, 'request');
    else logger.info(line, 'request');
  };
}
