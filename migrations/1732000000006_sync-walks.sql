-- Up Migration
-- The walks of a type's sync (docs/sync-design.md, "Walks"): a type's pages are read by one or
-- more walks (id ranges of scenes, images and galleries read at once), each with its own cursor
-- and page sequence, so each walk is its own unit of checkpoint and retry and concurrent walks
-- never wait on one another's checkpoint row.
SELECT set_config('stash_mirror.writer', 'sync', true);

CREATE TABLE sync_walks (
  entity_type text NOT NULL CHECK (entity_type IN ('studio', 'tag', 'performer', 'group', 'gallery', 'scene', 'image')),
  sync_type text NOT NULL CHECK (sync_type IN ('full', 'incremental', 'smart', 'specific')),
  phase text NOT NULL CHECK (phase IN ('walk', 'catchup')),
  walk integer NOT NULL,
  run_id text NOT NULL,
  cursor jsonb NOT NULL,
  -- Committed pages: a page whose seq is already committed is never applied twice.
  seq integer NOT NULL DEFAULT 0,
  done boolean NOT NULL DEFAULT false,
  -- Lexically newest updated_at this walk has read (the type's high-water mark is the max).
  newest_seen text COLLATE "C",
  -- This run's counts of the walk: { fetched, created, updated, unchanged, failed, deleted }.
  counts jsonb NOT NULL DEFAULT '{}',
  pages integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entity_type, sync_type, phase, walk)
);
CREATE TRIGGER stash_mirror_read_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON sync_walks
  FOR EACH STATEMENT EXECUTE FUNCTION stash_mirror_refuse_foreign_writes();
