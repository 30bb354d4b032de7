import { listSyncState, resetTypeSyncState, type SyncStateRow } from '../../db/sync-state.js';
import { ENTITY_TABLES, type EntityType } from '../../stash/entity-types.js';
import { EXIT, fail } from '../shared.js';
import { loadConfig } from './config.js';
import { withDatabase } from './session.js';
import { refuseWhileSyncing } from './sync-guard.js';

/**
 * `stash-mirror reset <type> [--yes]`: forgets one type's sync state (db/sync-state.ts
 * resetTypeSyncState) so that its next smart or full sync reads it completely. Refuses while a
 * sync runs (exit 2); without --yes it says what it would forget and changes nothing (exit 1).
 */
export async function runReset(type: EntityType, options: { yes: boolean }): Promise<void> {
  const config = loadConfig();
  const plural = ENTITY_TABLES[type];
  await withDatabase(config, async ({ sql }) => {
    await refuseWhileSyncing(config, sql, `reset ${type}`);
    if (!options.yes) {
      const state = (await listSyncState(sql)).find((row) => row.entity_type === type) ?? null;
      process.stdout.write(
        [
          `would forget the sync state of ${type}: ${describe(state)}`,
          `the next sync (smart or full) would then read all ${plural} again; the mirrored ${plural} are kept`,
          '',
        ].join('\n'),
      );
      fail(`nothing changed: run \`stash-mirror reset ${type} --yes\` to do it`, EXIT.failed);
    }
    const { before, walks } = await resetTypeSyncState(sql, type);
    process.stdout.write(
      [
        `forgot the sync state of ${type}: ${describe(before, walks)}`,
        `the next sync reads all ${plural} again (\`stash-mirror sync smart\`, or \`stash-mirror sync full\`, which also reconciles deletions); the mirrored ${plural} are kept`,
        '',
      ].join('\n'),
    );
  });
}

/** The state's parts in one line: mark, last syncs, unfinished syncs (walk rows when known). */
function describe(state: SyncStateRow | null, walks?: number): string {
  if (!state) return 'no state recorded';
  const unfinished = Object.keys(state.resume_cursor ?? {});
  const parts = [
    `high-water mark ${state.high_water_mark_raw ?? 'none'}`,
    `last full sync ${state.last_full_sync_at?.toISOString() ?? 'never'}`,
    `last smart or incremental sync ${state.last_incremental_sync_at?.toISOString() ?? 'never'}`,
    unfinished.length === 0 ? 'no unfinished sync' : `unfinished: ${unfinished.join(', ')} sync`,
  ];
  if (walks !== undefined) parts.push(`${walks} walk ${walks === 1 ? 'row' : 'rows'} removed`);
  return parts.join('; ');
}
