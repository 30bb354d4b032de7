/**
 * Per-user views at scale (docs/user-views.md, "Measured"): a full sync, then 20 users with
 * restrictions, then
 *   - the full recompute of all 20 (the `all` scope of the user-exclusions step, as a full sync
 *     runs it): wall time, the PostgreSQL backend's peak memory (VmHWM of a fresh backend that did
 *     the whole recompute), temp bytes spilled, rows written, and this process's peak RSS;
 *   - a recompute that changes nothing (the rows stay untouched);
 *   - one scene changed in Stash (a tag one user excludes added): the smart sync's wall time and
 *     each post-processing step's time and affected count, read from its Temporal history.
 *   npx tsx bench/user-views.ts [--scale small|medium|large]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connect, type Sql, withSyncTransaction } from '../db/client.js';
import { recomputeUserExclusions, runUserExclusions } from '../db/postprocess/user-exclusions.js';
import { replaceRestrictions } from '../db/user-settings.js';
import { createUser } from '../db/users.js';
import { startBenchStack } from './harness.js';
import { runHistory } from './history.js';
import { peakRssMiB } from './proc.js';

const { values } = parseArgs({ options: { scale: { type: 'string' } } });
const scale = values.scale ?? 'medium';
const USERS = 20;

/** Ids of the `n` entities of a link table's target with the most links (the restrictions that hurt most). */
async function mostLinked(sql: Sql, table: string, target: string, n: number): Promise<number[]> {
  const rows =
    await sql`select ${sql(target)} as id from ${sql(table)} group by 1 order by count(*) desc, 1 limit ${n}`;
  return rows.map((row) => Number(row.id));
}

/** 20 users: 10 exclude a popular tag, 4 a popular studio, 3 allow only three tags, 3 hide performers and a tag. */
async function createUsers(sql: Sql): Promise<number[]> {
  const tags = await mostLinked(sql, 'scene_tags', 'tag_id', 20);
  const studios = await mostLinked(sql, 'scenes', 'studio_id', 4);
  const performers = await mostLinked(sql, 'scene_performers', 'performer_id', 15);
  const ids: number[] = [];
  for (let i = 0; i < USERS; i++) {
    const user = await createUser(sql, { name: `bench user ${i}`, role: 'user' });
    if (!user) throw new Error('user name taken');
    ids.push(user.id);
    await withSyncTransaction(sql, async (tx) => {
      if (i < 10) await replaceRestrictions(tx, user.id, { tag: { mode: 'EXCLUDE', ids: [tags[i] as number] } });
      else if (i < 14) {
        await replaceRestrictions(tx, user.id, { studio: { mode: 'EXCLUDE', ids: [studios[i - 10] as number] } });
      } else if (i < 17) {
        await replaceRestrictions(tx, user.id, { tag: { mode: 'INCLUDE', ids: tags.slice(i - 14, i - 11) } });
      } else {
        await replaceRestrictions(tx, user.id, { tag: { mode: 'EXCLUDE', ids: [tags[i] as number] } });
        for (const performer of performers.slice((i - 17) * 5, (i - 16) * 5)) {
          await tx`insert into user_hidden_entities (user_id, entity_type, entity_id) values (${user.id}, 'performer', ${performer})`;
        }
      }
    });
  }
  return ids;
}

/** A /proc/<pid>/status field in MiB (Linux), or null. */
function statusMiB(pid: number, field: string): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((each) => each.startsWith(`${field}:`));
    return line ? Math.round(Number(line.split(/\s+/)[1]) / 1024) : null;
  } catch {
    return null;
  }
}

async function tempBytes(sql: Sql): Promise<number> {
  const [row] = await sql`select temp_bytes::float8 as n from pg_stat_database where datname = current_database()`;
  return Number(row?.n ?? 0);
}

