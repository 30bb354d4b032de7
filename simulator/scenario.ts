import type { Library } from './model.js';

export interface SeedScenario {
  galleryId: number;
  performerId: number;
  /** Every image in the gallery (ascending ids); none of them has a performer of its own. */
  imageIds: number[];
}

/**
 * The case gallery inheritance exists for: a gallery with a performer whose (two or more) images
 * have no performers themselves. Returns the lowest gallery id that qualifies, or null.
 */
export function findSeedScenario(library: Library): SeedScenario | null {
  const imageCount = new Map<number, number>();
  const tainted = new Set<number>();
  for (const image of library.images.values()) {
    for (const galleryId of image.gallery_ids) {
      imageCount.set(galleryId, (imageCount.get(galleryId) ?? 0) + 1);
      if (image.performer_ids.length > 0) tainted.add(galleryId);
    }
  }
  const galleryIds = [...library.galleries.keys()].sort((a, b) => a - b);
  for (const galleryId of galleryIds) {
    const gallery = library.galleries.get(galleryId);
    const performerId = gallery?.performer_ids.find((id) => library.performers.has(id));
    if (performerId === undefined || tainted.has(galleryId) || (imageCount.get(galleryId) ?? 0) < 2) continue;
    const imageIds: number[] = [];
    for (const image of library.images.values()) if (image.gallery_ids.includes(galleryId)) imageIds.push(image.id);
    return { galleryId, performerId, imageIds: imageIds.sort((a, b) => a - b) };
  }
  return null;
}

/** Rewrites the first gallery into the seed scenario when chance did not produce one. */
export function ensureSeedScenario(library: Library): void {
  if (findSeedScenario(library)) return;
  const gallery = library.galleries.values().next().value;
  const performerId = library.performers.keys().next().value;
  if (!gallery || performerId === undefined || library.images.size < 2) return;
  if (!gallery.performer_ids.some((id) => library.performers.has(id))) gallery.performer_ids.push(performerId);
  let members = 0;
  for (const image of library.images.values()) if (image.gallery_ids.includes(gallery.id)) members++;
  for (const image of library.images.values()) {
    if (members >= 2) break;
    if (!image.gallery_ids.includes(gallery.id)) {
      image.gallery_ids = [gallery.id];
      members++;
    }
  }
  for (const image of library.images.values()) {
    if (image.gallery_ids.includes(gallery.id)) image.performer_ids = [];
  }
}
