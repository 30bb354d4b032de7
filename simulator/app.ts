import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { runControlAction, type SimulatorControl } from './control.js';
import type { Faults } from './faults.js';
import { executePrepared, type GraphqlDeps, isReply, prepareRequest } from './graphql-handler.js';
import type { Hooks } from './hooks.js';

export interface AppDeps extends GraphqlDeps {
  apiKey: string | null;
  faults: Faults;
  hooks: Hooks<SimulatorControl>;
  control: SimulatorControl;
  controlEnabled: boolean;
}

export type AppEnv = { Bindings: Partial<HttpBindings> };

/** Marks an in-process reply that stands for a dropped connection (there is no socket to cut). */
export const DROP_HEADER = 'x-simulator-dropped';

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/healthz', (c) => c.text('ok'));

  app.post('/graphql', async (c) => {
    if (deps.apiKey !== null) {
      const given = c.req.header('ApiKey') ?? c.req.query('apikey');
      if (given !== deps.apiKey) {
        deps.stats.unauthorized();
        return c.text('Unauthorized', 401);
      }
    }
    deps.stats.request();
    const raw = await c.req.text();
    const prepared = prepareRequest(deps, raw);
    if (isReply(prepared)) return c.json(prepared.body as object, prepared.status as 400);

    const latency = deps.faults.latencyMs();
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    const fault = deps.faults.decide();
    if (fault === 'drop') {
      deps.stats.fault('drops');
      const socket = c.env?.incoming?.socket;
      if (socket) {
        socket.destroy();
        return new Response(null, { status: 500 });
      }
      return new Response(null, { status: 599, headers: { [DROP_HEADER]: '1' } });
    }
    if (fault === 'error') {
      deps.stats.fault('errors');
      return c.json({ errors: [{ message: 'simulated internal server error' }], data: null }, 500);
    }

    const reply = executePrepared(deps, prepared);
    deps.hooks.afterRequest(prepared.rootFields, deps.control);
    const text = JSON.stringify(reply.body);
    if (fault === 'truncate') {
      deps.stats.fault('truncations');
      return c.body(text.slice(0, Math.floor(text.length / 2)), 200, { 'content-type': 'application/json' });
    }
    return c.body(text, 200, { 'content-type': 'application/json' });
  });

  app.post('/__control', async (c) => {
    if (!deps.controlEnabled) return c.json({ ok: false, error: 'control is disabled' }, 404);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ ok: false, error: 'body must be JSON' }, 400);
    }
    try {
      return c.json(runControlAction(deps.control, body) as object);
    } catch (error) {
      return c.json({ ok: false, error: (error as Error).message }, 400);
    }
  });

  return app;
}