/** The all-scope recompute on one fresh connection, so its backend's VmHWM is the recompute's alone. */
async function fullRecompute(url: string, admin: Sql) {
  const sql = connect(url, { max: 1, applicationName: 'stash-mirror bench recompute' });
  try {
    const [backend] = await sql`select pg_backend_pid() as pid`;
    const pid = Number(backend?.pid);
    const tempBefore = await tempBytes(admin);
    const started = performance.now();
    const result = await runUserExclusions(sql, { kind: 'all' });
    const seconds = (performance.now() - started) / 1000;
    // pg_stat_database is updated when a backend reports; give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return {
      users: result.affected,
      seconds: +seconds.toFixed(2),
      backendPeakMiB: peakRssMiB(pid),
      // Shared buffers the backend touched count in its RSS; what is left of the peak is its own.
      backendSharedMiB: statusMiB(pid, 'RssShmem'),
      tempMiB: +(((await tempBytes(admin)) - tempBefore) / 2 ** 20).toFixed(1),
      benchPeakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** A fresh backend's VmHWM after a trivial query, and shared_buffers: what the peak above is made of. */
async function backendBaseline(url: string) {
  const sql = connect(url, { max: 1, applicationName: 'stash-mirror bench baseline' });
  try {
    const [row] = await sql`select pg_backend_pid() as pid, current_setting('shared_buffers') as shared_buffers`;
    return { freshBackendPeakMiB: peakRssMiB(Number(row?.pid)), sharedBuffers: String(row?.shared_buffers) };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function rowCounts(sql: Sql) {
  const [row] = await sql`
    select (select count(*)::int from user_excluded_entities) as excluded,
           (select count(*)::int from user_entity_counts) as counts,
           pg_total_relation_size('user_excluded_entities')::float8 / 2^20 as excluded_mib`;
  return { excludedRows: row?.excluded, countRows: row?.counts, excludedMiB: +Number(row?.excluded_mib).toFixed(1) };
}

const stack = await startBenchStack(scale, 500);
try {
  const full = await stack.run('full');
  const [library] = await stack.sql`
    select (select count(*)::int from scenes) + (select count(*)::int from images) + (select count(*)::int from galleries)
         + (select count(*)::int from performers) + (select count(*)::int from studios) + (select count(*)::int from tags)
         + (select count(*)::int from groups) as n`;
  const users = await createUsers(stack.sql);

  const first = await fullRecompute(stack.databaseUrl, stack.sql);
  const afterFirst = await rowCounts(stack.sql);
  const [versions] =
    await stack.sql`select md5(string_agg(xmin::text || ctid::text, ',' order by user_id, entity_type, entity_id)) as h from user_excluded_entities`;
  const again = await fullRecompute(stack.databaseUrl, stack.sql);
  // One user's recompute, as an API write (restrictions, hidden) runs it before answering.
  const single = {
    excludesATag: (await recomputeUserExclusions(stack.sql, users[0] as number)).ms,
    excludesAStudio: (await recomputeUserExclusions(stack.sql, users[10] as number)).ms,
    includesThreeTags: (await recomputeUserExclusions(stack.sql, users[14] as number)).ms,
  };
  const [versionsAgain] =
    await stack.sql`select md5(string_agg(xmin::text || ctid::text, ',' order by user_id, entity_type, entity_id)) as h from user_excluded_entities`;

  // One scene changed: user 0's excluded tag added to a scene that has none of the popular tags.
  const [restriction] =
    await stack.sql`select entity_ids[1] as tag from user_restrictions where user_id = ${users[0] as number}`;
  const [scene] = await stack.sql`
    select s.id, coalesce(array_agg(st.tag_id) filter (where st.tag_id is not null), '{}') as tags
    from scenes s left join scene_tags st on st.scene_id = s.id
    where s.deleted_at is null group by s.id order by count(st.tag_id), s.id limit 1`;
  await stack.control({
    action: 'update',
    type: 'scene',
    id: Number(scene?.id),
    patch: { tag_ids: [...((scene?.tags as number[]) ?? []).map(Number), Number(restriction?.tag)] },
  });
  const smart = await stack.run('smart');
  const history = await runHistory(stack.client, smart.workflowId, smart.firstRunId);

  console.log(
    JSON.stringify(
      {
        scale,
        libraryEntities: library?.n,
        fullSyncSeconds: +full.seconds.toFixed(1),
        users: USERS,
        postgres: await backendBaseline(stack.databaseUrl),
        fullRecompute: { ...first, ...afterFirst },
        recomputeChangingNothing: { ...again, rowsUntouched: versions?.h === versionsAgain?.h },
        oneUserRecomputeMs: single,
        oneSceneChanged: {
          smartSyncSeconds: +smart.seconds.toFixed(2),
          steps: history.steps,
        },
      },
      null,
      2,
    ),
  );
} finally {
  await stack.close();
}
