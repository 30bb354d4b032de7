import { ENTITY_TABLES, type EntityType } from '../stash/entity-types.js';
import type { Library, SimGallery, SimGroup, SimImage, SimPerformer, SimScene, SimStudio, SimTag } from './model.js';

export type { EntityType };

export interface EntityMap {
  studio: SimStudio;
  tag: SimTag;
  performer: SimPerformer;
  group: SimGroup;
  gallery: SimGallery;
  scene: SimScene;
  image: SimImage;
}

export type EntityOf<T extends EntityType> = EntityMap[T];
export type AnyEntity = EntityMap[EntityType];

/** What a control `update` may change: anything but the id. */
export type EntityPatch<T extends EntityType> = Partial<Omit<EntityOf<T>, 'id'>>;

/** The library map of each type: named like the mirror's tables. */
export const LIBRARY_KEY = ENTITY_TABLES satisfies Record<EntityType, keyof Library>;

/** The GraphQL object type that represents each entity. */
export const GRAPHQL_TYPE = {
  studio: 'Studio',
  tag: 'Tag',
  performer: 'Performer',
  group: 'Group',
  gallery: 'Gallery',
  scene: 'Scene',
  image: 'Image',
} as const satisfies Record<EntityType, string>;

export const TYPE_BY_GRAPHQL: Readonly<Record<string, EntityType>> = Object.fromEntries(
  Object.entries(GRAPHQL_TYPE).map(([type, name]) => [name, type as EntityType]),
);

/** Entities whose final sort key and default listing use `title` (the others use `name`). */
export function isTitled(type: EntityType): type is 'scene' | 'image' | 'gallery' {
  return type === 'scene' || type === 'image' || type === 'gallery';
}

export function tableOf<T extends EntityType>(library: Library, type: T): Map<number, EntityOf<T>> {
  return library[LIBRARY_KEY[type]] as unknown as Map<number, EntityOf<T>>;
}

export function emptyLibrary(): Library {
  return {
    studios: new Map(),
    tags: new Map(),
    performers: new Map(),
    groups: new Map(),
    galleries: new Map(),
    scenes: new Map(),
    images: new Map(),
  };
}

/** Parses an id the way Stash's resolvers do (strconv.Atoi), so "abc" fails like it would upstream. */
export function parseId(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value;
    throw new Error(`strconv.Atoi: parsing "${value}": invalid syntax`);
  }
  if (!/^[+-]?\d+$/.test(value)) throw new Error(`strconv.Atoi: parsing "${value}": invalid syntax`);
  return Number(value);
}
