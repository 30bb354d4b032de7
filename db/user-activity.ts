import type { Sql, TransactionSql } from './client.js';
import type { ActivityEvent, StatSort, StatType } from './user-vocabulary.js';

type Db = Sql | TransactionSql;

/**
 * Watch activity (own data: the mirror never writes Stash) and the stats derived from it
 * (postprocess/user-stats.ts writes user_stats; this reads it).
 */

export interface ActivityInput {
  sceneId: number;
  event: ActivityEvent;
  at: string;
  durationSeconds: number | null;
}

export interface ActivityRecord {
  id: number;
  sceneId: number;
  event: ActivityEvent;
  at: Date;
  durationSeconds: number | null;
}

export async function recordActivity(db: Db, userId: number, input: ActivityInput): Promise<ActivityRecord> {
  const [row] = await db<
    { id: number; scene_id: number; event: ActivityEvent; at: Date; duration_seconds: number | null }[]
  >`
    insert into user_activity (user_id, scene_id, event, at, duration_seconds)
    values (${userId}, ${input.sceneId}, ${input.event}, ${input.at}::timestamptz, ${input.durationSeconds})
    returning id, scene_id, event, at, duration_seconds`;
  if (!row) throw new Error('insert into user_activity returned no row');
  return {
    id: Number(row.id),
    sceneId: Number(row.scene_id),
    event: row.event,
    at: row.at,
    durationSeconds: row.duration_seconds,
  };
}

/** Whether the mirror has ever had this scene (live, or deleted and perhaps merged into another). */
export async function isSceneKnown(db: Db, sceneId: number): Promise<boolean> {
  const [row] = await db`select exists (select 1 from scenes where id = ${sceneId}) as known`;
  return Boolean(row?.known);
}

export interface StatRow {
  id: number;
  name: string;
  playCount: number;
  playDuration: number;
  oCount: number;
  lastPlayedAt: Date | null;
  lastOAt: Date | null;
}

const STAT_TABLES: Record<StatType, string> = {
  performer: 'performers',
  studio: 'studios',
  tag: 'tags',
  group: 'groups',
};

/** A user's stats of one type, best first by `sort` (descending, nulls last; ties by name, id). */
export async function listStats(
  db: Db,
  userId: number,
  type: StatType,
  sort: StatSort,
  limit: number,
): Promise<StatRow[]> {
  const rows = await db<
    {
      id: number;
      name: string;
      play_count: number;
      play_duration: number;
      o_count: number;
      last_played_at: Date | null;
      last_o_at: Date | null;
    }[]
  >`
    select e.id, e.name, s.play_count, s.play_duration, s.o_count, s.last_played_at, s.last_o_at
    from user_stats s join ${db(STAT_TABLES[type])} e on e.id = s.entity_id and e.deleted_at is null
    where s.user_id = ${userId} and s.entity_type = ${type}
    order by s.${db(sort)} desc nulls last, e.name, e.id
    limit ${limit}`;
  return rows.map((row) => ({
    id: Number(row.id),
    name: row.name,
    playCount: row.play_count,
    playDuration: row.play_duration,
    oCount: row.o_count,
    lastPlayedAt: row.last_played_at,
    lastOAt: row.last_o_at,
  }));
}
