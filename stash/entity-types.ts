/**
 * The seven Stash entity types the mirror keeps: the one list every other list is checked against.
 * This order is for display; the sync order follows ENTITY_DEPENDENCIES (dependencyStages).
 */
export const ENTITY_TYPES = ['studio', 'tag', 'performer', 'group', 'gallery', 'scene', 'image'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** Each type's mirror table, which is also its plural (Stash's list field: `findScenes { scenes }`). */
export const ENTITY_TABLES = {
  studio: 'studios',
  tag: 'tags',
  performer: 'performers',
  group: 'groups',
  gallery: 'galleries',
  scene: 'scenes',
  image: 'images',
} as const satisfies Record<EntityType, string>;

export function isEntityType(value: string): value is EntityType {
  return (ENTITY_TYPES as readonly string[]).includes(value);
}

/** Which types an entity type links to (its own links), from the entity specs' point of view. */
export const ENTITY_DEPENDENCIES: Record<EntityType, readonly EntityType[]> = {
  tag: [],
  studio: ['tag'],
  performer: ['tag'],
  group: ['studio', 'tag'],
  gallery: ['studio', 'performer', 'tag'],
  scene: ['studio', 'performer', 'tag', 'gallery', 'group'],
  image: ['studio', 'performer', 'tag', 'gallery'],
};

/**
 * Groups types into stages: every type's dependencies are in earlier stages, and the types of
 * one stage are independent of each other, so they may sync concurrently.
 */
export function dependencyStages(types: readonly EntityType[] = ENTITY_TYPES): EntityType[][] {
  const wanted = new Set(types);
  const placed = new Set<EntityType>();
  const stages: EntityType[][] = [];
  while (placed.size < wanted.size) {
    const stage = ENTITY_TYPES.filter(
      (type) =>
        wanted.has(type) &&
        !placed.has(type) &&
        ENTITY_DEPENDENCIES[type].every((dependency) => placed.has(dependency) || !wanted.has(dependency)),
    );
    if (stage.length === 0) throw new Error('dependency cycle among entity types');
    for (const type of stage) placed.add(type);
    stages.push(stage);
  }
  return stages;
}
