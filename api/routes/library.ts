import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { ApiContext, AppEnv } from '../context.js';
import type { LibraryEntity } from '../library/definition.js';
import { LIBRARY_ENTITIES } from '../library/entities/index.js';
import { findAll, findEntities, findEntity, pagingOf } from '../library/find.js';
import { streamAll } from '../library/stream.js';
import { ApiError } from '../middleware/errors.js';
import { errorResponses, idString } from '../schemas/common.js';
import { type FindBody, findBodySchema, findOneResultSchema, findResultSchema } from '../schemas/library.js';
import { ActingUserHeaders } from '../schemas/users.js';
import { actingUser, viewerOf } from '../services/users.js';

const security = [{ bearerAuth: [] }];
const IdParams = z.object({ id: idString.openapi({ param: { name: 'id', in: 'path' } }) });

function register(app: OpenAPIHono<AppEnv>, ctx: ApiContext, entity: LibraryEntity): void {
  const findRoute = createRoute({
    method: 'post',
    path: `/api/library/${entity.path}`,
    tags: ['library'],
    summary: `${entity.queryField}: filter, sort and page ${entity.path} like Stash's GraphQL`,
    security,
    request: {
      headers: ActingUserHeaders,
      body: { required: false, content: { 'application/json': { schema: findBodySchema(entity) } } },
    },
    responses: {
      200: {
        description:
          `{ ${entity.queryField}: { count, ${entity.listField} } }. With per_page 0 the list is empty; ` +
          'with a negative per_page it holds every match and is streamed (chunked): a response cut short ' +
          'by a server-side failure ends with an aborted connection, never with valid JSON.',
        content: { 'application/json': { schema: findResultSchema(entity) } },
      },
      ...errorResponses(400, 401, 404),
    },
  });
  const getRoute = createRoute({
    method: 'get',
    path: `/api/library/${entity.path}/{id}`,
    tags: ['library'],
    summary: `${entity.singleField}: one live ${entity.type} by id`,
    security,
    request: { params: IdParams, headers: ActingUserHeaders },
    responses: {
      200: {
        description: `{ ${entity.singleField}: { … } }`,
        content: { 'application/json': { schema: findOneResultSchema(entity) } },
      },
      ...errorResponses(400, 401, 404),
    },
  });

  app.openapi(findRoute, async (c) => {
    const body = c.req.valid('json') as FindBody;
    const viewer = viewerOf(await actingUser(ctx.sql, c.req.valid('header')['x-mirror-user']));
    const answer = (count: number, list: Record<string, unknown>[]) =>
      c.json({ [entity.queryField]: { count, [entity.listField]: list } }, 200);
    if (pagingOf(body.filter ?? {}) !== 'all') {
      const { count, items } = await findEntities(ctx.sql, entity, body, viewer);
      return answer(count, items);
    }
    // Errors up to here (a bad criterion, reading the ids) get error answers; later ones abort the stream.
    const all = await findAll(ctx.sql, entity, body, viewer);
    const requestId = c.get('requestId');
    const stream = streamAll(entity, all, (error) =>
      ctx.logger.error({ requestId, err: error }, 'library stream failed; response aborted'),
    );
    const response = new Response(stream, { status: 200, headers: { 'content-type': 'application/json' } });
    // The same JSON document `answer` would send, written as it is read; only its type cannot say so.
    return response as unknown as ReturnType<typeof answer>;
  });
  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid('param');
    const viewer = viewerOf(await actingUser(ctx.sql, c.req.valid('header')['x-mirror-user']));
    const item = await findEntity(ctx.sql, entity, id, viewer);
    if (!item) throw new ApiError(404, `${entity.type} ${id} not found`);
    return c.json({ [entity.singleField]: item }, 200);
  });
}

export function registerLibraryRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  for (const entity of LIBRARY_ENTITIES) register(app, ctx, entity);
}
