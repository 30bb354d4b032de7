import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AttemptTiming } from '../stash/outage.js';
import type { WorkSignals } from '../sync/context.js';

/**
 * The one adapter every activity runs through: it heartbeats on a timer while the work runs (a
 * slow Stash answer must not look like a dead worker), hands the activity's cancellation signal
 * to the work (it reaches fetch), and turns errors that say they cannot be fixed by retrying
 * (`retryable === false`, decided where the error is born) into non-retryable Temporal failures
 * whose type is the error's class name. Nothing keeps a list of error names.
 */
export function activity<I, O>(work: (input: I, signals: WorkSignals) => Promise<O>): (input: I) => Promise<O> {
  return activityAdapter({})(work);
}

/** What decides, for every activity of a worker, when a retryable failure should stop retrying. */
export interface AdapterPolicy {
  /**
   * Given a retryable error and the attempt's timing, the non-retryable error to fail with instead
   * (e.g. Stash unreachable for longer than its budget: stash/outage.ts), or null to retry.
   */
  giveUp?: (error: unknown, timing: AttemptTiming) => Error | null;
}

/** The adapter with a worker's policy (createActivities builds one from its dependencies). */
export function activityAdapter(policy: AdapterPolicy) {
  return <I, O>(work: (input: I, signals: WorkSignals) => Promise<O>): ((input: I) => Promise<O>) =>
    async (input: I) => {
      const context = Context.current();
      const timer = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        return await work(input, {
          heartbeat: (details) => context.heartbeat(details),
          signal: context.cancellationSignal,
        });
      } catch (error) {
        // A cancelled attempt's error is the cancellation's, not a reason to give up.
        const { info } = context;
        const given = context.cancellationSignal.aborted
          ? null
          : policy.giveUp?.(error, {
              firstScheduledMs: info.scheduledTimestampMs,
              attempt: info.attempt,
              maximumAttempts: info.retryPolicy?.maximumAttempts,
              nowMs: Date.now(),
            });
        const failure = isNonRetryable(error) ? error : given;
        if (failure) throw ApplicationFailure.nonRetryable(failure.message, failure.name);
        throw error;
      } finally {
        clearInterval(timer);
      }
    };
}

const HEARTBEAT_EVERY_MS = 5_000;

/** An error that declares, where it was born, that retrying cannot fix it. */
export function isNonRetryable(error: unknown): error is Error & { retryable: false } {
  return error instanceof Error && (error as { retryable?: unknown }).retryable === false;
}
