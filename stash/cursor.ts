/**
 * Where a walk over one entity type stands. Small and JSON-safe: it travels in activity
 * results, workflow state and sync_state.resume_cursor.
 *
 * - `id` keyset (scenes, images, galleries: Stash has an `id` criterion there): always page 1 of
 *   `id > afterId` sorted by id, so edits, inserts and deletions never shift later rows.
 * - `updated_at` keyset (studios, tags, performers, groups: no id criterion): page 1 of
 *   `updated_at > after` sorted by updated_at. Many rows share one second and Stash orders ties
 *   arbitrarily, so a page that ends inside a second is cut before that second and the whole
 *   second is read at once (`EQUALS`, per_page -1). `after` is Stash's own string: its filter
 *   and its sort compare the same strings lexically, so the walk is consistent.
 * `since` narrows a walk to rows updated at or after a lexical bound (catch-up and incremental).
 * `upTo` (id walks) bounds a walk to one id range, so several ranges of a type are walked at once;
 * null or absent: no upper bound.
 */
export type PageCursor =
  | { kind: 'id'; afterId: number; since: string | null; upTo?: number | null }
  | { kind: 'updated_at'; after: string | null; since: string | null };

export function initialCursor(paging: 'id' | 'updated_at', since: string | null): PageCursor {
  return paging === 'id' ? { kind: 'id', afterId: 0, since } : { kind: 'updated_at', after: null, since };
}

/** The id ranges [from, to] (the last one open-ended) a walk of ids up to `maxId` is cut into. */
export function idRanges(maxId: number, count: number): Array<{ afterId: number; upTo: number | null }> {
  const parts = Math.max(1, Math.min(count, Math.ceil(maxId / 1000)));
  const width = Math.ceil(maxId / parts);
  return Array.from({ length: parts }, (_, index) => ({
    afterId: index * width,
    upTo: index === parts - 1 ? null : (index + 1) * width,
  }));
}
