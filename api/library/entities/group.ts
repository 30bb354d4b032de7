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

function related(view: View, own: string, other: string): string {
  return `coalesce((select json_agg(json_build_object('group', json_build_object('id', g.id::text, 'name', g.name),
    'description', r.description) order by g.name, g.id) from group_relations r
    join groups g on g.id = r.${other} and g.deleted_at is null${view.visible('groups', 'g')} where r.${own} = t.id), '[]'::json)`;
}

const sceneCount = `(select count(*)::int from scene_groups l join scenes s on s.id = l.scene_id and s.deleted_at is null
  where l.group_id = t.id)`;

/** Groups as `view`'s reader sees them (library/view.ts). */
export const groupEntityFor = (view: View): LibraryEntity => {
  const scenes = view.count('group', 'scene_count', sceneCount);
  return {
    type: 'group',
    path: 'groups',
    queryField: 'findGroups',
    listField: 'groups',
    singleField: 'findGroup',
    filterKey: 'group_filter',
    from: 'groups t',
    search: ['t.name', 't.aliases'],
    sorts: {
      ...COMMON_SORTS,
      name: 'lower(t.name)',
      date: 't.date',
      rating: 't.rating100',
      rating100: 't.rating100',
      duration: 't.duration',
      scenes_count: scenes,
    },
    defaultSort: 'name',
    criteria: {
      ...COMMON_CRITERIA,
      rating100: { kind: 'int', expression: 't.rating100' },
      duration: { kind: 'int', expression: 't.duration' },
      date: { kind: 'date', expression: 't.date' },
      tags: {
        kind: 'multi',
        sources: [{ table: 'group_tags', owner: 'group_id', target: 'tag_id' }],
        hierarchy: TAG_HIERARCHY,
      },
      studios: { kind: 'multi', sources: [{ column: 't.studio_id' }], hierarchy: STUDIO_HIERARCHY },
      // Contained in one of the values (or, with depth, in one of their sub groups).
      containing_groups: {
        kind: 'multi',
        sources: [{ table: 'group_relations', owner: 'sub_group_id', target: 'containing_group_id' }],
        hierarchy: GROUP_HIERARCHY,
      },
      // Containing one of the values (or, with depth, one of their containers).
      sub_groups: {
        kind: 'multi',
        sources: [{ table: 'group_relations', owner: 'containing_group_id', target: 'sub_group_id' }],
        hierarchy: { ...GROUP_HIERARCHY, direction: 'up' },
      },
    },
    select: `json_build_object(
    'id', t.id::text, 'name', t.name, 'aliases', t.aliases, 'duration', t.duration, 'date', t.date,
    'rating100', t.rating100, 'director', t.director, 'synopsis', t.synopsis, 'urls', t.urls,
    'studio', ${ref(view, 'studios', 't.studio_id')},
    'tags', ${refs(view, 'group_tags', 'group_id', 'tag_id', 'tags')},
    'containing_groups', ${related(view, 'sub_group_id', 'containing_group_id')},
    'sub_groups', ${related(view, 'containing_group_id', 'sub_group_id')},
    'scene_count', ${scenes},
    'created_at', t.stash_created_at, 'updated_at', t.stash_updated_at_raw)`,
  };
};
