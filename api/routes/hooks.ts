import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { ApiContext, AppEnv } from '../context.js';
import { HookCoalescer, type HookCoalescerOptions } from '../hooks/coalescer.js';
import { temporalHookStarter } from '../hooks/temporal-starter.js';
import { type HookAction, hookAction } from '../hooks/triggers.js';
import { errorResponses } from '../schemas/common.js';
import { HookAcceptedSchema, HookQueueSchema, StashHookBody } from '../schemas/hooks.js';

const security = [{ bearerAuth: [] }];

const postRoute = createRoute({
  method: 'post',
  path: '/api/hooks/stash',
  tags: ['hooks'],
  summary: 'Take a Stash plugin hook: bursts collapse into few syncs (single-entity, or one smart sync)',
  security,
  request: { body: { required: true, content: { 'application/json': { schema: StashHookBody } } } },
  responses: {
    202: {
      description: 'accepted: what will happen, and the queue now',
      content: { 'application/json': { schema: HookAcceptedSchema } },
    },
    ...errorResponses(400, 401),
  },
});

const getRoute = createRoute({
  method: 'get',
  path: '/api/hooks/stash',
  tags: ['hooks'],
  summary: 'What the hook queue holds: the open window, the smart sync it started or awaits, totals',
  security,
  responses: {
    200: { description: 'the queue', content: { 'application/json': { schema: HookQueueSchema } } },
    ...errorResponses(401),
  },
});

function describe(action: HookAction, options: HookCoalescerOptions): string {
  const window = `within ~${options.windowMs} ms of the last hook`;
  switch (action.kind) {
    case 'entity':
      return (
        `${action.entityType} ${action.id} is re-read ${window} (more than ${options.entityLimit} ` +
        'entities in one window become one smart sync)'
      );
    case 'smart':
      return `a smart sync runs ${window}: ${action.reason}`;
    case 'ignored':
      return `ignored: ${action.reason}`;
  }
}

const ACTION_NAMES = { entity: 'entity-sync', smart: 'smart-sync', ignored: 'ignored' } as const;

/**
 * POST /api/hooks/stash (and GET for its queue): Stash's hooks, forwarded by the plugin in
 * contrib/stash-plugin/, become syncs through one coalescer per API process.
 */
export function registerHookRoutes(
  app: OpenAPIHono<AppEnv>,
  ctx: ApiContext,
  options: Partial<HookCoalescerOptions> = {},
): HookCoalescer {
  const coalescer = new HookCoalescer(temporalHookStarter(ctx.temporal, ctx.target), options, ctx.logger);
  const settings = coalescer.status();

  app.openapi(postRoute, (c) => {
    const hook = c.req.valid('json');
    const action = hookAction(hook.type, hook.id, hook.inputFields);
    if (action.kind === 'ignored') coalescer.ignore();
    else coalescer.add(action);
    return c.json(
      {
        trigger: hook.type,
        action: ACTION_NAMES[action.kind],
        entity: action.kind === 'entity' ? { entityType: action.entityType, id: String(action.id) } : null,
        detail: describe(action, settings),
        queue: coalescer.status(),
      },
      202,
    );
  });

  app.openapi(getRoute, (c) => c.json(coalescer.status(), 200));
  return coalescer;
}
