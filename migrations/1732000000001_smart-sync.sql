-- Up Migration
-- Smart sync bookkeeping (docs/sync-design.md, "Smart sync").

-- When the high-water mark's second was last read completely, by the worker's clock. A second is
-- "settled" once it was read after it ended (plus a clock-skew allowance): rows updated within
-- that same second after an earlier read could otherwise be missed (same timestamp string).
ALTER TABLE sync_state ADD COLUMN high_water_mark_read_at timestamptz;

-- Entities Stash has but the mirror could not map (bad data), so the count signals that detect
-- deletions compare Stash with "live + failing" and do not scan forever because of them.
CREATE TABLE sync_failures (
  entity_type text NOT NULL,
  entity_id bigint NOT NULL,
  run_id text NOT NULL,
  error_message text,
  failed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entity_type, entity_id)
);
CREATE TRIGGER stash_mirror_read_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON sync_failures
  FOR EACH STATEMENT EXECUTE FUNCTION stash_mirror_refuse_foreign_writes();
