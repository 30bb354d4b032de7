import type { Sql } from '../db/client.js';
import { lastCompletedRunStart } from '../db/runs.js';
import { lastTypeSyncs } from '../db/sync-state.js';
import { ENTITY_TYPES, type EntityType } from '../stash/entity-types.js';
import type { LastSyncs } from './metrics.js';

/** When each type last synced successfully, from sync_state and sync_runs (the age gauge's source). */
export async function readLastSyncs(sql: Sql): Promise<LastSyncs> {
  const [types, smart] = await Promise.all([lastTypeSyncs(sql), lastCompletedRunStart(sql, 'smart')]);
  return lastSyncsOf(types, smart);
}

/**
 * A type synced successfully when its walk finished (sync_state's marks, any sync type), and also
 * when a smart sync completed: it checked every type as of its start, but leaves the marks of types
 * where it found nothing new untouched. Counting only the marks would make a quiet type look
 * stale while the scheduled smart sync keeps it current.
 */
export function lastSyncsOf(types: Array<{ entityType: EntityType; at: Date | null }>, smart: Date | null): LastSyncs {
  const result = Object.fromEntries(ENTITY_TYPES.map((type) => [type, smart])) as LastSyncs;
  for (const { entityType, at } of types) {
    const current = result[entityType];
    if (at && (!current || at > current)) result[entityType] = at;
  }
  return result;
}
