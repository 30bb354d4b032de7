import { ApplicationFailure } from '@temporalio/common';
import type {
  ActivityExecuteInput,
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  Next,
} from '@temporalio/worker';
import { isNonRetryable } from '../activities/adapter.js';
import type { WorkerMetrics } from './metrics.js';

/**
 * Times every activity attempt and counts its failures, in one place for all activities (outside
 * the adapter, so it sees what Temporal sees: the adapter's non-retryable failures included).
 */
export class ActivityMetricsInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly metrics: WorkerMetrics,
    private readonly activity: string,
    /** Whether the attempt was cancelled (the workflow, a timeout or worker shutdown asked it to stop). */
    private readonly cancelled: () => boolean,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const result = await next(input);
      this.metrics.recordActivity(this.activity, seconds(), 'completed');
      return result;
    } catch (error) {
      if (this.cancelled()) this.metrics.recordActivity(this.activity, seconds(), 'cancelled');
      else this.metrics.recordActivity(this.activity, seconds(), 'failed', !nonRetryable(error));
      throw error;
    }
  }
}

/** The adapter has usually turned a non-retryable error into a failure already; either way counts. */
function nonRetryable(error: unknown): boolean {
  return (error instanceof ApplicationFailure && error.nonRetryable) || isNonRetryable(error);
}

/** The Worker.create `interceptors.activity` entry. */
export function activityMetricsInterceptors(metrics: WorkerMetrics): ActivityInterceptorsFactory {
  return (context) => ({
    inbound: new ActivityMetricsInterceptor(
      metrics,
      context.info.activityType,
      () => context.cancellationSignal.aborted,
    ),
  });
}
