import type { EntityType } from '../entity-types.js';
import { gallerySpec } from './gallery.js';
import { groupSpec } from './group.js';
import { imageSpec } from './image.js';
import { performerSpec } from './performer.js';
import { sceneSpec } from './scene.js';
import type { EntitySpec } from './spec.js';
import { studioSpec } from './studio.js';
import { tagSpec } from './tag.js';

export const ENTITY_SPECS: Record<EntityType, EntitySpec> = {
  studio: studioSpec,
  tag: tagSpec,
  performer: performerSpec,
  group: groupSpec,
  gallery: gallerySpec,
  scene: sceneSpec,
  image: imageSpec,
};

export function specFor(type: EntityType): EntitySpec {
  return ENTITY_SPECS[type];
}

export type { EntitySpec, LinkSpec, MappedEntity } from './spec.js';
