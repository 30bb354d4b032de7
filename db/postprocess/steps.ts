import type { EntityType } from '../../stash/entity-types.js';
import type { Sql } from '../client.js';
import { runEntityCounts } from './entity-counts.js';
import { runImageInheritance } from './image-inheritance.js';
import {
  POST_PROCESS_STEP_NAMES,
  type PostProcessScope,
  type PostProcessStepName,
  type StepResult,
  stepRunsWhen,
} from './plan.js';
import { runSceneTagInheritance } from './scene-tag-inheritance.js';

export type { PostProcessScope, PostProcessStepName, StepResult } from './plan.js';
export { POST_PROCESS_STEP_NAMES, RUN_CHANGE_TYPES, stepNamesFor } from './plan.js';

/**
 * One post-processing step. Every sync mode (full, incremental, smart, single entity) runs the
 * same list: a full sync with scope `all`, the others with scope `run`. Each run() is one
 * transaction, so a step is a natural Temporal activity (retrying it recomputes the same rows).
 */
export interface PostProcessStep {
  readonly name: PostProcessStepName;
  /** Whether a run that changed entities of these types can have made this step's output stale. */
  runsWhen(changed: ReadonlySet<EntityType>): boolean;
  run(sql: Sql, scope: PostProcessScope): Promise<StepResult>;
}

const RUNNERS: Record<PostProcessStepName, (sql: Sql, scope: PostProcessScope) => Promise<StepResult>> = {
  'image-inheritance': runImageInheritance,
  'scene-tag-inheritance': runSceneTagInheritance,
  'entity-counts': runEntityCounts,
};

/** The steps, in the order they must run (plan.ts holds the order and the trigger conditions). */
export const POST_PROCESS_STEPS: readonly PostProcessStep[] = POST_PROCESS_STEP_NAMES.map((name) => ({
  name,
  runsWhen: (changed: ReadonlySet<EntityType>) => stepRunsWhen(name, changed),
  run: RUNNERS[name],
}));

/** The steps to run, in order, after a run that changed entities of these types. */
export function stepsFor(changedTypes: Iterable<EntityType>): PostProcessStep[] {
  const changed: ReadonlySet<EntityType> = changedTypes instanceof Set ? changedTypes : new Set(changedTypes);
  return POST_PROCESS_STEPS.filter((step) => step.runsWhen(changed));
}

/** Runs one step by name: the body of the post-processing activity. */
export async function runPostProcessStep(
  sql: Sql,
  name: PostProcessStepName,
  scope: PostProcessScope,
): Promise<StepResult> {
  const step = POST_PROCESS_STEPS.find((candidate) => candidate.name === name);
  if (!step) throw new Error(`unknown post-processing step "${name}"`);
  // An empty run id would match no sync_log row and silently recompute nothing.
  if (scope.kind === 'run' && scope.runId === '') throw new Error('post-processing scope "run" needs a run id');
  return step.run(sql, scope);
}
