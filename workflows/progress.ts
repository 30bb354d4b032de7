import { defineQuery } from '@temporalio/workflow';
import type { EntityCounts } from '../db/vocabulary.js';
import type { EntityType } from '../stash/entity-types.js';

export interface TypeProgress extends EntityCounts {
  phase: 'pending' | 'walk' | 'catchup' | 'done';
  pages: number;
}

export interface SyncProgress {
  runId: string;
  syncType: string;
  phase: 'starting' | 'entities' | 'reconcile' | 'repair' | 'postprocess' | 'completed';
  /** Types being synced right now. */
  activeTypes: EntityType[];
  types: Partial<Record<EntityType, TypeProgress>>;
  pagesThisExecution: number;
  continuedAsNew: number;
  errors: string[];
}

/** Live progress of a running sync (answers only while a worker polls; sync_runs has it too). */
export const progressQuery = defineQuery<SyncProgress>('progress');
