import type { Sql } from '../client.js';
import { runEntityCounts } from './entity-counts.js';
import { runImageInheritance } from './image-inheritance.js';
import type { PostProcessScope, PostProcessStepName, StepResult } from './plan.js';
import { runSceneTagInheritance } from './scene-tag-inheritance.js';

export type { PostProcessScope, PostProcessStepName, StepResult } from './plan.js';
export { POST_PROCESS_STEP_NAMES, RUN_CHANGE_TYPES, stepNamesFor } from './plan.js';

/**
 * The SQL of each post-processing step (plan.ts holds the order and when each runs). Every sync
 * mode (full, incremental, smart, single entity) runs the same list: a full sync with scope
 * `all`, the others with scope `run`. Each step is one transaction, so it is a natural Temporal
 * activity (retrying it recomputes the same rows).
 */
const RUNNERS: Record<PostProcessStepName, (sql: Sql, scope: PostProcessScope) => Promise<StepResult>> = {
  'image-inheritance': runImageInheritance,
  'scene-tag-inheritance': runSceneTagInheritance,
  'entity-counts': runEntityCounts,
};

/** Runs one step by name: the body of the post-processing activity. */
export async function runPostProcessStep(
  sql: Sql,
  name: PostProcessStepName,
  scope: PostProcessScope,
): Promise<StepResult> {
  const run = RUNNERS[name];
  if (!run) throw new Error(`unknown post-processing step "${name}"`);
  // An empty run id would match no sync_log row and silently recompute nothing.
  if (scope.kind === 'run' && scope.runId === '') throw new Error('post-processing scope "run" needs a run id');
  return run(sql, scope);
}
