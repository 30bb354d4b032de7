import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, type TestStack } from '../support/stack.js';
import { type ApiServer, startApi } from './support.js';

/**
 * Watch activity and stats against the simulator, real PostgreSQL and real Temporal: stats follow
 * the mirror's current links after a sync, and a merged scene's events follow its destination.
 */

interface Stat {
  id: string;
  name: string;
  playCount: number;
  playDuration: number;
  oCount: number;
  lastPlayedAt: string | null;
  lastOAt: string | null;
}

function videoFile(id: number, path: string) {
  return {
    id,
    path,
    size: 1000,
    duration: 60,
    width: 640,
    height: 480,
    video_codec: 'h264',
    audio_codec: 'aac',
    format: 'mp4',
    frame_rate: 30,
    bit_rate: 1000,
  };
}

describe('watch activity and per-user stats', () => {
  let stack: TestStack;
  let api: ApiServer;
  let user: string;
  let other: string;
  const ids: Record<string, number> = {};

  async function stats(type: string, forUser = user): Promise<Stat[]> {
    const response = await api.request<{ stats: Stat[] }>('GET', `/api/users/${forUser}/stats?type=${type}&limit=500`);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body.stats;
  }
  const statOf = async (type: string, id: number, forUser = user) =>
    (await stats(type, forUser)).find((stat) => stat.id === String(id));

  async function watch(sceneId: number, event: 'play' | 'o', at: string, durationSeconds?: number) {
    const response = await api.request<{ statsUpdated: number }>('POST', `/api/users/${user}/activity`, {
      body: { sceneId: String(sceneId), event, at, ...(durationSeconds === undefined ? {} : { durationSeconds }) },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  beforeAll(async () => {
    stack = await createTestStack({ seed: 6, scale: 'small' });
    const control = stack.simulator.control;
    const tag = control.create('tag', { name: 'us tag' });
    const studio = control.create('studio', { name: 'us studio', tag_ids: [tag] });
    ids.tag = tag;
    ids.studio = studio;
    ids.old = control.create('performer', { name: 'us old performer' });
    ids.replacement = control.create('performer', { name: 'us replacement' });
    ids.source = control.create('performer', { name: 'us merge source' });
    ids.destination = control.create('performer', { name: 'us merge destination' });
    ids.gone = control.create('performer', { name: 'us of a deleted scene' });
    ids.group = control.create('group', { name: 'us group' });
    ids.played = control.create('scene', {
      title: 'us played',
      studio_id: studio,
      performer_ids: [ids.old],
      groups: [{ group_id: ids.group, scene_index: 1 }],
      files: [videoFile(900_001, '/us/played.mp4')],
    });
    ids.alsoOld = control.create('scene', { title: 'us also old', performer_ids: [ids.old] });
    ids.mergedAway = control.create('scene', {
      title: 'us merged away',
      performer_ids: [ids.source],
      files: [videoFile(900_002, '/us/source.mp4')],
    });
    ids.mergedInto = control.create('scene', {
      title: 'us merged into',
      performer_ids: [ids.destination],
      files: [videoFile(900_003, '/us/destination.mp4')],
    });
    ids.deleted = control.create('scene', {
      title: 'us deleted',
      performer_ids: [ids.gone],
      files: [videoFile(900_004, '/us/deleted.mp4')],
    });
    await stack.startWorker({ pageSize: 500 });
    await (await stack.startFull()).result();
    api = await startApi(stack);
    const created = await api.request<{ id: string }>('POST', '/api/users', {
      body: { name: 'watcher', role: 'user' },
    });
    user = created.body.id;
    other = (await api.request<{ id: string }>('POST', '/api/users', { body: { name: 'idle', role: 'user' } })).body.id;
  }, 240_000);
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it('counts plays and o events per performer, studio, tag (inherited included) and group', async () => {
    const first = await watch(ids.played as number, 'play', '2025-01-01T10:00:00Z', 300);
    expect(first.statsUpdated).toBeGreaterThanOrEqual(4);
    await watch(ids.played as number, 'play', '2025-01-02T10:00:00+02:00', 12.5);
    await watch(ids.played as number, 'o', '2025-01-03T10:00:00Z');
    const expected = {
      playCount: 2,
      playDuration: 312.5,
      oCount: 1,
      lastPlayedAt: '2025-01-02T08:00:00.000Z',
      lastOAt: '2025-01-03T10:00:00.000Z',
    };
    expect(await statOf('performer', ids.old as number)).toMatchObject({ name: 'us old performer', ...expected });
    expect(await statOf('studio', ids.studio as number)).toMatchObject(expected);
    // The scene has no tags of its own: it inherits the studio's.
    expect(await statOf('tag', ids.tag as number)).toMatchObject(expected);
    expect(await statOf('group', ids.group as number)).toMatchObject(expected);
    expect(await stats('performer', other)).toEqual([]);
    // Sorted best first by the column asked for.
    await watch(ids.alsoOld as number, 'o', '2025-01-04T10:00:00Z');
    const byO = await api.request<{ stats: Stat[] }>(
      'GET',
      `/api/users/${user}/stats?type=performer&sort=o_count&limit=1`,
    );
    expect(byO.body.stats).toEqual([expect.objectContaining({ id: String(ids.old), oCount: 2 })]);
  });

  it('follows a performer deleted and its scenes relinked in Stash after one smart sync', async () => {
    const control = stack.simulator.control;
    control.remove('performer', ids.old as number);
    control.update('scene', ids.played as number, { performer_ids: [ids.replacement as number] });
    control.update('scene', ids.alsoOld as number, { performer_ids: [ids.replacement as number] });
    const summary = await (await stack.start('smart')).result();
    expect(summary.postProcessed).toContain('user-stats');
    expect(await statOf('performer', ids.old as number)).toBeUndefined();
    expect(await statOf('performer', ids.replacement as number)).toMatchObject({ playCount: 2, oCount: 2 });
    const [row] = await stack.db
      .sql`select count(*)::int as n from user_stats where entity_type = 'performer' and entity_id = ${ids.old as number}`;
    expect(row?.n).toBe(0);
  });

  it("counts a merged scene's events for the scene that now holds its files; a deleted scene's nowhere", async () => {
    await watch(ids.mergedAway as number, 'play', '2025-02-01T10:00:00Z', 60);
    await watch(ids.deleted as number, 'play', '2025-02-02T10:00:00Z', 60);
    expect(await statOf('performer', ids.source as number)).toMatchObject({ playCount: 1 });
    expect(await statOf('performer', ids.gone as number)).toMatchObject({ playCount: 1 });
    expect(await statOf('performer', ids.destination as number)).toBeUndefined();

    const control = stack.simulator.control;
    control.mergeScenes([ids.mergedAway as number], ids.mergedInto as number);
    control.remove('scene', ids.deleted as number);
    await (await stack.start('smart')).result();

    const [merged] = await stack.db
      .sql`select deleted_at, file_paths from scenes where id = ${ids.mergedAway as number}`;
    expect(merged?.deleted_at).not.toBeNull();
    // The destination took the source's performers and files: the event counts there now.
    expect(await statOf('performer', ids.destination as number)).toMatchObject({ playCount: 1, playDuration: 60 });
    expect(await statOf('performer', ids.source as number)).toMatchObject({ playCount: 1 });
    // A scene deleted outright: its event is kept but counts nowhere.
    expect(await statOf('performer', ids.gone as number)).toBeUndefined();
    const [events] = await stack.db.sql`
      select count(*)::int as n from user_activity where user_id = ${user} and scene_id = ${ids.deleted as number}`;
    expect(events?.n).toBe(1);
    // A full sync (everything recomputed) agrees with what the smart sync left.
    const before = await stack.db.sql`select * from user_stats order by user_id, entity_type, entity_id`;
    await (await stack.startFull()).result();
    expect(await stack.db.sql`select * from user_stats order by user_id, entity_type, entity_id`).toEqual(before);
  });
});
