import { z } from '@hono/zod-openapi';
import {
  ACTIVITY_EVENTS,
  RESTRICTION_MODES,
  type RESTRICTION_TYPES,
  STAT_SORTS,
  STAT_TYPES,
  USER_ROLES,
} from '../../db/user-vocabulary.js';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { idString, queryInt } from './common.js';
import { idValue } from './criteria.js';

/** Users, their restrictions, hidden entities, watch activity and stats (docs/api.md, "Users"). */

/** What every /api/users route declares besides its own: its OpenAPI tag and the bearer token. */
export const USER_ROUTE = { tags: ['users'], security: [{ bearerAuth: [] }] };

/** A JSON request body or answer of `schema`. */
export const jsonBody = <S>(schema: S) => ({ required: true, content: { 'application/json': { schema } } });
export const jsonAnswer = <S>(schema: S, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** The header a library read (or a user write) acts as: a user id. */
export const ActingUserHeaders = z.object({
  'x-mirror-user': idString.optional().openapi({
    param: { name: 'x-mirror-user', in: 'header' },
    description:
      'Act as this user: library reads leave out what they may not see and correct counts; admins and requests ' +
      'without the header see everything. Not authentication (the bearer token is): it says whose view to use.',
  }),
});

export const UserIdParams = z.object({ id: idString.openapi({ param: { name: 'id', in: 'path' } }) });

const name = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((text) => !text.includes('\u0000'), 'must not contain NUL characters');

export const CreateUserBody = z
  .strictObject({ name, role: z.enum(USER_ROLES) })
  .openapi('CreateUser', { example: { name: 'sam', role: 'user' } });

export const UpdateUserBody = z
  .strictObject({ name: name.optional(), role: z.enum(USER_ROLES).optional() })
  .openapi('UpdateUser');

export const UserSchema = z
  .object({ id: z.string(), name: z.string(), role: z.enum(USER_ROLES), createdAt: z.string(), updatedAt: z.string() })
  .openapi('User');

export const UserListSchema = z.object({ users: z.array(UserSchema) }).openapi('UserList');

/** When an API write has recomputed the user's exclusions (synchronously, before answering). */
export const RecomputeSchema = z
  .object({
    recomputedAt: z.string(),
    ms: z.number(),
    excluded: z.number().openapi({ description: 'entities the user may not see now (every type and reason)' }),
  })
  .openapi('ExclusionRecompute');

/** Stash ids are strings (numbers accepted), as in the library's criteria. */
const entityId = idValue;

const restriction = z
  .strictObject({ mode: z.enum(RESTRICTION_MODES), ids: z.array(entityId).max(1000, 'at most 1000 ids') })
  .superRefine((value, check) => {
    // An empty allow-list would hide everything the dimension governs: surely a mistake.
    if (value.mode === 'INCLUDE' && value.ids.length === 0) {
      check.addIssue({ code: 'custom', path: ['ids'], message: 'INCLUDE needs at least one id' });
    }
  });

/** The body's keys (Stash's plural field names) and the dimension each restricts. */
export const RESTRICTION_KEYS = {
  tags: 'tag',
  studios: 'studio',
  groups: 'group',
  galleries: 'gallery',
} as const satisfies Record<string, (typeof RESTRICTION_TYPES)[number]>;

export const RestrictionsBody = z
  .strictObject({
    tags: restriction.optional(),
    studios: restriction.optional(),
    groups: restriction.optional(),
    galleries: restriction.optional(),
  })
  .openapi('Restrictions', {
    description:
      'Per dimension (each optional): EXCLUDE these ids and their descendants, or INCLUDE only content carrying one of ' +
      'them (or a descendant). A dimension left out is not restricted. Replaces every restriction of the user.',
    example: { tags: { mode: 'EXCLUDE', ids: ['12'] }, studios: { mode: 'INCLUDE', ids: ['3', '4'] } },
  });

const restrictionOut = z.object({ mode: z.enum(RESTRICTION_MODES), ids: z.array(z.string()) });

export const RestrictionsSchema = z
  .object({
    restrictions: z.object({
      tags: restrictionOut.optional(),
      studios: restrictionOut.optional(),
      groups: restrictionOut.optional(),
      galleries: restrictionOut.optional(),
    }),
  })
  .openapi('UserRestrictions');

export const HideBody = z
  .strictObject({ entityType: z.enum(ENTITY_TYPES), id: entityId })
  .openapi('HideEntity', { example: { entityType: 'performer', id: '42' } });

export const HiddenParams = z.object({
  id: idString.openapi({ param: { name: 'id', in: 'path' } }),
  entityType: z.enum(ENTITY_TYPES).openapi({ param: { name: 'entityType', in: 'path' } }),
  entityId: idString.openapi({ param: { name: 'entityId', in: 'path' } }),
});

export const HiddenEntitySchema = z
  .object({ entityType: z.enum(ENTITY_TYPES), id: z.string(), name: z.string().nullable(), hiddenAt: z.string() })
  .openapi('HiddenEntity');

export const HiddenListSchema = z.object({ hidden: z.array(HiddenEntitySchema) }).openapi('HiddenEntities');

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;

export const ActivityBody = z
  .strictObject({
    sceneId: entityId,
    event: z.enum(ACTIVITY_EVENTS),
    at: z
      .string()
      .max(40)
      .refine(
        (at) => RFC3339.test(at) && Number.isFinite(Date.parse(at)) && new Date(at).getUTCFullYear() >= 1,
        'must be an RFC 3339 timestamp with an offset, e.g. 2025-01-31T18:00:00Z',
      )
      .openapi({ example: '2025-01-31T18:00:00Z' }),
    durationSeconds: z
      .number()
      .min(0, 'must be at least 0')
      .max(31_536_000, 'must be at most a year of seconds')
      .nullish()
      .openapi({ description: 'how long was watched (play events)' }),
  })
  .openapi('WatchEvent', {
    example: { sceneId: '7', event: 'play', at: '2025-01-31T18:00:00Z', durationSeconds: 312 },
  });

export const ActivitySchema = z
  .object({
    activity: z.object({
      id: z.string(),
      sceneId: z.string(),
      event: z.enum(ACTIVITY_EVENTS),
      at: z.string(),
      durationSeconds: z.number().nullable(),
    }),
    statsUpdated: z
      .number()
      .openapi({ description: "stats rows of the scene's performers, studio, tags, groups written" }),
  })
  .openapi('RecordedWatchEvent');

export const StatsQuery = z.strictObject({
  type: z.enum(STAT_TYPES),
  sort: z.enum(STAT_SORTS).optional().default('play_count'),
  limit: queryInt(1, 500, 20),
});

export const StatsSchema = z
  .object({
    userId: z.string(),
    type: z.enum(STAT_TYPES),
    sort: z.enum(STAT_SORTS),
    stats: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        playCount: z.number(),
        playDuration: z.number(),
        oCount: z.number(),
        lastPlayedAt: z.string().nullable(),
        lastOAt: z.string().nullable(),
      }),
    ),
  })
  .openapi('UserStats');
