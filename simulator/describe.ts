import type { Library } from './model.js';
import type { LibraryCounts } from './scales.js';

export function libraryCounts(library: Library): LibraryCounts {
  return {
    studios: library.studios.size,
    tags: library.tags.size,
    performers: library.performers.size,
    groups: library.groups.size,
    galleries: library.galleries.size,
    scenes: library.scenes.size,
    images: library.images.size,
  };
}

/** One line for a CLI banner, e.g. "6 studios, 20 tags, 12 performers, ...". */
export function describeLibrary(library: Library): string {
  return Object.entries(libraryCounts(library))
    .map(([name, count]) => `${count} ${name}`)
    .join(', ');
}
