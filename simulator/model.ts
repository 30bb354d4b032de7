/**
 * The simulated Stash's in-memory library. Field names follow Stash's GraphQL schema (v0.30.1);
 * relations are held as id lists exactly as Stash stores them (the entity's OWN links).
 * Timestamps are the strings Stash would store and print: RFC 3339 in the server's local offset,
 * whole seconds (e.g. "2025-03-01T10:00:00+11:00").
 * Optional text (`string | null`) is what Stash's database holds: NULL or ''. Either way Stash
 * serves it as "" (resolvers.ts), so a reader of this model must take both for "unset".
 */
export type Gender = 'MALE' | 'FEMALE' | 'TRANSGENDER_MALE' | 'TRANSGENDER_FEMALE' | 'INTERSEX' | 'NON_BINARY';

interface Stamped {
  id: number;
  created_at: string;
  updated_at: string;
}

export interface SimStudio extends Stamped {
  name: string;
  parent_id: number | null;
  aliases: string[];
  tag_ids: number[];
  rating100: number | null;
  favorite: boolean;
  details: string | null;
  urls: string[];
  ignore_auto_tag: boolean;
}

export interface SimTag extends Stamped {
  name: string;
  sort_name: string | null;
  description: string | null;
  aliases: string[];
  favorite: boolean;
  ignore_auto_tag: boolean;
  parent_ids: number[];
}

export interface SimPerformer extends Stamped {
  name: string;
  disambiguation: string | null;
  gender: Gender | null;
  birthdate: string | null;
  death_date: string | null;
  country: string | null;
  ethnicity: string | null;
  height_cm: number | null;
  alias_list: string[];
  favorite: boolean;
  rating100: number | null;
  details: string | null;
  urls: string[];
  tag_ids: number[];
  ignore_auto_tag: boolean;
}

export interface SimGroupDescription {
  group_id: number;
  description: string | null;
}

export interface SimGroup extends Stamped {
  name: string;
  aliases: string | null;
  duration: number | null;
  date: string | null;
  rating100: number | null;
  studio_id: number | null;
  director: string | null;
  synopsis: string | null;
  urls: string[];
  tag_ids: number[];
  /** Groups this group belongs to (Stash's containing_groups); sub_groups is the inverse view. */
  containing_groups: SimGroupDescription[];
}

export interface SimGallery extends Stamped {
  title: string | null;
  code: string | null;
  date: string | null;
  details: string | null;
  photographer: string | null;
  rating100: number | null;
  organized: boolean;
  studio_id: number | null;
  urls: string[];
  performer_ids: number[];
  tag_ids: number[];
  scene_ids: number[];
}

export interface SimVideoFile {
  id: number;
  path: string;
  size: number;
  duration: number;
  width: number;
  height: number;
  video_codec: string;
  audio_codec: string;
  format: string;
  frame_rate: number;
  bit_rate: number;
}

export interface SimSceneGroup {
  group_id: number;
  scene_index: number | null;
}

export interface SimScene extends Stamped {
  title: string | null;
  code: string | null;
  details: string | null;
  director: string | null;
  urls: string[];
  date: string | null;
  rating100: number | null;
  organized: boolean;
  o_counter: number;
  play_count: number;
  play_duration: number;
  resume_time: number;
  last_played_at: string | null;
  interactive: boolean;
  studio_id: number | null;
  performer_ids: number[];
  tag_ids: number[];
  gallery_ids: number[];
  groups: SimSceneGroup[];
  files: SimVideoFile[];
}

export interface SimImageFile {
  id: number;
  path: string;
  size: number;
  width: number;
  height: number;
  format: string;
}

export interface SimImage extends Stamped {
  title: string | null;
  code: string | null;
  date: string | null;
  details: string | null;
  photographer: string | null;
  rating100: number | null;
  organized: boolean;
  o_counter: number;
  urls: string[];
  studio_id: number | null;
  performer_ids: number[];
  tag_ids: number[];
  gallery_ids: number[];
  visual_files: SimImageFile[];
}

export interface Library {
  studios: Map<number, SimStudio>;
  tags: Map<number, SimTag>;
  performers: Map<number, SimPerformer>;
  groups: Map<number, SimGroup>;
  galleries: Map<number, SimGallery>;
  scenes: Map<number, SimScene>;
  images: Map<number, SimImage>;
}
