import { z } from '@hono/zod-openapi';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { TRIGGER_PATTERN } from '../hooks/triggers.js';
import { MAX_ID } from './common.js';

const trigger = z
  .string()
  .max(80, 'must be a Stash hook trigger such as Scene.Update.Post')
  .regex(TRIGGER_PATTERN, 'must be a Stash hook trigger such as Scene.Update.Post')
  .openapi({ example: 'Scene.Update.Post', description: '`<Object>.<Operation>.Post`, as Stash names its hooks' });

/** Stash sends the id as a JSON number (hookContext.id is a Go int); "123" is accepted too. */
const entityId = z
  .unknown()
  .transform((value, check) => {
    const text = typeof value === 'number' ? String(value) : value;
    if (typeof text === 'string' && /^\d{1,15}$/.test(text) && Number(text) >= 1 && Number(text) <= MAX_ID) {
      return Number(text);
    }
    check.addIssue({
      code: 'custom',
      message: value === undefined ? 'required: the id of the entity' : 'must be a whole number id such as 123',
    });
    return z.NEVER;
  })
  .openapi({ oneOf: [{ type: 'string' }, { type: 'integer' }], example: '123' });

/** hookContext as Stash hands it to a plugin (`input` and `inputFields` optional, `input` unread). */
const HookContextSchema = z
  .strictObject({
    type: trigger,
    id: entityId,
    input: z.unknown().optional().openapi({ description: "the mutation's input; not read" }),
    inputFields: z
      .array(z.string().max(100))
      .max(500)
      .optional()
      .openapi({ description: 'the fields the mutation set (Gallery hooks with scene_ids start a smart sync)' }),
  })
  .openapi('StashHookContext');

/**
 * A hook as a plugin forwards it: `{type, id}` (with `inputFields` when known), Stash's
 * `hookContext` object itself, or wrapped as `{hookContext}` or `{args: {hookContext}}`. The
 * plugin input's `server_connection` (Stash's session cookie) is refused, never read.
 */
export const StashHookBody = z
  .strictObject({
    type: trigger.optional(),
    id: z
      .unknown()
      .optional()
      .openapi({ oneOf: [{ type: 'string' }, { type: 'integer' }], example: '123' }),
    input: z.unknown().optional(),
    inputFields: HookContextSchema.shape.inputFields,
    hookContext: HookContextSchema.optional(),
    args: z.strictObject({ hookContext: HookContextSchema }).optional(),
  })
  .transform((body, check) => {
    const nested = body.hookContext ?? body.args?.hookContext;
    if (nested) {
      if (body.type !== undefined || body.id !== undefined) {
        check.addIssue({ code: 'custom', path: ['type'], message: 'send either type and id, or hookContext' });
        return z.NEVER;
      }
      return nested;
    }
    const flat = HookContextSchema.safeParse({ type: body.type, id: body.id, inputFields: body.inputFields });
    if (!flat.success) {
      for (const issue of flat.error.issues) {
        const message =
          issue.path[0] === 'type' && body.type === undefined ? 'required: e.g. Scene.Update.Post' : issue.message;
        check.addIssue({ code: 'custom', path: issue.path, message });
      }
      return z.NEVER;
    }
    return flat.data;
  })
  .openapi('StashHook', {
    example: { type: 'Scene.Update.Post', id: '123' },
    description: 'a Stash plugin hook: `{type, id}` or Stash’s `hookContext` (alone or as `{hookContext}`)',
  });

export const HookQueueSchema = z
  .object({
    windowMs: z.number().int(),
    maxWaitMs: z.number().int(),
    entityLimit: z.number().int(),
    window: z.object({
      open: z.boolean(),
      hooks: z.number().int().openapi({ description: 'hooks received since the window opened' }),
      pendingEntities: z.number().int().openapi({ description: 'distinct entities awaiting a single-entity sync' }),
      smartSync: z.boolean().openapi({ description: 'the window ends in one smart sync' }),
      closesInMs: z.number().int().nullable(),
    }),
    smartSync: z.object({
      state: z.enum(['idle', 'starting', 'running', 'waiting', 'retrying']),
      runId: z.string().nullable().openapi({ description: 'ours when running; the lock holder when waiting' }),
      followUp: z.boolean().openapi({ description: 'one more smart sync follows the running one' }),
    }),
    startingEntitySyncs: z.number().int(),
    totals: z.object({
      hooks: z.number().int(),
      ignored: z.number().int(),
      windows: z.number().int(),
      entitySyncsStarted: z.number().int(),
      smartSyncsStarted: z.number().int(),
    }),
  })
  .openapi('StashHookQueue');

export const HookAcceptedSchema = z
  .object({
    trigger: z.string(),
    action: z.enum(['entity-sync', 'smart-sync', 'ignored']),
    entity: z.object({ entityType: z.enum(ENTITY_TYPES), id: z.string() }).nullable(),
    detail: z.string(),
    queue: HookQueueSchema,
  })
  .openapi('StashHookAccepted');
