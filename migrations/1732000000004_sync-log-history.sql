-- Up Migration
-- Per-entity sync history (docs/sync-design.md, "What a sync logs"): incremental, smart and
-- single-entity syncs log every entity they fetched, including those that did not change
-- (`skipped`), and every row says whether the entity's mirrored data changed.
SELECT set_config('stash_mirror.writer', 'sync', true);

ALTER TABLE sync_log DROP CONSTRAINT sync_log_change_type_check;
ALTER TABLE sync_log ADD CONSTRAINT sync_log_change_type_check
  CHECK (change_type IN ('created', 'updated', 'unchanged', 'skipped', 'failed', 'deleted', 'revived'));

-- Derived from change_type (db/vocabulary.ts DATA_CHANGES), so it can never disagree with it.
ALTER TABLE sync_log ADD COLUMN had_changes boolean NOT NULL
  GENERATED ALWAYS AS (change_type IN ('created', 'updated', 'deleted', 'revived')) STORED;

-- Retention prunes finished runs by age in batches; running runs are never pruned.
CREATE INDEX sync_runs_finished_at ON sync_runs (coalesce(completed_at, started_at)) WHERE status <> 'running';
