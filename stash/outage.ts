import { StashError, StashUnavailableError } from './errors.js';

/**
 * When to stop retrying an unreachable Stash. Retrying a refused connection, a timeout or a 5xx
 * is right for a blip; for an outage it only hides the problem for a quarter of an hour behind a
 * retry counter and then fails with the last low-level message. So an activity whose Stash
 * request fails as unavailable gives up, non-retryably, once Stash has been unreachable for
 * longer than the budget (STASH_UNAVAILABLE_BUDGET_SECONDS), or on its last permitted attempt,
 * with one line that says where, for how long and why. Nothing is lost by giving up: every page
 * committed so far stays, and the next sync resumes from the last one.
 *
 * "Unreachable since" is the later of two instants: when the activity was first scheduled (its
 * attempts share that, across workers), and when this worker's client last had any answer from
 * Stash. The first keeps an outage that outlives a worker restart counted; the second keeps a
 * long activity (an id scan of a large library) that meets a blip after an hour from giving up
 * at once.
 */
export interface AttemptTiming {
  /** When the activity's FIRST attempt was scheduled (Temporal's scheduledTimestampMs). */
  firstScheduledMs: number;
  attempt: number;
  /** The retry policy's maximum attempts (0 or absent: unlimited). */
  maximumAttempts?: number | undefined;
  nowMs: number;
}

/** Stash was unreachable for longer than the budget: retrying within this run is given up. */
export class StashOutageError extends StashError {
  override readonly name = 'StashOutageError';
  override readonly retryable = false;
}

/** The budget's variable, as the message names it (so a user knows what to raise). */
export const BUDGET_VARIABLE = 'STASH_UNAVAILABLE_BUDGET_SECONDS';

/**
 * The error to fail with instead of `error`, or null to let the activity retry as usual. Looks
 * through `cause` chains: the unavailable error may arrive wrapped.
 */
export function outageError(error: unknown, timing: AttemptTiming, budgetSeconds: number): StashOutageError | null {
  const unavailable = findUnavailable(error);
  if (!unavailable) return null;
  const since = Math.max(timing.firstScheduledMs, unavailable.lastAnswerAtMs ?? 0);
  const seconds = Math.max(0, Math.round((timing.nowMs - since) / 1000));
  const lastAttempt = (timing.maximumAttempts ?? 0) > 0 && timing.attempt >= (timing.maximumAttempts ?? 0);
  const overBudget = timing.nowMs - since > budgetSeconds * 1000;
  if (!overBudget && !lastAttempt) return null;
  const where = unavailable.stashUrl ? `Stash at ${unavailable.stashUrl}` : 'Stash';
  const limit = overBudget
    ? `longer than ${BUDGET_VARIABLE}=${budgetSeconds}`
    : `and all ${timing.attempt} attempts are spent`;
  return new StashOutageError(
    `${where} has been unreachable for ${seconds} s (${unavailable.reason}), ${limit}; the next sync resumes from the last committed page`,
  );
}

function findUnavailable(error: unknown): StashUnavailableError | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current instanceof StashUnavailableError) return current;
    current = current.cause;
  }
  return null;
}

/** Fifteen minutes: longer than a Stash restart or upgrade, short enough to notice an outage the same hour. */
export const DEFAULT_STASH_UNAVAILABLE_BUDGET_SECONDS = 900;
