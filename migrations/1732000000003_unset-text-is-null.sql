-- Up Migration
-- Unset text is NULL in the mirror (docs/schema.md). Real Stash serves every unset text field as
-- "" and mirrors synced before the mapper normalised it hold '' instead: turn those into NULL, so
-- the next sync sees them unchanged, and re-derive the two inherited text values they affected.
-- Safe to run again. synced_at is left alone: this is not a sync.
SELECT set_config('stash_mirror.writer', 'sync', true);

UPDATE studios SET details = NULL WHERE details = '';

UPDATE tags SET sort_name = nullif(sort_name, ''), description = nullif(description, '')
WHERE '' IN (sort_name, description);

UPDATE performers
SET disambiguation = nullif(disambiguation, ''), country = nullif(country, ''),
    ethnicity = nullif(ethnicity, ''), details = nullif(details, '')
WHERE '' IN (disambiguation, country, ethnicity, details);

UPDATE groups
SET aliases = nullif(aliases, ''), director = nullif(director, ''), synopsis = nullif(synopsis, '')
WHERE '' IN (aliases, director, synopsis);

UPDATE group_relations SET description = NULL WHERE description = '';

UPDATE galleries
SET title = nullif(title, ''), code = nullif(code, ''), details = nullif(details, ''),
    photographer = nullif(photographer, '')
WHERE '' IN (title, code, details, photographer);

UPDATE scenes
SET title = nullif(title, ''), code = nullif(code, ''), details = nullif(details, ''),
    director = nullif(director, '')
WHERE '' IN (title, code, details, director);

UPDATE images
SET title = nullif(title, ''), code = nullif(code, ''), details = nullif(details, ''),
    photographer = nullif(photographer, '')
WHERE '' IN (title, code, details, photographer);

-- An image whose own details/photographer was '' never inherited its gallery's, and a gallery
-- holding '' hid the value of the next gallery: re-derive both columns as post-processing does
-- (own value, else the first live gallery by id that has one) wherever the stored one differs.
UPDATE image_effective e
SET photographer = derived.photographer, details = derived.details, computed_at = now()
FROM (
  SELECT
    i.id,
    coalesce(i.photographer, (array_agg(g.photographer ORDER BY g.id) FILTER (WHERE g.photographer <> ''))[1])
      AS photographer,
    coalesce(i.details, (array_agg(g.details ORDER BY g.id) FILTER (WHERE g.details <> ''))[1]) AS details
  FROM images i
  LEFT JOIN image_galleries ig ON ig.image_id = i.id
  LEFT JOIN galleries g ON g.id = ig.gallery_id AND g.deleted_at IS NULL
  WHERE i.deleted_at IS NULL
  GROUP BY i.id
) derived
WHERE e.image_id = derived.id
  AND (e.photographer IS DISTINCT FROM derived.photographer OR e.details IS DISTINCT FROM derived.details);
