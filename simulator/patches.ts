import { z } from 'zod';
import type { EntityPatch, EntityType } from './entities.js';

/**
 * Runtime shapes of what control `update`/`create` accept. They arrive as JSON over HTTP too, so
 * they are checked here, strictly: a misspelt field must fail loudly rather than be ignored.
 */
const id = z.union([z.number().int().positive(), z.string().regex(/^\d+$/).transform(Number)]);
const ids = z.array(id);
const str = z.string();
const nstr = z.string().nullable();
const nint = z.number().int().nullable();
const strs = z.array(z.string());
const stamp = z.string();

const stamped = { created_at: stamp, updated_at: stamp };

const gender = z.enum(['MALE', 'FEMALE', 'TRANSGENDER_MALE', 'TRANSGENDER_FEMALE', 'INTERSEX', 'NON_BINARY']);

const videoFile = z.strictObject({
  id: z.number().int(),
  path: str,
  size: z.number(),
  duration: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  video_codec: str,
  audio_codec: str,
  format: str,
  frame_rate: z.number(),
  bit_rate: z.number().int(),
});

const imageFile = z.strictObject({
  id: z.number().int(),
  path: str,
  size: z.number(),
  width: z.number().int(),
  height: z.number().int(),
  format: str,
});

const SHAPES = {
  studio: z.strictObject({
    ...stamped,
    name: str,
    parent_id: id.nullable(),
    aliases: strs,
    tag_ids: ids,
    rating100: nint,
    favorite: z.boolean(),
    details: nstr,
    urls: strs,
    ignore_auto_tag: z.boolean(),
  }),
  tag: z.strictObject({
    ...stamped,
    name: str,
    sort_name: nstr,
    description: nstr,
    aliases: strs,
    favorite: z.boolean(),
    ignore_auto_tag: z.boolean(),
    parent_ids: ids,
  }),
  performer: z.strictObject({
    ...stamped,
    name: str,
    disambiguation: nstr,
    gender: gender.nullable(),
    birthdate: nstr,
    death_date: nstr,
    country: nstr,
    ethnicity: nstr,
    height_cm: nint,
    alias_list: strs,
    favorite: z.boolean(),
    rating100: nint,
    details: nstr,
    urls: strs,
    tag_ids: ids,
    ignore_auto_tag: z.boolean(),
  }),
  group: z.strictObject({
    ...stamped,
    name: str,
    aliases: nstr,
    duration: nint,
    date: nstr,
    rating100: nint,
    studio_id: id.nullable(),
    director: nstr,
    synopsis: nstr,
    urls: strs,
    tag_ids: ids,
    containing_groups: z.array(z.strictObject({ group_id: id, description: nstr.default(null) })),
  }),
  gallery: z.strictObject({
    ...stamped,
    title: nstr,
    code: nstr,
    date: nstr,
    details: nstr,
    photographer: nstr,
    rating100: nint,
    organized: z.boolean(),
    studio_id: id.nullable(),
    urls: strs,
    performer_ids: ids,
    tag_ids: ids,
    scene_ids: ids,
  }),
  scene: z.strictObject({
    ...stamped,
    title: nstr,
    code: nstr,
    details: nstr,
    director: nstr,
    urls: strs,
    date: nstr,
    rating100: nint,
    organized: z.boolean(),
    o_counter: z.number().int(),
    play_count: z.number().int(),
    play_duration: z.number(),
    resume_time: z.number(),
    last_played_at: nstr,
    interactive: z.boolean(),
    studio_id: id.nullable(),
    performer_ids: ids,
    tag_ids: ids,
    gallery_ids: ids,
    groups: z.array(z.strictObject({ group_id: id, scene_index: nint.default(null) })),
    files: z.array(videoFile),
  }),
  image: z.strictObject({
    ...stamped,
    title: nstr,
    code: nstr,
    date: nstr,
    details: nstr,
    photographer: nstr,
    rating100: nint,
    organized: z.boolean(),
    o_counter: z.number().int(),
    urls: strs,
    studio_id: id.nullable(),
    performer_ids: ids,
    tag_ids: ids,
    gallery_ids: ids,
    visual_files: z.array(imageFile),
  }),
} as const;

export function parsePatch<T extends EntityType>(type: T, patch: unknown): EntityPatch<T> {
  const result = SHAPES[type].partial().safeParse(patch ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(patch)'}: ${i.message}`).join('; ');
    throw new Error(`invalid ${type} fields: ${issues}`);
  }
  return result.data as EntityPatch<T>;
}
