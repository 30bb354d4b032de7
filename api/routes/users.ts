import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { recomputeUserExclusions } from '../../db/postprocess/user-exclusions.js';
import { createUser, deleteUser, listUsers, updateUser } from '../../db/users.js';
import type { ApiContext, AppEnv } from '../context.js';
import { ApiError } from '../middleware/errors.js';
import { errorResponses } from '../schemas/common.js';
import {
  ActingUserHeaders,
  CreateUserBody,
  jsonAnswer,
  jsonBody,
  RecomputeSchema,
  UpdateUserBody,
  USER_ROUTE,
  UserIdParams,
  UserListSchema,
  UserSchema,
} from '../schemas/users.js';
import { actingUser, requireAdmin, requireUser, toRecomputeJson, toUserJson } from '../services/users.js';

const createRouteDef = createRoute({
  method: 'post',
  path: '/api/users',
  ...USER_ROUTE,
  summary: 'Create a user (admin or user); names are unique',
  request: {
    headers: ActingUserHeaders,
    body: jsonBody(CreateUserBody),
  },
  responses: { 201: jsonAnswer(UserSchema, 'the user'), ...errorResponses(400, 401, 403, 404, 409) },
});

const listRoute = createRoute({
  method: 'get',
  path: '/api/users',
  ...USER_ROUTE,
  summary: 'Every user',
  responses: { 200: jsonAnswer(UserListSchema, 'users by id'), ...errorResponses(401) },
});

const getRoute = createRoute({
  method: 'get',
  path: '/api/users/{id}',
  ...USER_ROUTE,
  summary: 'One user',
  request: { params: UserIdParams },
  responses: { 200: jsonAnswer(UserSchema, 'the user'), ...errorResponses(400, 401, 404) },
});

const patchRoute = createRoute({
  method: 'patch',
  path: '/api/users/{id}',
  ...USER_ROUTE,
  summary: 'Rename a user or change their role (a role change recomputes their exclusions before answering)',
  request: {
    params: UserIdParams,
    headers: ActingUserHeaders,
    body: jsonBody(UpdateUserBody),
  },
  responses: {
    200: jsonAnswer(UserSchema.extend({ recompute: RecomputeSchema.nullable() }), 'the user'),
    ...errorResponses(400, 401, 403, 404, 409),
  },
});

const deleteRouteDef = createRoute({
  method: 'delete',
  path: '/api/users/{id}',
  ...USER_ROUTE,
  summary: 'Delete a user with their restrictions, hidden entities, activity and derived rows',
  request: { params: UserIdParams, headers: ActingUserHeaders },
  responses: { 204: { description: 'deleted' }, ...errorResponses(400, 401, 403, 404) },
});

const nameTaken = (name: string) => new ApiError(409, `name: a user named "${name}" exists`, { field: 'name' });

/** `/api/users`: the mirror's users (docs/api.md, "Users"). */
export function registerUserRoutes(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  app.openapi(createRouteDef, async (c) => {
    requireAdmin(await actingUser(ctx.sql, c.req.valid('header')['x-mirror-user']));
    const body = c.req.valid('json');
    const user = await createUser(ctx.sql, body);
    if (!user) throw nameTaken(body.name);
    return c.json(toUserJson(user), 201);
  });

  app.openapi(listRoute, async (c) => c.json({ users: (await listUsers(ctx.sql)).map(toUserJson) }, 200));

  app.openapi(getRoute, async (c) => c.json(toUserJson(await requireUser(ctx.sql, c.req.valid('param').id)), 200));

  app.openapi(patchRoute, async (c) => {
    requireAdmin(await actingUser(ctx.sql, c.req.valid('header')['x-mirror-user']));
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const before = await requireUser(ctx.sql, id);
    const updated = await updateUser(ctx.sql, id, body);
    if (updated === 'name-taken') throw nameTaken(body.name ?? '');
    if (!updated) throw new ApiError(404, `user ${id} not found`);
    // An admin sees everything: the role decides whether the user has exclusions at all.
    const recompute = updated.role === before.role ? null : await recomputeUserExclusions(ctx.sql, id);
    return c.json({ ...toUserJson(updated), recompute: recompute && toRecomputeJson(recompute) }, 200);
  });

  app.openapi(deleteRouteDef, async (c) => {
    requireAdmin(await actingUser(ctx.sql, c.req.valid('header')['x-mirror-user']));
    const { id } = c.req.valid('param');
    if (!(await deleteUser(ctx.sql, id))) throw new ApiError(404, `user ${id} not found`);
    return c.body(null, 204);
  });
}
