-- Up Migration
-- sync_state.resume_cursor becomes an object keyed by sync type ({"full": {...}, "smart": {...}}),
-- so a smart sync running after a cancelled full sync keeps the full sync's place.
UPDATE sync_state
SET resume_cursor = jsonb_build_object(resume_cursor ->> 'syncType', resume_cursor)
WHERE resume_cursor ? 'syncType';
