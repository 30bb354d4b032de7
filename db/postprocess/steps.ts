import type { Sql } from '../client.js';
import { changedTypesInRun } from '../runs.js';
import { runEntityCounts } from './entity-counts.js';
import { runImageInheritance } from './image-inheritance.js';
import {
  POST_PROCESS_STEP_NAMES,
  type PostProcessScope,
  type PostProcessStepName,
  type StepResult,
  stepNamesFor,
} from './plan.js';
import { runSceneTagInheritance } from './scene-tag-inheritance.js';
import { hasStaleCounts } from './shared.js';
import { runUserExclusions } from './user-exclusions.js';
import { runUserStats } from './user-stats.js';

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
  'user-exclusions': runUserExclusions,
  'user-stats': runUserStats,
};

/**
 * The steps a run needs, in order: all of them after a full sync; otherwise those whose trigger
 * types the run changed (sync_log), and none at all when it changed nothing and no recount is
 * pending from an earlier run (stale entity_counts marks): a no-op sync costs no step.
 */
export async function planRunSteps(sql: Sql, scope: PostProcessScope): Promise<PostProcessStepName[]> {
  if (scope.kind === 'all') return [...POST_PROCESS_STEP_NAMES];
  const changed = await changedTypesInRun(sql, scope.runId);
  if (changed.length === 0 && !(await hasStaleCounts(sql))) return [];
  return stepNamesFor(changed);
}

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
