import { readWatermark } from '../db/bookkeeping.js';
import { storedStampsSince } from '../db/entity-store.js';
import { specFor } from '../stash/entities/index.js';
import type { EntityType } from '../stash/entity-types.js';
import { countUpdatedAfter, stampsSince } from '../stash/paging.js';
import { lexicalLowerBound, parseStashTime } from '../stash/timestamps.js';
import type { SyncContext, WorkSignals } from './context.js';
import { fetchAndApply } from './reconcile.js';
import { prepareTypeSync, type TypeSyncState } from './type-sync.js';

export interface SmartProbeInput {
  runId: string;
  entityType: EntityType;
  /** How far the Stash clock may be ahead of the worker's (seconds). */
  clockSkewSeconds: number;
}

export interface SmartProbeResult {
  /** The walk to run for this type, or null when nothing changed. */
  state: TypeSyncState | null;
  reason: 'never-synced' | 'updated-after-mark' | 'mark-second-open' | 'nothing-new';
  updatedAfterMark: number;
  /** Entities re-read because the daylight-saving window showed a different stamp. */
  windowRepaired: number;
}

/**
 * Decides, with count-only queries where possible, what one smart sync must read for a type.
 * The cursor is the type's high-water mark M (the lexically newest updated_at Stash showed us)
 * plus when M's second was last read (docs/sync-design.md, "Smart sync"):
 * - `updated_at > M` counted (per_page 0): anything newer is walked, from M inclusive.
 * - M's own second is read again until it has been read after it ended (plus clock skew): a row
 *   updated again within that second keeps the same string and is otherwise invisible.
 * - For a while after M (the daylight-saving margin) a write may carry a string lexically BELOW M
 *   (clocks fell back); in that window ids and stamps alone are compared, and what differs is
 *   re-read by id.
 * Once M is older than that, a no-op costs one count query.
 */
export async function probeSmartType(
  context: SyncContext,
  input: SmartProbeInput,
  signals: WorkSignals,
): Promise<SmartProbeResult> {
  const spec = specFor(input.entityType);
  const { highWaterMarkRaw: mark, readAt } = await readWatermark(context.sql, input.entityType);
  const markTime = mark ? parseStashTime(mark) : null;
  const prepare = (since: string | null) =>
    prepareTypeSync(
      context,
      { runId: input.runId, syncType: 'smart', entityType: input.entityType, since, catchUp: false },
      signals,
    );
  if (!mark || !markTime) {
    return { state: await prepare(null), reason: 'never-synced', updatedAfterMark: 0, windowRepaired: 0 };
  }

  const skewMs = input.clockSkewSeconds * 1000;
  const now = Date.now();
  let windowRepaired = 0;
  if (now < markTime.instant + context.catchUpMarginSeconds * 1000 + skewMs) {
    const bound = lexicalLowerBound(mark, context.catchUpMarginSeconds) ?? mark;
    const [inStash, inMirror] = await Promise.all([
      stampsSince(context.stash, spec, bound, { signal: signals.signal }),
      storedStampsSince(context.sql, spec, bound),
    ]);
    const differing = [...inStash].filter(([id, raw]) => inMirror.get(id) !== raw).map(([id]) => id);
    windowRepaired = await fetchAndApply(context, input.runId, 'smart', spec, differing, signals);
  }

  const updatedAfterMark = await countUpdatedAfter(context.stash, spec, mark, { signal: signals.signal });
  if (updatedAfterMark > 0) {
    return { state: await prepare(mark), reason: 'updated-after-mark', updatedAfterMark, windowRepaired };
  }
  const settled = readAt !== null && readAt.getTime() >= markTime.instant + 1000 + skewMs;
  if (!settled) {
    return { state: await prepare(mark), reason: 'mark-second-open', updatedAfterMark, windowRepaired };
  }
  return { state: null, reason: 'nothing-new', updatedAfterMark, windowRepaired };
}
