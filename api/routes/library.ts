import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { ApiContext, AppEnv } from '../context.js';
import type { LibraryEntity } from '../library/definition.js';
import { LIBRARY_ENTITIES } from '../library/entities/index.js';
import { findEntities, findEntity } from '../library/find.js';
import { ApiError } from '../middleware/errors.js';
import { errorResponses, idString } from '../schemas/common.js';
import { type FindBody, findBodySchema, findOneResultSchema, findResultSchema } from '../schemas/library.js';

const security = [{ bearerAuth: [] }];
const IdParams = z.object({ id: idString.openapi({ param: { name: 'id', in: 'path' } }) });

function register(app: OpenAPIHono<AppEnv>, ctx: ApiContext, entity: LibraryEntity): void {
  const findRoute = createRoute({
    method: 'post',
    path: `/api/library/${entity.path}`,
    tags: ['library'],
    summary: `${entity.queryField}: filter, sort and page ${entity.path} like Stash's GraphQL`,
    security,
    request: { body: { required: false, content: { 'application/json': { schema: findBodySchema(entity) } } } },
    responses: {
      200: {
        description: `{ ${entity.queryField}: { count, ${entity.listField} } }`,
        content: { 'application/json': { schema: findResultSchema(entity) } },
      },
      ...errorResponses(400, 401),
    },
  });
  const getRoute = createRoute({
    method: 'get',
    path: `/api/library/${entity.path}/{id}`,
    tags: ['library'],
    summary: `${entity.singleField}: one live ${entity.type} by id`,
    security,
    request: { params: IdParams },
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
    const { count, items } = await findEntities(ctx.sql, entity, body);
    return c.json({ [entity.queryField]: { count, [entity.listField]: items } }, 200);
  });
  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid('param');
    const item = await findEntity(ctx.sql, entity, id);
    if (!item) throw new ApiError(404, `${entity.type} ${id} not found`);
    return c.json({ [entity.singleField]: item }, 200);
  });
}

export function registerLibraryRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  for (const entity of LIBRARY_ENTITIES) register(app, ctx, entity);
}
