import type postgres from 'postgres';
import type { Sql } from '../../db/client.js';
import { ENTITY_TABLES, type EntityType } from '../../stash/entity-types.js';

/**
 * Who reads the library (docs/user-views.md). EVERYONE — no X-Mirror-User header, or an admin —
 * sees the mirror as it is, through exactly the SQL the library had before users existed. A
 * user's view (USER_VIEW) leaves out what user_excluded_entities lists for them, as rows and as
 * nested references, and takes their excluded part (user_entity_counts) off every scene and
 * image count. Its SQL reads the user's id from `viewer.user_id`: a one-row relation that
 * `fromAs` joins into FROM with the id as a bound parameter (the SQL text itself is the same for
 * every user).
 */
export interface View {
  /** `" and <the row `alias` of `table` is visible>"`; '' for everyone. */
  visible(table: string, alias: string): string;
  /** A scene or image count of `t` (an entity of `type`) as this reader counts it. */
  count(type: CountedType, column: 'scene_count' | 'image_count', expression: string): string;
}

/** Entities whose scene and image counts the API shows. */
export type CountedType = 'performer' | 'tag' | 'studio' | 'gallery' | 'group';

/** The reader a request acts as, when it is a user with a view of their own. */
export interface Viewer {
  userId: number;
}

export const EVERYONE: View = {
  visible: () => '',
  count: (_type, _column, expression) => expression,
};

const TABLE_TYPES = new Map<string, EntityType>(
  Object.entries(ENTITY_TABLES).map(([type, table]) => [table, type as EntityType]),
);

export const USER_VIEW: View = {
  visible(table, alias) {
    const type = TABLE_TYPES.get(table);
    if (!type) throw new Error(`no entity type for table ${table}`);
    return ` and not exists (select 1 from user_excluded_entities ue
      where ue.user_id = viewer.user_id and ue.entity_type = '${type}' and ue.entity_id = ${alias}.id)`;
  },
  // What is excluded is subtracted (not a stored per-user count): a visible scene added since the
  // last recompute moves the global count, and so this one, right away.
  count: (type, column, expression) => `greatest(${expression} - coalesce((select uc.excluded_${column}
    from user_entity_counts uc where uc.user_id = viewer.user_id and uc.entity_type = '${type}' and uc.entity_id = t.id), 0), 0)`,
};

/** FROM for a reader: the entity's own, plus the `viewer` relation for a user. */
export function fromAs(sql: Sql, from: string, viewer: Viewer | null): postgres.Fragment {
  if (!viewer) return sql.unsafe(from);
  return sql`${sql.unsafe(from)} cross join (select ${viewer.userId}::bigint as user_id) viewer`;
}

/** `t` (an entity of `type`) is visible to the reader: '' for everyone. */
export function visibleAs(sql: Sql, type: EntityType, viewer: Viewer | null): postgres.Fragment {
  return sql.unsafe(viewer ? USER_VIEW.visible(ENTITY_TABLES[type], 't') : '');
}
