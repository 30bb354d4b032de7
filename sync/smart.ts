import { withSyncTransaction } from '../db/client.js';
import { storedCountBetween, storedStampsSince } from '../db/entity-store.js';
import { mergeRunProgress } from '../db/runs.js';
import { readWatermark } from '../db/sync-state.js';
import { specFor } from '../stash/entities/index.js';
import type { EntityType } from '../stash/entity-types.js';
import { countBetween, countUpdatedAfter, stampsSince } from '../stash/paging.js';
import {
  anyOffsetLowerBound,
  lexicalLowerBound,
  lexicalMin,
  parseStashTime,
  type StashTime,
} from '../stash/timestamps.js';
import type { SyncContext, WorkSignals } from './context.js';
import { fetchAndApply } from './fetch-by-id.js';
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
  /** Entities re-read because ids and stamps below the mark differed (a clock moved back). */
  windowRepaired: number;
  /** Offsets (e.g. "-10:00") of re-read rows that differ from the mark's: the server's clock moved. */
  offsetsSeen: string[];
}

/**
 * Decides, with count-only queries where possible, what one smart sync must read for a type.
 * The cursor is the type's high-water mark M (the lexically newest updated_at Stash showed us)
 * plus when M's second was last read (docs/sync-design.md, "Smart sync"):
 * - `updated_at > M` counted (per_page 0): anything newer is walked, from M inclusive.
 * - M's own second is read again until it has been read after it ended (plus clock skew): a row
 *   updated again within that second keeps the same string and is otherwise invisible.
 * - A write may carry a string lexically BELOW M when the server's offset moved west since M was
 *   written: daylight saving falling back, or a restart under another time zone (a container's
 *   TZ). Such a string is still at or above M's instant written in the westernmost offset, so the
 *   range [that bound, M] is counted in Stash and in the mirror; when the counts differ, or within
 *   the daylight-saving margin after M, ids and stamps alone are compared in the server's current
 *   terms (whatever offsets the rows carry) and what differs is re-read by id.
 * Once M is older than the margin and the range agrees, a no-op costs two count queries.
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
    const state = await prepare(null);
    return { state, reason: 'never-synced', updatedAfterMark: 0, windowRepaired: 0, offsetsSeen: [] };
  }

  const skewMs = input.clockSkewSeconds * 1000;
  const below = await repairBelowMark(context, input, mark, markTime, signals);
  const updatedAfterMark = await countUpdatedAfter(context.stash, spec, mark, { signal: signals.signal });
  const found = { updatedAfterMark, windowRepaired: below.repaired, offsetsSeen: below.offsetsSeen };
  if (updatedAfterMark > 0) {
    return { state: await prepare(mark), reason: 'updated-after-mark', ...found };
  }
  const settled = readAt !== null && readAt.getTime() >= markTime.instant + 1000 + skewMs;
  if (!settled) {
    return { state: await prepare(mark), reason: 'mark-second-open', ...found };
  }
  return { state: null, reason: 'nothing-new', ...found };
}

/**
 * Finds writes whose strings sort below the mark although they happened after it, and re-reads
 * them. Within the daylight-saving margin after M the stamps are compared outright (a fall-back
 * may re-write a row already near M, which no count can see); otherwise only when the range
 * [M's instant in the westernmost offset, M] holds a different number of rows in Stash than in
 * the mirror, which a write arriving from below that range always causes.
 */
async function repairBelowMark(
  context: SyncContext,
  input: SmartProbeInput,
  mark: string,
  markTime: StashTime,
  signals: WorkSignals,
): Promise<{ repaired: number; offsetsSeen: string[] }> {
  const spec = specFor(input.entityType);
  const withinMargin =
    Date.now() < markTime.instant + context.catchUpMarginSeconds * 1000 + input.clockSkewSeconds * 1000;
  // Lexically the lower of "M's instant in the westernmost offset" and "the margin before M in
  // M's own offset" (the latter is lower only for marks written west of -10:00).
  const low = [anyOffsetLowerBound(mark), lexicalLowerBound(mark, context.catchUpMarginSeconds), mark]
    .filter((candidate): candidate is string => candidate !== null)
    .reduce(lexicalMin);
  let bound: string | null = withinMargin ? low : null;
  if (!bound) {
    const [inStash, inMirror] = await Promise.all([
      countBetween(context.stash, spec, 'updated_at', low, mark, { signal: signals.signal }),
      storedCountBetween(context.sql, spec, low, mark),
    ]);
    if (inStash !== inMirror) bound = low;
  }
  if (!bound) return { repaired: 0, offsetsSeen: [] };
  const [inStash, inMirror] = await Promise.all([
    stampsSince(context.stash, spec, bound, { signal: signals.signal }),
    storedStampsSince(context.sql, spec, bound),
  ]);
  // Rows above the mark are read by this run's walk from the mark anyway: only what hides at or
  // below it is re-read here (reading them twice doubled a smart sync's reads and hid its counts).
  const differing = [...inStash].filter(([id, raw]) => raw <= mark && inMirror.get(id) !== raw);
  const markOffset = offsetOf(mark);
  const offsetsSeen = [...new Set(differing.map(([, raw]) => offsetOf(raw)))].filter((o) => o !== markOffset);
  if (offsetsSeen.length > 0) {
    // Worth seeing in the run's record: Stash's clock moved (daylight saving, or a restart under
    // another time zone), and rows written since sort below the mark.
    await withSyncTransaction(context.sql, (tx) =>
      mergeRunProgress(tx, input.runId, {
        [`offsetChange:${input.entityType}`]: { mark: markOffset, seen: offsetsSeen, rows: differing.length },
      }),
    );
  }
  const repaired = await fetchAndApply(
    context,
    input.runId,
    'smart',
    spec,
    differing.map(([id]) => id),
    signals,
  );
  return { repaired, offsetsSeen };
}

/** The offset suffix of a Stash timestamp ("Z", "+11:00", "-05:00"). */
function offsetOf(raw: string): string {
  return /(Z|[+-]\d{2}:\d{2})$/.exec(raw)?.[1] ?? '';
}

/** Every type's smart probe at once (one call): the types with nothing new come back with state null. */
export async function probeSmartTypes(
  context: SyncContext,
  input: { runId: string; entityTypes: EntityType[]; clockSkewSeconds: number },
  signals: WorkSignals,
): Promise<Partial<Record<EntityType, SmartProbeResult>>> {
  const results = await Promise.all(
    input.entityTypes.map((entityType) =>
      probeSmartType(context, { runId: input.runId, entityType, clockSkewSeconds: input.clockSkewSeconds }, signals),
    ),
  );
  return Object.fromEntries(input.entityTypes.map((type, index) => [type, results[index]]));
}
