-- Up Migration
-- Database roles for whoever reads the mirror (docs/readers.md). The read-only trigger alone is
-- a convention: any client may run set_config('stash_mirror.writer', 'sync', true) and write.
-- Privileges are enforced by PostgreSQL itself:
--   stash_mirror_reader  SELECT on every table, view and sequence of the mirror (an app's role)
--   stash_mirror_api     the reader, plus writes to the seven user tables the API keeps (users
--                        and their restrictions, hidden entities, activity, and what the API's
--                        recompute derives from them); nothing else
-- Both are NOLOGIN groups: a login role is made a member of one (docs/readers.md has the SQL;
-- `stash-mirror dev` makes one for its API itself).

-- Only the owner may create objects in the mirror's schema (the default since PostgreSQL 15; older
-- servers let every role create there). A reader who could create a function or operator there
-- could shadow a built-in that the sync's queries resolve through the search path. A migrating
-- user who does not own the schema gets a warning here, not an error.
DO $$
BEGIN
  EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', current_schema());
END $$;

-- Creating the roles (if missing) and the grants, per database. A function, so that the very same
-- steps can run again where this migration's could not: after a DBA created the roles (the owner
-- had no CREATEROLE), or after a dump was restored onto a server without them. As the mirror's
-- owner: `select stash_mirror_grant_roles()` (docs/readers.md). Safe to run again at any time.
-- `SET search_path FROM CURRENT` pins the schema this migration runs in, whatever the caller's.
CREATE FUNCTION stash_mirror_grant_roles() RETURNS void
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  mirror_schema text := current_schema();
  owner_role text;
  t text;
  seq text;
BEGIN
  -- Roles belong to the whole cluster: the first database migrated on a server creates them, every
  -- later one uses them. Parallel migrations of several databases (the test suite) may race to
  -- create the same role: the loser waits for the winner's commit, then gets duplicate_object or
  -- unique_violation, and uses the winner's role. A caller without CREATEROLE (a managed
  -- database's owner) creates nothing and does not fail: a DBA creates the roles (docs/readers.md).
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stash_mirror_reader') THEN
    BEGIN
      CREATE ROLE stash_mirror_reader NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN NULL;
    END;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stash_mirror_api')
     AND EXISTS (SELECT FROM pg_roles WHERE rolname = 'stash_mirror_reader') THEN
    BEGIN
      CREATE ROLE stash_mirror_api NOLOGIN IN ROLE stash_mirror_reader;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL;
      WHEN insufficient_privilege THEN NULL;
    END;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stash_mirror_reader')
     OR NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stash_mirror_api') THEN
    RAISE NOTICE 'stash-mirror: the roles stash_mirror_reader and stash_mirror_api do not exist and % may not create them: nothing granted; see docs/readers.md', current_user;
    RETURN;
  END IF;

  -- Everything there is, and (default privileges) everything later migrations create: the tables
  -- are created by the owner of `scenes`, whoever grants.
  SELECT tableowner INTO owner_role FROM pg_tables WHERE schemaname = mirror_schema AND tablename = 'scenes';
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO stash_mirror_reader', mirror_schema);
  EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO stash_mirror_reader', mirror_schema);
  EXECUTE format('GRANT SELECT ON ALL SEQUENCES IN SCHEMA %I TO stash_mirror_reader', mirror_schema);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT ON TABLES TO stash_mirror_reader',
    owner_role, mirror_schema);
  EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT ON SEQUENCES TO stash_mirror_reader',
    owner_role, mirror_schema);

  -- What the API writes (db/roles.ts API_WRITABLE_TABLES says the same): the users' own data, and
  -- the derived user tables its recompute after a settings change rewrites (those keep the
  -- read-only trigger, which the recompute switches off like the sync does). No TRUNCATE.
  FOREACH t IN ARRAY ARRAY['users', 'user_restrictions', 'user_hidden_entities', 'user_activity',
                           'user_excluded_entities', 'user_entity_counts', 'user_stats'] LOOP
    EXECUTE format('GRANT INSERT, UPDATE, DELETE ON %I.%I TO stash_mirror_api', mirror_schema, t);
    FOR seq IN
      SELECT pg_get_serial_sequence(format('%I.%I', mirror_schema, t), a.attname)
      FROM pg_attribute a
      WHERE a.attrelid = format('%I.%I', mirror_schema, t)::regclass AND a.attidentity <> '' AND NOT a.attisdropped
    LOOP
      EXECUTE format('GRANT USAGE ON SEQUENCE %s TO stash_mirror_api', seq);
    END LOOP;
  END LOOP;
  -- The recompute ANALYZEs user_excluded_entities after a big first fill; since PostgreSQL 17 a
  -- non-owner may do so with MAINTAIN (before, ANALYZE skips the table with a warning).
  IF current_setting('server_version_num')::int >= 170000 THEN
    EXECUTE format('GRANT MAINTAIN ON %I.user_excluded_entities TO stash_mirror_api', mirror_schema);
  END IF;
  -- The recompute works in temp tables. PUBLIC has TEMPORARY by default; this keeps the API
  -- working where a DBA revoked it (a non-owner's grant only warns).
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO stash_mirror_api', current_database());

  IF NOT pg_has_role('stash_mirror_api', 'stash_mirror_reader', 'USAGE') THEN
    BEGIN
      GRANT stash_mirror_reader TO stash_mirror_api;
    EXCEPTION
      -- A concurrent grant in another database got there first.
      WHEN unique_violation THEN NULL;
      WHEN insufficient_privilege THEN
        RAISE NOTICE 'stash-mirror: stash_mirror_api is not a member of stash_mirror_reader and cannot be made one here; see docs/readers.md';
    END;
  END IF;
END $$;

-- Only the owner (or a DBA) grants.
REVOKE EXECUTE ON FUNCTION stash_mirror_grant_roles() FROM PUBLIC;

SELECT stash_mirror_grant_roles();
