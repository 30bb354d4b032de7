import type { EntityType } from '../stash/entity-types.js';

/**
 * The words of per-user views (docs/user-views.md), one list each; the CHECK constraints in
 * migrations/1732000000005_user-views.sql spell the same lists and the API's enums use these.
 * Pure: no runtime imports.
 */

/** `admin`: sees everything and may set anyone's restrictions. `user`: sees the library through their own. */
export const USER_ROLES = ['admin', 'user'] as const;
export type UserRole = (typeof USER_ROLES)[number];

/** The dimensions an admin restricts per user. */
export const RESTRICTION_TYPES = ['tag', 'studio', 'group', 'gallery'] as const satisfies readonly EntityType[];
export type RestrictionType = (typeof RESTRICTION_TYPES)[number];

/** EXCLUDE: these and their descendants are excluded. INCLUDE: only content carrying one of them is visible. */
export const RESTRICTION_MODES = ['EXCLUDE', 'INCLUDE'] as const;
export type RestrictionMode = (typeof RESTRICTION_MODES)[number];

/** Why an entity is excluded for a user, strongest first (an entity keeps its strongest reason). */
export const EXCLUSION_REASONS = ['hidden', 'restricted', 'cascade', 'empty'] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

export const ACTIVITY_EVENTS = ['play', 'o'] as const;
export type ActivityEvent = (typeof ACTIVITY_EVENTS)[number];

/** The entities watch stats are kept for (a scene's performers, studio, tags and groups). */
export const STAT_TYPES = ['performer', 'studio', 'tag', 'group'] as const satisfies readonly EntityType[];
export type StatType = (typeof STAT_TYPES)[number];

/** user_stats columns a stats listing may sort by (always descending, nulls last). */
export const STAT_SORTS = ['play_count', 'play_duration', 'o_count', 'last_played_at', 'last_o_at'] as const;
export type StatSort = (typeof STAT_SORTS)[number];

/**
 * Which changed entity types can change what an INCLUDE list lets through: tags are carried by
 * every type (directly, or inherited through performers, studios, groups and galleries); a
 * studio is an image's through its gallery; groups hold scenes; galleries hold images.
 */
export const INCLUDE_READS: Record<RestrictionType, readonly EntityType[]> = {
  tag: ['tag', 'studio', 'performer', 'group', 'gallery', 'scene', 'image'],
  studio: ['studio', 'gallery', 'scene', 'image'],
  group: ['group', 'scene'],
  gallery: ['gallery', 'image'],
};
