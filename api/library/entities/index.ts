import type { LibraryEntity } from '../definition.js';
import { galleryEntity } from './gallery.js';
import { groupEntity } from './group.js';
import { imageEntity } from './image.js';
import { performerEntity } from './performer.js';
import { sceneEntity } from './scene.js';
import { studioEntity } from './studio.js';
import { tagEntity } from './tag.js';

/** The seven library types, in the order the API documents them. */
export const LIBRARY_ENTITIES: readonly LibraryEntity[] = [
  sceneEntity,
  imageEntity,
  galleryEntity,
  performerEntity,
  studioEntity,
  tagEntity,
  groupEntity,
];
