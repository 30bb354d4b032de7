-- Up Migration
-- The database's run lease (docs/sync-design.md, "One sync at a time per database"). Temporal's
-- fixed workflow id keeps syncs one at a time per SYNC_WORKFLOW_ID; two deployments with different
-- ids on one database would still interleave. The lease is held by the main sync (full,
-- incremental, smart) running now, whatever its workflow id: taken when its run starts (in the
-- transaction that records it), renewed by every transaction it writes the mirror in (which aborts
-- when the run no longer holds it: fencing), released when it ends.
SELECT set_config('stash_mirror.writer', 'sync', true);

CREATE TABLE sync_lease (
  -- Exactly one row, inserted here: the lease is free when holder_run_id is NULL.
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  -- sync_runs.id of the holding run (<workflow id>/<first execution run id>).
  holder_run_id text,
  holder_workflow_id text,
  -- The first execution's run id (the chain is described from it) and its Temporal namespace:
  -- enough for another deployment to ask Temporal whether the holder still runs.
  holder_temporal_run_id text,
  holder_namespace text,
  acquired_at timestamptz,
  -- Every fenced commit of the holder moves this; a holder Temporal cannot describe is taken over
  -- only after it has not moved for the lease's TTL.
  renewed_at timestamptz,
  CHECK ((holder_run_id IS NULL) = (acquired_at IS NULL) AND (holder_run_id IS NULL) = (renewed_at IS NULL))
);
INSERT INTO sync_lease (singleton) VALUES (true);

CREATE TRIGGER stash_mirror_read_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON sync_lease
  FOR EACH STATEMENT EXECUTE FUNCTION stash_mirror_refuse_foreign_writes();
