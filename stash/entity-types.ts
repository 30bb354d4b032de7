/** The seven Stash entity types the mirror keeps, in dependency order (a type only links to earlier ones or itself). */
export const ENTITY_TYPES = ['studio', 'tag', 'performer', 'group', 'gallery', 'scene', 'image'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

export function isEntityType(value: string): value is EntityType {
  return (ENTITY_TYPES as readonly string[]).includes(value);
}
