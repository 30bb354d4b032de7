/**
 * Patch ids for workflow changes that alter the command sequence (`patched(id)`): executions
 * recorded before a change replay the old path, new ones take the new. Keep an id here until no
 * history older than its change can still be running or replayed; docs/architecture.md says how.
 */

/** Sync log retention runs after every sync, not only after full syncs (issue 14). */
export const PRUNE_AFTER_EVERY_RUN = 'prune-after-every-run';

/**
 * Types are read by walks: activities that each read a batch of pages (id ranges of scenes, images
 * and galleries at once); smart probes, reconcile + repair, the post-processing plan and the
 * run's end each take one activity (issue 11). Executions started before keep one page per
 * activity (syncPage).
 */
export const WALKS = 'walks';
