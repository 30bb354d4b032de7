import type { EntityType } from '../../../stash/entity-types.js';
import type { LibraryEntity } from '../definition.js';
import { EVERYONE, USER_VIEW, type View } from '../view.js';
import { galleryEntityFor } from './gallery.js';
import { groupEntityFor } from './group.js';
import { imageEntityFor } from './image.js';
import { performerEntityFor } from './performer.js';
import { sceneEntityFor } from './scene.js';
import { studioEntityFor } from './studio.js';
import { tagEntityFor } from './tag.js';

/** The seven library types as one reader sees them, in the order the API documents them. */
function libraryFor(view: View): LibraryEntity[] {
  return [
    sceneEntityFor(view),
    imageEntityFor(view),
    galleryEntityFor(view),
    performerEntityFor(view),
    studioEntityFor(view),
    tagEntityFor(view),
    groupEntityFor(view),
  ];
}

/** Everyone's library (no X-Mirror-User, or an admin): the mirror as it is. */
export const LIBRARY_ENTITIES: readonly LibraryEntity[] = libraryFor(EVERYONE);

const USER_ENTITIES = new Map<EntityType, LibraryEntity>(libraryFor(USER_VIEW).map((entity) => [entity.type, entity]));

/** The same type as a user with a view of their own reads it (view.ts: USER_VIEW). */
export function userViewOf(entity: LibraryEntity): LibraryEntity {
  const variant = USER_ENTITIES.get(entity.type);
  if (!variant) throw new Error(`no user view of ${entity.type}`);
  return variant;
}
