import { ActivityCancellationType, type ActivityOptions, proxyActivities } from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.js';

// No list of non-retryable error types here: activities/adapter.ts turns errors that say they
// cannot be fixed by retrying into non-retryable failures where they are thrown.

/** Page-sized work: a page is seconds; a stuck Stash is noticed by the heartbeat timeout. */
export const PAGE_ACTIVITY_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '15 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
  },
};
export const pageActivities = proxyActivities<SyncActivities>(PAGE_ACTIVITY_OPTIONS);

/** Id scans and post-processing over a large library can take longer. */
export const longActivities = proxyActivities<SyncActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 10,
  },
});

/** Bookkeeping must land even when Postgres blips: retried for a long while. */
export const bookkeepingActivities = proxyActivities<SyncActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 30 },
});
