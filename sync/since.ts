import { specFor } from '../stash/entities/index.js';
import type { EntityType } from '../stash/entity-types.js';
import { newestUpdatedAt } from '../stash/paging.js';
import { formatStashTime, parseStashTime } from '../stash/timestamps.js';
import type { SyncContext, WorkSignals } from './context.js';

/** A `since` that is not an RFC 3339 instant: the caller's mistake, not worth a retry. */
export class InvalidSinceError extends Error {
  override readonly name = 'InvalidSinceError';
  readonly retryable = false;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Validates a user's `since` (RFC 3339 with an offset or Z); returns a message when it is not. */
export function sinceProblem(since: string): string | null {
  if (!RFC3339.test(since) || !parseStashTime(since.replace(/\.\d+/, ''))) {
    return `since must be an RFC 3339 timestamp with an offset, e.g. 2025-01-31T18:00:00Z (got "${since}")`;
  }
  return null;
}

/**
 * Turns an instant into a lexical lower bound Stash compares correctly: written in Stash's own
 * offset (learnt from its newest timestamp of the type) and reaching back the daylight-saving
 * margin, because rows written around `since` may carry an offset an hour away from today's.
 * Rows read because of the margin are recognised as unchanged and cost no write.
 */
export async function stashBoundFor(
  context: SyncContext,
  entityType: EntityType,
  since: string,
  signals: WorkSignals,
): Promise<string> {
  const parsed = parseStashTime(since.replace(/\.\d+/, ''));
  if (!parsed) throw new InvalidSinceError(sinceProblem(since) ?? 'invalid since');
  const newest = await newestUpdatedAt(context.stash, specFor(entityType), { signal: signals.signal });
  const offset = (newest ? parseStashTime(newest)?.offsetMinutes : undefined) ?? parsed.offsetMinutes;
  return formatStashTime(parsed.instant - context.catchUpMarginSeconds * 1000, offset);
}
