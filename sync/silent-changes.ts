import { linkedOwnersInMirror, storedTagHierarchy, writtenSince } from '../db/entity-store.js';
import { deletedInRun, runStartedAt } from '../db/runs.js';
import type { SyncType } from '../db/vocabulary.js';
import { ENTITY_SPECS, specFor } from '../stash/entities/index.js';
import { linkedOwners, tagHierarchy } from '../stash/paging.js';
import type { SyncContext, WorkSignals } from './context.js';
import { fetchAndApply } from './fetch-by-id.js';

/**
 * Changes Stash makes WITHOUT bumping the entities they change (stash-notes.md, "What bumps
 * updated_at"), found by comparing the few fields involved and re-reading only what differs.
 * Deletions and merges that re-point links are repaired by reconcile.ts; these are the rest.
 */

/** Galleries per membership request: each answers with the ids of all their images. */
const GALLERY_CHUNK = 200;

/**
 * addGalleryImages / removeGalleryImages and galleryUpdate(scene_ids) bump only the gallery: the
 * images' and scenes' own `galleries` lists change silently. For every gallery this run wrote,
 * the images and scenes Stash has in it are compared with the mirror's image_galleries and
 * scene_galleries, and every owner whose membership differs is re-read (its own links, inherited
 * values and the gallery's image count then follow in post-processing).
 *
 * A full sync reads every image and scene anyway, after the galleries; only galleries Stash
 * changed while the run went on (since its start, less the catch-up margin) can have moved images
 * already read, so only those are checked there.
 */
export async function repairGalleryMembership(
  context: SyncContext,
  runId: string,
  syncType: SyncType,
  signals: WorkSignals,
): Promise<number> {
  const started = (await runStartedAt(context.sql, runId)) ?? new Date(0);
  const updatedSince = syncType === 'full' ? new Date(started.getTime() - context.catchUpMarginSeconds * 1000) : null;
  // Every gallery this run wrote (a bump with no data change included: galleryUpdate(scene_ids)
  // changes nothing the mirror stores on the gallery itself).
  const galleries = await writtenSince(context.sql, ENTITY_SPECS.gallery, started, updatedSince);
  let refetched = 0;
  for (let start = 0; start < galleries.length; start += GALLERY_CHUNK) {
    const chunk = galleries.slice(start, start + GALLERY_CHUNK);
    for (const owner of [ENTITY_SPECS.image, ENTITY_SPECS.scene]) {
      const link = owner.links.find((candidate) => candidate.name === 'galleries');
      if (!link) continue;
      const [inStash, inMirror] = await Promise.all([
        linkedOwners(context.stash, owner, link.name, chunk, { signal: signals.signal }),
        linkedOwnersInMirror(context.sql, owner, link, chunk),
      ]);
      signals.heartbeat();
      const differing = [...new Set([...inStash.keys(), ...inMirror.keys()])].filter(
        (id) => !sameIds(inStash.get(id), inMirror.get(id)),
      );
      refetched += await fetchAndApply(context, runId, syncType, owner, differing, signals);
    }
  }
  return refetched;
}

/**
 * tagsMerge moves the sources' parents and children to the destination and adds the sources'
 * names to its aliases, bumping no one. The children are re-read by link repair (they pointed at
 * a vanished source); the destination is found here: after a run that deleted tags, every tag's
 * aliases and parents are compared with Stash's (one request) and the differing tags re-read.
 */
export async function sweepTagHierarchy(
  context: SyncContext,
  runId: string,
  syncType: SyncType,
  signals: WorkSignals,
): Promise<number> {
  const deleted = await deletedInRun(context.sql, runId);
  if (!deleted.some(({ type }) => type === 'tag')) return 0;
  const [inStash, inMirror] = await Promise.all([
    tagHierarchy(context.stash, { signal: signals.signal }),
    storedTagHierarchy(context.sql),
  ]);
  const differing = [...inStash].flatMap(([id, stash]) => {
    const mirror = inMirror.get(id);
    if (!mirror) return [];
    const sameAliases = JSON.stringify([...stash.aliases].sort()) === JSON.stringify([...mirror.aliases].sort());
    return sameAliases && sameIds(stash.parents, mirror.parents) ? [] : [id];
  });
  return fetchAndApply(context, runId, syncType, specFor('tag'), differing, signals);
}

function sameIds(a: readonly number[] | undefined, b: readonly number[] | undefined): boolean {
  const left = [...(a ?? [])].sort((x, y) => x - y);
  const right = [...(b ?? [])].sort((x, y) => x - y);
  return left.length === right.length && left.every((id, index) => id === right[index]);
}
