import {
  COMMON_CRITERIA,
  COMMON_SORTS,
  GROUP_HIERARCHY,
  type LibraryEntity,
  ref,
  refs,
  STUDIO_HIERARCHY,
  TAG_HIERARCHY,
} from '../definition.js';
import type { View } from '../view.js';

const file = `case when t.path is null then '[]'::json else json_build_array(json_build_object(
  'path', t.path, 'size', t.filesize, 'duration', t.duration, 'width', t.width, 'height', t.height,
  'video_codec', t.video_codec, 'audio_codec', t.audio_codec, 'frame_rate', t.frame_rate, 'bit_rate', t.bit_rate)) end`;

const groups = (
  view: View,
) => `coalesce((select json_agg(json_build_object('group', json_build_object('id', g.id::text, 'name', g.name),
  'scene_index', l.scene_index) order by g.name, g.id)
  from scene_groups l join groups g on g.id = l.group_id and g.deleted_at is null${view.visible('groups', 'g')} where l.scene_id = t.id), '[]'::json)`;

/** Tags the scene inherits from its performers, studio and groups (not Stash's field; the mirror's derived data). */
const inheritedTags = (
  view: View,
) => `coalesce((select json_agg(json_build_object('id', x.id::text, 'name', x.name, 'sources', s.sources)
  order by x.name, x.id) from (select tag_id, array_agg(source order by source) as sources from scene_inherited_tags
  where scene_id = t.id group by tag_id) s join tags x on x.id = s.tag_id and x.deleted_at is null${view.visible('tags', 'x')}), '[]'::json)`;

/** Scenes as `view`'s reader sees them (library/view.ts). */
export const sceneEntityFor = (view: View): LibraryEntity => ({
  type: 'scene',
  path: 'scenes',
  queryField: 'findScenes',
  listField: 'scenes',
  singleField: 'findScene',
  filterKey: 'scene_filter',
  from: 'scenes t',
  search: ['t.title', 't.code', 't.path'],
  sorts: {
    ...COMMON_SORTS,
    title: 'lower(t.title)',
    date: 't.date',
    rating: 't.rating100',
    rating100: 't.rating100',
    o_counter: 't.o_counter',
    play_count: 't.play_count',
    last_played_at: 't.last_played_at',
    duration: 't.duration',
    filesize: 't.filesize',
    path: 't.path',
    code: 't.code',
  },
  defaultSort: 'id',
  criteria: {
    ...COMMON_CRITERIA,
    rating100: { kind: 'int', expression: 't.rating100' },
    o_counter: { kind: 'int', expression: 't.o_counter' },
    play_count: { kind: 'int', expression: 't.play_count' },
    date: { kind: 'date', expression: 't.date' },
    organized: { kind: 'boolean', expression: 't.organized' },
    interactive: { kind: 'boolean', expression: 't.interactive' },
    performers: { kind: 'multi', sources: [{ table: 'scene_performers', owner: 'scene_id', target: 'performer_id' }] },
    // A scene's tags are its own and those it inherits from performers, studio and groups.
    tags: {
      kind: 'multi',
      sources: [
        { table: 'scene_tags', owner: 'scene_id', target: 'tag_id' },
        { table: 'scene_inherited_tags', owner: 'scene_id', target: 'tag_id' },
      ],
      hierarchy: TAG_HIERARCHY,
    },
    studios: { kind: 'multi', sources: [{ column: 't.studio_id' }], hierarchy: STUDIO_HIERARCHY },
    galleries: { kind: 'multi', sources: [{ table: 'scene_galleries', owner: 'scene_id', target: 'gallery_id' }] },
    groups: {
      kind: 'multi',
      sources: [{ table: 'scene_groups', owner: 'scene_id', target: 'group_id' }],
      hierarchy: GROUP_HIERARCHY,
    },
  },
  select: `json_build_object(
    'id', t.id::text, 'title', t.title, 'code', t.code, 'details', t.details, 'director', t.director,
    'urls', t.urls, 'date', t.date, 'rating100', t.rating100, 'organized', t.organized, 'o_counter', t.o_counter,
    'play_count', t.play_count, 'play_duration', t.play_duration, 'resume_time', t.resume_time,
    'last_played_at', t.last_played_at, 'interactive', t.interactive, 'files', ${file},
    'studio', ${ref(view, 'studios', 't.studio_id')},
    'performers', ${refs(view, 'scene_performers', 'scene_id', 'performer_id', 'performers')},
    'tags', ${refs(view, 'scene_tags', 'scene_id', 'tag_id', 'tags')},
    'inherited_tags', ${inheritedTags(view)},
    'galleries', ${refs(view, 'scene_galleries', 'scene_id', 'gallery_id', 'galleries', 'title')},
    'groups', ${groups(view)},
    'created_at', t.stash_created_at, 'updated_at', t.stash_updated_at_raw)`,
});
