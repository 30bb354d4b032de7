-- Up Migration
-- Per-user views (docs/user-views.md): users, their restrictions, hidden entities and watch
-- activity are the mirror's OWN data (Stash knows nothing of them), so they are not under the
-- read-only guard and have foreign keys to `users`. What is derived from them — the precomputed
-- exclusions, per-user count corrections and watch stats — is written only by post-processing and
-- the recompute after an API write, so it IS guarded like every derived mirror table.
SELECT set_config('stash_mirror.writer', 'sync', true);

-- ---------------------------------------------------------------- every file of a scene
-- scenes.path holds the first file only. sceneMerge deletes the sources and gives the
-- destination their files: a deleted scene's paths, kept on its soft-deleted row, name the live
-- scene that now holds them, so its watch activity can follow it (user_activity_scenes below).
ALTER TABLE scenes ADD COLUMN file_paths text[] NOT NULL DEFAULT '{}';
-- Rows synced before this column existed: their first file is all the mirror knows until the
-- next sync reads the scene again (a deleted scene is never read again, and its first file is
-- what a merge destination lists).
UPDATE scenes SET file_paths = ARRAY[path] WHERE path IS NOT NULL;
CREATE INDEX scenes_file_paths ON scenes USING gin (file_paths);

-- ---------------------------------------------------------------- own data (not Stash's)
CREATE TABLE users (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
  role text NOT NULL CHECK (role IN ('admin', 'user')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per restricted dimension: EXCLUDE these ids (and their descendants), or INCLUDE only
-- content that carries one of them (or a descendant). No row: no restriction in that dimension.
CREATE TABLE user_restrictions (
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  entity_type text NOT NULL CHECK (entity_type IN ('tag', 'studio', 'group', 'gallery')),
  mode text NOT NULL CHECK (mode IN ('EXCLUDE', 'INCLUDE')),
  entity_ids bigint[] NOT NULL,
  PRIMARY KEY (user_id, entity_type)
);

CREATE TABLE user_hidden_entities (
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  entity_type text NOT NULL CHECK (entity_type IN ('studio', 'tag', 'performer', 'group', 'gallery', 'scene', 'image')),
  entity_id bigint NOT NULL,
  hidden_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, entity_type, entity_id)
);
-- "Which users hid this changed entity?" (the run scope of post-processing).
CREATE INDEX ON user_hidden_entities (entity_type, entity_id);

-- Watch events as the app reported them. scene_id is the scene played, kept as given even after
-- Stash deletes or merges it (user_activity_scenes resolves where it counts).
CREATE TABLE user_activity (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  scene_id bigint NOT NULL,
  event text NOT NULL CHECK (event IN ('play', 'o')),
  at timestamptz NOT NULL,
  duration_seconds double precision CHECK (duration_seconds >= 0),
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON user_activity (user_id, scene_id);
CREATE INDEX ON user_activity (scene_id);

-- ---------------------------------------------------------------- derived data (recomputable)
-- Everything a user may not see, with why: restricted (named by a restriction, or outside an
-- INCLUDE list), hidden (the user hid it), cascade (reached from one of those), empty (a container
-- whose every scene and image is excluded). Live entities only; one row per entity. `cascades`:
-- the exclusion reaches what carries or belongs to the entity (false for scenes and images, for
-- what lies outside an INCLUDE list only, and for empties); a sync's recompute compares it.
CREATE TABLE user_excluded_entities (
  user_id bigint NOT NULL,
  entity_type text NOT NULL CHECK (entity_type IN ('studio', 'tag', 'performer', 'group', 'gallery', 'scene', 'image')),
  entity_id bigint NOT NULL,
  reason text NOT NULL CHECK (reason IN ('restricted', 'hidden', 'cascade', 'empty')),
  cascades boolean NOT NULL,
  PRIMARY KEY (user_id, entity_type, entity_id)
);
-- "Which users exclude this changed entity?" (the run scope of post-processing).
CREATE INDEX ON user_excluded_entities (entity_type, entity_id);

-- Per user, how many of an entity's counted scenes and images (entity_counts; for groups the
-- scenes in scene_groups) are excluded: the user's count is the global one minus these. Stored
-- as the excluded part, not the user's count, so a new VISIBLE scene moves the global count and
-- stays right for every user without a recompute. Only rows with something excluded.
CREATE TABLE user_entity_counts (
  user_id bigint NOT NULL,
  entity_type text NOT NULL CHECK (entity_type IN ('performer', 'tag', 'studio', 'gallery', 'group')),
  entity_id bigint NOT NULL,
  excluded_scene_count integer NOT NULL,
  excluded_image_count integer NOT NULL,
  PRIMARY KEY (user_id, entity_type, entity_id)
);
CREATE INDEX ON user_entity_counts (entity_type, entity_id);

-- Watch stats per user and performer / studio / tag / group, over the CURRENT links of the scene
-- each event counts for.
CREATE TABLE user_stats (
  user_id bigint NOT NULL,
  entity_type text NOT NULL CHECK (entity_type IN ('performer', 'studio', 'tag', 'group')),
  entity_id bigint NOT NULL,
  play_count integer NOT NULL,
  play_duration double precision NOT NULL,
  o_count integer NOT NULL,
  last_played_at timestamptz,
  last_o_at timestamptz,
  PRIMARY KEY (user_id, entity_type, entity_id)
);
CREATE INDEX ON user_stats (entity_type, entity_id);

-- Where each event counts: its own scene while it is live; once Stash deleted it, the live scene
-- (lowest id) that now holds one of its files (a sceneMerge destination); else nowhere (NULL).
CREATE VIEW user_activity_scenes AS
SELECT
  a.id AS activity_id,
  a.user_id,
  a.scene_id,
  a.event,
  a.at,
  a.duration_seconds,
  CASE
    WHEN s.deleted_at IS NULL THEN s.id
    ELSE (
      SELECT min(d.id) FROM scenes d
      WHERE d.file_paths && s.file_paths AND d.deleted_at IS NULL AND d.id <> s.id
    )
  END AS counted_scene_id
FROM user_activity a
LEFT JOIN scenes s ON s.id = a.scene_id;

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['user_excluded_entities', 'user_entity_counts', 'user_stats'] LOOP
    EXECUTE format(
      'CREATE TRIGGER stash_mirror_read_only BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I
       FOR EACH STATEMENT EXECUTE FUNCTION stash_mirror_refuse_foreign_writes()', t);
  END LOOP;
END $$;
