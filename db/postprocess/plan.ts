import type { EntityType } from '../../stash/entity-types.js';
import { DATA_CHANGES } from '../vocabulary.js';

/**
 * The post-processing plan: which steps exist, in which order, and which changes trigger them.
 * Kept free of runtime imports (no postgres, no node builtins) so Temporal workflow code can
 * import it to decide which step activities to schedule; steps.ts attaches the SQL to each name.
 */

/**
 * In execution order: counts read the derived tables the two inheritance steps write; the user
 * steps read all of them (docs/user-views.md).
 */
export const POST_PROCESS_STEP_NAMES = [
  'image-inheritance',
  'scene-tag-inheritance',
  'entity-counts',
  'user-exclusions',
  'user-stats',
] as const;
export type PostProcessStepName = (typeof POST_PROCESS_STEP_NAMES)[number];

/** sync_log change types that mean an entity's mirrored data (row, own links or liveness) changed. */
export const RUN_CHANGE_TYPES = DATA_CHANGES;

/**
 * `all` recomputes every derived row (full sync). `run` recomputes only what the entities changed
 * in that run touch: sync_log rows with that run_id and change_type created/updated/deleted/revived.
 */
export type PostProcessScope = { kind: 'all' } | { kind: 'run'; runId: string };

/** Small on purpose: it is an activity result and ends up in a Temporal history. */
export interface StepResult {
  step: PostProcessStepName;
  scope: PostProcessScope['kind'];
  /**
   * Subjects recomputed: images (image-inheritance), scenes (scene-tag-inheritance), counted
   * entities (entity-counts), users (user-exclusions, user-stats).
   */
  affected: number;
  ms: number;
}

/**
 * Which changed entity types make a step's output stale. These are exactly the tables each step
 * reads (and the owners of the link tables it reads): image inheritance reads images, galleries and
 * their own links only; scene tag inheritance reads scenes, performers, studios, groups, tags and
 * their own links. Counts read everything (including both derived outputs), so they always run;
 * so do user exclusions, which read everything and the counts (an "empty" entity follows its
 * count). User stats read scenes and what a scene's performers, studio, tags and groups are.
 */
const TRIGGERS: Record<PostProcessStepName, readonly EntityType[] | 'always'> = {
  'image-inheritance': ['image', 'gallery'],
  'scene-tag-inheritance': ['scene', 'performer', 'studio', 'group', 'tag'],
  'entity-counts': 'always',
  'user-exclusions': 'always',
  'user-stats': ['scene', 'performer', 'studio', 'group', 'tag'],
};

export function stepRunsWhen(name: PostProcessStepName, changed: ReadonlySet<EntityType>): boolean {
  const trigger = TRIGGERS[name];
  return trigger === 'always' || trigger.some((type) => changed.has(type));
}

/** The names of the steps to run, in order, after a run that changed entities of these types. */
export function stepNamesFor(changed: Iterable<EntityType>): PostProcessStepName[] {
  const set: ReadonlySet<EntityType> = changed instanceof Set ? changed : new Set(changed);
  return POST_PROCESS_STEP_NAMES.filter((name) => stepRunsWhen(name, set));
}
