-- Up Migration
-- The mirror schema: a public contract (docs/schema.md). Own data (entity and link tables) is
-- exactly what Stash has; derived data lives in separate tables so it can always be recomputed.
-- No foreign keys between mirror tables: Stash is the authority, rows are soft-deleted, and a page
-- may legitimately reference an entity whose own page has not been synced yet.

-- Only the sync path may write mirror tables: it sets `stash_mirror.writer = 'sync'` with
-- SET LOCAL in its transaction. Anything else (an app's stray UPDATE) is refused with this error.
CREATE FUNCTION stash_mirror_refuse_foreign_writes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('stash_mirror.writer', true) IS DISTINCT FROM 'sync' THEN
    RAISE EXCEPTION 'stash-mirror: % on "%" refused: mirror tables are read-only; only the sync writes them', TG_OP, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'Query the mirror freely; change data in Stash and let the next sync bring it here.';
  END IF;
  RETURN NULL;
END $$;

-- ---------------------------------------------------------------- entity tables
CREATE TABLE studios (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  parent_id bigint,
  aliases text[] NOT NULL DEFAULT '{}',
  urls text[] NOT NULL DEFAULT '{}',
  rating100 integer,
  favorite boolean NOT NULL DEFAULT false,
  details text,
  ignore_auto_tag boolean NOT NULL DEFAULT false,
  stash_created_at timestamptz NOT NULL,
  stash_updated_at timestamptz NOT NULL,
  stash_updated_at_raw text COLLATE "C" NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE tags (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  sort_name text,
  description text,
  aliases text[] NOT NULL DEFAULT '{}',
  favorite boolean NOT NULL DEFAULT false,
  ignore_auto_tag boolean NOT NULL DEFAULT false,
  stash_created_at timestamptz NOT NULL,
  stash_updated_at timestamptz NOT NULL,
  stash_updated_at_raw text COLLATE "C" NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE performers (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  disambiguation text,
  gender text CHECK (gender IN ('MALE', 'FEMALE', 'TRANSGENDER_MALE', 'TRANSGENDER_FEMALE', 'INTERSEX', 'NON_BINARY')),
  birthdate date,
  death_date date,
  country text,
  ethnicity text,
  height_cm integer,
  alias_list text[] NOT NULL DEFAULT '{}',
  favorite boolean NOT NULL DEFAULT false,
  rating100 integer,
  details text,
  urls text[] NOT NULL DEFAULT '{}',
  ignore_auto_tag boolean NOT NULL DEFAULT false,
  stash_created_at timestamptz NOT NULL,
  stash_updated_at timestamptz NOT NULL,
  stash_updated_at_raw text COLLATE "C" NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE groups (
  id bigint PRIMARY KEY,
  name text NOT NULL,
  aliases text,
  duration integer,
  date date,
  rating100 integer,
  studio_id bigint,
  director text,
  synopsis text,
  urls text[] NOT NULL DEFAULT '{}',
  stash_created_at timestamptz NOT NULL,
  stash_updated_at timestamptz NOT NULL,
  stash_updated_at_raw text COLLATE "C" NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE galleries (
  id bigint PRIMARY KEY,
  title text,
  code text,
  date date,
  details text,
  photographer text,
  rating100 integer,
  organized boolean NOT NULL DEFAULT false,
  studio_id bigint,
  urls text[] NOT NULL DEFAULT '{}',
  image_count integer NOT NULL DEFAULT 0,
  stash_created_at timestamptz NOT NULL,
  stash_updated_at timestamptz NOT NULL,
  stash_updated_at_raw text COLLATE "C" NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE scenes (
  id bigint PRIMARY KEY,
  title text,
  code text,
  date date,
  details text,
  director text,
  studio_id bigint,
  rating100 integer,
  organized boolean NOT NULL DEFAULT false,
  o_counter integer NOT NULL DEFAULT 0,
  play_count integer NOT NULL DEFAULT 0,
  play_duration double precision NOT NULL DEFAULT 0,
  resume_time double precision NOT NULL DEFAULT 0,
  last_played_at timestamptz,
  interactive boolean NOT NULL DEFAULT false,
  urls text[] NOT NULL DEFAULT '{}',
  -- From the primary (first) file.
  duration double precision,
  filesize bigint,
  width integer,
  height integer,
  video_codec text,
  audio_codec text,
  frame_rate double precision,
  bit_rate bigint,
  path text,
  stash_created_at timestamptz NOT NULL,
  stash_updated_at timestamptz NOT NULL,
  stash_updated_at_raw text COLLATE "C" NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

CREATE TABLE images (
  id bigint PRIMARY KEY,
  title text,
  code text,
  date date,
  details text,
  photographer text,
  studio_id bigint,
  rating100 integer,
  organized boolean NOT NULL DEFAULT false,
  o_counter integer NOT NULL DEFAULT 0,
  urls text[] NOT NULL DEFAULT '{}',
  -- From the primary (first) visual file.
  width integer,
  height integer,
  filesize bigint,
  format text,
  path text,
  stash_created_at timestamptz NOT NULL,
  stash_updated_at timestamptz NOT NULL,
  stash_updated_at_raw text COLLATE "C" NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);

-- ---------------------------------------------------------------- own links (exactly as Stash has them)
CREATE TABLE scene_performers (scene_id bigint NOT NULL, performer_id bigint NOT NULL, PRIMARY KEY (scene_id, performer_id));
CREATE TABLE scene_tags (scene_id bigint NOT NULL, tag_id bigint NOT NULL, PRIMARY KEY (scene_id, tag_id));
CREATE TABLE scene_galleries (scene_id bigint NOT NULL, gallery_id bigint NOT NULL, PRIMARY KEY (scene_id, gallery_id));
CREATE TABLE scene_groups (scene_id bigint NOT NULL, group_id bigint NOT NULL, scene_index integer, PRIMARY KEY (scene_id, group_id));
CREATE TABLE image_galleries (image_id bigint NOT NULL, gallery_id bigint NOT NULL, PRIMARY KEY (image_id, gallery_id));
CREATE TABLE image_performers (image_id bigint NOT NULL, performer_id bigint NOT NULL, PRIMARY KEY (image_id, performer_id));
CREATE TABLE image_tags (image_id bigint NOT NULL, tag_id bigint NOT NULL, PRIMARY KEY (image_id, tag_id));
CREATE TABLE gallery_performers (gallery_id bigint NOT NULL, performer_id bigint NOT NULL, PRIMARY KEY (gallery_id, performer_id));
CREATE TABLE gallery_tags (gallery_id bigint NOT NULL, tag_id bigint NOT NULL, PRIMARY KEY (gallery_id, tag_id));
CREATE TABLE performer_tags (performer_id bigint NOT NULL, tag_id bigint NOT NULL, PRIMARY KEY (performer_id, tag_id));
CREATE TABLE studio_tags (studio_id bigint NOT NULL, tag_id bigint NOT NULL, PRIMARY KEY (studio_id, tag_id));
CREATE TABLE group_tags (group_id bigint NOT NULL, tag_id bigint NOT NULL, PRIMARY KEY (group_id, tag_id));
CREATE TABLE tag_parents (child_id bigint NOT NULL, parent_id bigint NOT NULL, PRIMARY KEY (child_id, parent_id));
-- One row per containing relation, owned by the sub group (Stash's Group.containing_groups).
CREATE TABLE group_relations (
  sub_group_id bigint NOT NULL,
  containing_group_id bigint NOT NULL,
  description text,
  PRIMARY KEY (sub_group_id, containing_group_id)
);

-- Reverse lookups: "which scenes have tag X", and repairing links after a merge or deletion.
CREATE INDEX ON scene_performers (performer_id);
CREATE INDEX ON scene_tags (tag_id);
CREATE INDEX ON scene_galleries (gallery_id);
CREATE INDEX ON scene_groups (group_id);
CREATE INDEX ON image_galleries (gallery_id);
CREATE INDEX ON image_performers (performer_id);
CREATE INDEX ON image_tags (tag_id);
CREATE INDEX ON gallery_performers (performer_id);
CREATE INDEX ON gallery_tags (tag_id);
CREATE INDEX ON performer_tags (tag_id);
CREATE INDEX ON studio_tags (tag_id);
CREATE INDEX ON group_tags (tag_id);
CREATE INDEX ON tag_parents (parent_id);
CREATE INDEX ON group_relations (containing_group_id);
CREATE INDEX ON studios (parent_id);
CREATE INDEX ON groups (studio_id);
CREATE INDEX ON galleries (studio_id);
CREATE INDEX ON scenes (studio_id);
CREATE INDEX ON images (studio_id);
CREATE INDEX ON studios (stash_updated_at_raw);
CREATE INDEX ON tags (stash_updated_at_raw);
CREATE INDEX ON performers (stash_updated_at_raw);
CREATE INDEX ON groups (stash_updated_at_raw);
CREATE INDEX ON galleries (stash_updated_at_raw);
CREATE INDEX ON scenes (stash_updated_at_raw);
CREATE INDEX ON images (stash_updated_at_raw);

-- ---------------------------------------------------------------- derived data (recomputable)
-- Gallery inheritance: an image's effective scalar values (own value wins, else the first gallery
-- by id that has one) and its effective performers/tags (own plus those of all its galleries).
CREATE TABLE image_effective (
  image_id bigint PRIMARY KEY,
  studio_id bigint,
  date date,
  photographer text,
  details text,
  computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE image_effective_performers (
  image_id bigint NOT NULL,
  performer_id bigint NOT NULL,
  inherited boolean NOT NULL,
  PRIMARY KEY (image_id, performer_id)
);
CREATE TABLE image_effective_tags (
  image_id bigint NOT NULL,
  tag_id bigint NOT NULL,
  inherited boolean NOT NULL,
  PRIMARY KEY (image_id, tag_id)
);
CREATE INDEX ON image_effective_performers (performer_id);
CREATE INDEX ON image_effective_tags (tag_id);
CREATE INDEX ON image_effective (studio_id);

-- Scene tag inheritance: tags a scene gets from its performers, its studio and its groups
-- (own tags stay in scene_tags; a tag may arrive from several sources, one row per source).
CREATE TABLE scene_inherited_tags (
  scene_id bigint NOT NULL,
  tag_id bigint NOT NULL,
  source text NOT NULL CHECK (source IN ('performer', 'studio', 'group')),
  PRIMARY KEY (scene_id, tag_id, source)
);
CREATE INDEX ON scene_inherited_tags (tag_id);

-- Denormalized counts over effective links and live rows only.
CREATE TABLE entity_counts (
  entity_type text NOT NULL CHECK (entity_type IN ('performer', 'tag', 'studio', 'gallery')),
  entity_id bigint NOT NULL,
  image_count integer NOT NULL DEFAULT 0,
  scene_count integer NOT NULL DEFAULT 0,
  computed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entity_type, entity_id)
);

-- ---------------------------------------------------------------- bookkeeping
CREATE TABLE sync_state (
  entity_type text PRIMARY KEY CHECK (entity_type IN ('studio', 'tag', 'performer', 'group', 'gallery', 'scene', 'image')),
  last_full_sync_at timestamptz,
  last_incremental_sync_at timestamptz,
  -- Newest updated_at seen from Stash, as Stash's exact string (the only safe cursor value).
  high_water_mark_raw text COLLATE "C",
  -- The in-progress cursor of an interrupted sync of this type: where the next run resumes.
  resume_cursor jsonb,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO sync_state (entity_type)
VALUES ('studio'), ('tag'), ('performer'), ('group'), ('gallery'), ('scene'), ('image');

CREATE TABLE sync_runs (
  -- Temporal workflow id + '/' + first run id: one row per logical run, across continue-as-new.
  id text PRIMARY KEY,
  workflow_id text NOT NULL,
  temporal_run_id text NOT NULL,
  sync_type text NOT NULL CHECK (sync_type IN ('full', 'incremental', 'smart', 'specific')),
  trigger text NOT NULL DEFAULT 'manual',
  status text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'cancelled', 'skipped')),
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  -- Durable progress, readable when no worker is polling: phase, current entity type, pages.
  progress jsonb NOT NULL DEFAULT '{}',
  -- { "<entity_type>": { "fetched", "created", "updated", "unchanged", "failed", "deleted" } }
  counts jsonb NOT NULL DEFAULT '{}',
  error text
);
CREATE INDEX ON sync_runs (started_at DESC);
CREATE INDEX ON sync_runs (status) WHERE status = 'running';

CREATE TABLE sync_log (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  entity_type text NOT NULL,
  -- NULL for a run-wide row (a full sync's summary of everything it covered without logging each).
  entity_id bigint,
  sync_type text NOT NULL CHECK (sync_type IN ('full', 'incremental', 'smart', 'specific')),
  change_type text NOT NULL CHECK (change_type IN ('created', 'updated', 'unchanged', 'failed', 'deleted', 'revived')),
  changed_fields text[],
  error_message text,
  details jsonb,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_log_entity_history ON sync_log (entity_type, entity_id, created_at DESC);
CREATE INDEX ON sync_log (run_id);
CREATE INDEX ON sync_log (created_at);

-- Adds a page's counts to a run's per-entity counts in one statement.
CREATE FUNCTION sync_runs_add_counts(p_run_id text, p_entity_type text, p_delta jsonb) RETURNS void
LANGUAGE sql AS $$
  UPDATE sync_runs
  SET counts = jsonb_set(
    counts,
    ARRAY[p_entity_type],
    (
      SELECT jsonb_object_agg(key, COALESCE((counts -> p_entity_type ->> key)::bigint, 0) + value::bigint)
      FROM jsonb_each_text(p_delta)
    ) || COALESCE(
      (SELECT jsonb_object_agg(key, value) FROM jsonb_each(counts -> p_entity_type) WHERE NOT p_delta ? key),
      '{}'::jsonb
    )
  )
  WHERE id = p_run_id
$$;

-- ---------------------------------------------------------------- read-only guard on every table above
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'studios', 'tags', 'performers', 'groups', 'galleries', 'scenes', 'images',
    'scene_performers', 'scene_tags', 'scene_galleries', 'scene_groups', 'image_galleries',
    'image_performers', 'image_tags', 'gallery_performers', 'gallery_tags', 'performer_tags',
    'studio_tags', 'group_tags', 'tag_parents', 'group_relations',
    'image_effective', 'image_effective_performers', 'image_effective_tags',
    'scene_inherited_tags', 'entity_counts', 'sync_state', 'sync_runs', 'sync_log'
  ] LOOP
    EXECUTE format(
      'CREATE TRIGGER stash_mirror_read_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
       FOR EACH STATEMENT EXECUTE FUNCTION stash_mirror_refuse_foreign_writes()', t);
  END LOOP;
END $$;
