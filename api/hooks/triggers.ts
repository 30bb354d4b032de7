import type { EntityType } from '../../stash/entity-types.js';

/**
 * What a Stash plugin hook asks of the mirror. Stash names its hooks `<Object>.<Operation>.Post`
 * (pkg/plugin/hook/hooks.go): Create, Update and Destroy for Scene, SceneMarker, Image, Gallery,
 * GalleryChapter, Group (and its deprecated alias Movie, fired beside it), Performer, Studio and
 * Tag, plus Tag.Merge.Post. Every hook fires after Stash has committed the change.
 */
export type HookAction =
  | { kind: 'entity'; entityType: EntityType; id: number }
  | { kind: 'smart'; reason: string }
  | { kind: 'ignored'; reason: string };

/** The grammar of a hook trigger; anything else is refused (400). */
export const TRIGGER_PATTERN = /^([A-Za-z]{1,32})\.([A-Za-z]{1,32})\.Post$/;

/** Stash's hook object names of the seven mirrored types (Movie: groups before v0.27). */
const MIRRORED_OBJECTS: Readonly<Record<string, EntityType>> = {
  Scene: 'scene',
  Image: 'image',
  Gallery: 'gallery',
  Performer: 'performer',
  Studio: 'studio',
  Tag: 'tag',
  Group: 'group',
  Movie: 'group',
};

/**
 * Maps one hook to what the mirror does about it:
 * - `<Type>.Create.Post` / `<Type>.Update.Post`: re-read that one entity (a single-entity sync);
 * - `<Type>.Destroy.Post` / `<Type>.Merge.Post`: a smart sync. Deletions and merges bump no one
 *   (stash-notes.md): the smart sync's count signal finds the vanished ids and re-reads every
 *   entity that linked to them, which one entity's re-read cannot;
 * - `Gallery.*.Post` whose input set `scene_ids`: a smart sync too, because that changes the
 *   scenes' gallery lists without bumping them, and the smart sync's membership check repairs it;
 * - anything the mirror does not keep (SceneMarker, GalleryChapter, objects or operations a newer
 *   Stash may add): ignored, answered 202 so a plugin never retries it.
 */
export function hookAction(trigger: string, id: number, inputFields: readonly string[] = []): HookAction {
  const match = TRIGGER_PATTERN.exec(trigger);
  if (!match) return { kind: 'ignored', reason: `${trigger} is not a Stash hook trigger` };
  const [, object = '', operation = ''] = match;
  const entityType = MIRRORED_OBJECTS[object];
  if (!entityType) return { kind: 'ignored', reason: `the mirror keeps no ${object} entities` };
  switch (operation) {
    case 'Destroy':
    case 'Merge':
      return {
        kind: 'smart',
        reason: `${trigger}: deletions and merges bump no one, so a smart sync finds them by its count signal`,
      };
    case 'Create':
    case 'Update':
      if (entityType === 'gallery' && inputFields.includes('scene_ids')) {
        return {
          kind: 'smart',
          reason: `${trigger} with scene_ids: the scenes' gallery lists change without bumping them`,
        };
      }
      return { kind: 'entity', entityType, id };
    default:
      return { kind: 'ignored', reason: `the mirror does not act on ${operation} hooks` };
  }
}
