/**
 * What a run cost Temporal and what its post-processing steps took, read from the histories of
 * the run's chain of executions (first execution → continued-as-new → …).
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { StepResult } from '../db/postprocess/plan.js';

export interface RunHistory {
  /** History events of all the chain's executions. */
  events: number;
  executions: number;
  /** Each postProcessStep activity's result, in completion order. */
  steps: StepResult[];
}

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;

const isStepResult = (value: unknown): value is StepResult =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { step?: unknown }).step === 'string' &&
  typeof (value as { ms?: unknown }).ms === 'number';

export async function runHistory(client: Client, workflowId: string, firstRunId: string): Promise<RunHistory> {
  const result: RunHistory = { events: 0, executions: 0, steps: [] };
  for (let runId: string | undefined = firstRunId; runId; ) {
    const history: History = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events: NonNullable<History['events']> = history.events ?? [];
    result.executions += 1;
    result.events += events.length;
    const activityNames = new Map<string, string>();
    for (const event of events) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) activityNames.set(String(event.eventId), scheduled.activityType?.name ?? '');
      const completed = event.activityTaskCompletedEventAttributes;
      if (!completed || activityNames.get(String(completed.scheduledEventId)) !== 'postProcessStep') continue;
      const payload = completed.result?.payloads?.[0];
      const value = payload ? defaultPayloadConverter.fromPayload<unknown>(payload) : undefined;
      if (isStepResult(value)) result.steps.push(value);
    }
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return result;
}
