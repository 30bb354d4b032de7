import { z } from '@hono/zod-openapi';
import { LOGGED_CHANGES, RUN_STATUSES, SYNC_TYPES } from '../../db/vocabulary.js';
import { ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import { sinceProblem } from '../../sync/since.js';
import { idString, queryInt } from './common.js';

/** Full and smart syncs take no options: an empty JSON object (or no body at all). */
export const EmptyBody = z.strictObject({}).openapi('EmptyBody');

export const IncrementalBody = z
  .strictObject({
    since: z
      .string()
      .max(64, 'must be an RFC 3339 timestamp, e.g. 2025-01-31T18:00:00Z')
      .superRefine((since, check) => {
        const problem = sinceProblem(since);
        if (problem) check.addIssue({ code: 'custom', message: problem });
      })
      .openapi({ example: '2025-01-31T18:00:00Z', description: 'RFC 3339 with an offset or Z' }),
    entityTypes: z
      .array(z.enum(ENTITY_TYPES))
      .min(1, 'must name at least one type (or leave it out for all seven)')
      .max(ENTITY_TYPES.length)
      .optional(),
  })
  .openapi('IncrementalSyncBody');

export const EntityParams = z.object({
  entityType: z.enum(ENTITY_TYPES).openapi({ param: { name: 'entityType', in: 'path' } }),
  id: idString.openapi({ param: { name: 'id', in: 'path' } }),
});

export const StartedSchema = z
  .object({
    runId: z.string().openapi({ description: 'sync_runs.id: `<workflowId>/<first run id>`' }),
    workflowId: z.string(),
    statusUrl: z.string(),
    temporalUiUrl: z.string().nullable(),
  })
  .openapi('StartedSync');

/** A run id in a path: `<workflowId>/<runId>` percent-encoded, or the Temporal run id alone. */
export const RunIdParams = z.object({
  runId: z
    .string()
    .min(1)
    .max(512, 'must be at most 512 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be a run id such as stash-mirror-sync%2F<uuid>')
    .openapi({ param: { name: 'runId', in: 'path' }, example: 'stash-mirror-sync%2F0196f0a4-…' }),
});

export const RunsQuery = z.strictObject({
  page: queryInt(1, 100_000, 1),
  per_page: queryInt(1, 100, 20),
  status: z.enum(RUN_STATUSES).optional(),
  type: z.enum(SYNC_TYPES).optional(),
});

export const RunSchema = z
  .object({
    id: z.string(),
    workflowId: z.string(),
    temporalRunId: z.string(),
    type: z.enum(SYNC_TYPES),
    trigger: z.string(),
    status: z.enum(RUN_STATUSES),
    startedAt: z.string(),
    completedAt: z.string().nullable(),
    durationSeconds: z.number().nullable(),
    counts: z.record(z.string(), z.record(z.string(), z.number())),
    totals: z.record(z.string(), z.number()),
    progress: z.record(z.string(), z.unknown()),
    error: z.string().nullable(),
    temporalUiUrl: z.string().nullable(),
    links: z.object({ self: z.string(), events: z.string(), cancel: z.string() }),
  })
  .openapi('SyncRun');

export const LiveProgressSchema = z
  .object({ source: z.enum(['query', 'database']), progress: z.record(z.string(), z.unknown()) })
  .openapi('LiveProgress');

export const RunListSchema = z
  .object({ count: z.number().int(), page: z.number().int(), per_page: z.number().int(), runs: z.array(RunSchema) })
  .openapi('SyncRunList');

export const RunDetailSchema = z
  .object({
    run: RunSchema,
    live: LiveProgressSchema.nullable(),
    errors: z.object({
      message: z.string().nullable(),
      failedCount: z.number().int(),
      failedEntities: z.array(
        z.object({
          entityType: z.string(),
          entityId: z.string().nullable(),
          error: z.string().nullable(),
          at: z.string().nullable(),
        }),
      ),
    }),
  })
  .openapi('SyncRunDetail');

export const CancelSchema = z
  .object({ runId: z.string(), status: z.literal('cancelling'), statusUrl: z.string() })
  .openapi('CancelRequested');

export const SyncStateSchema = z.object({
  entityType: z.string(),
  lastFullSyncAt: z.string().nullable(),
  lastIncrementalSyncAt: z.string().nullable(),
  highWaterMark: z.string().nullable(),
  interrupted: z.boolean(),
  resumeCursor: z.record(z.string(), z.unknown()).nullable(),
});

export const ScheduleStateSchema = z
  .object({
    scheduleId: z.string(),
    intervalSeconds: z.number().nullable(),
    cron: z.string().nullable(),
    paused: z.boolean(),
    nextRuns: z.array(z.string()),
    recentRuns: z.array(z.object({ scheduledAt: z.string(), workflowId: z.string() })),
  })
  .openapi('SmartSyncSchedule');

export const StatusSchema = z
  .object({
    runningRunId: z.string().nullable().openapi({ description: 'the main sync running now (Temporal’s word)' }),
    running: z.object({ run: RunSchema, live: LiveProgressSchema }).nullable(),
    runningEntitySyncs: z.array(RunSchema),
    lastRun: RunSchema.nullable(),
    entities: z.array(SyncStateSchema),
    schedule: ScheduleStateSchema.nullable(),
    temporalReachable: z.boolean(),
  })
  .openapi('SyncStatus');

export const EntityLogParams = z.object({
  id: idString.openapi({ param: { name: 'id', in: 'path' } }),
});

export const EntityLogQuery = z.strictObject({ limit: queryInt(1, 500, 50) });

/** One entity type's history answer: `{ <type>Id, logs }` (the scene route's shape, for every type). */
export function entityLogSchema(type: EntityType) {
  const name = `${type[0]?.toUpperCase()}${type.slice(1)}`;
  return z
    .object({
      [`${type}Id`]: z.string(),
      logs: z.array(
        z.object({
          id: z.string(),
          runId: z.string(),
          runWide: z.boolean().openapi({ description: `a full sync's summary row for every ${type} (entity_id NULL)` }),
          syncType: z.enum(SYNC_TYPES),
          changeType: z.enum(LOGGED_CHANGES),
          hadChanges: z.boolean().openapi({ description: "whether the entity's mirrored data changed" }),
          changedFields: z.array(z.string()).nullable(),
          error: z.string().nullable(),
          details: z.record(z.string(), z.unknown()).nullable(),
          createdAt: z.string(),
          run: z
            .object({
              id: z.string(),
              type: z.enum(SYNC_TYPES),
              status: z.enum(RUN_STATUSES),
              trigger: z.string(),
              startedAt: z.string(),
              completedAt: z.string().nullable(),
              counts: z.record(z.string(), z.unknown()),
            })
            .nullable(),
        }),
      ),
    })
    .openapi(`${name}SyncLogs`);
}
