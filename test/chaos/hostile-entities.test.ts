/**
 * Chaos case 6 of issue 13: malformed entities. Stash serves (through the simulator's
 * corruptions, raw JSON patched after GraphQL execution) wrong types, nulls in non-null fields,
 * 1 MB strings, text from every Unicode plane, NUL bytes, lone surrogates, invalid dates and
 * timestamps, out-of-range numbers and ids that are not numbers, several on the same page as
 * good entities, across every entity type. Each bad entity is one `failed` sync_log row with a
 * readable reason; each odd-but-valid value is stored byte for byte; the rest of every page is
 * stored; the run completes. Once Stash serves them correctly, a full sync repairs the mirror.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStashClient } from '../../stash/client.js';
import { ENTITY_SPECS } from '../../stash/entities/index.js';
import { ENTITY_TABLES, ENTITY_TYPES, type EntityType } from '../../stash/entity-types.js';
import { pageQuery } from '../../stash/queries.js';
import { diffMirror, type MirrorDifference } from '../support/compare.js';
import { replayAndCapture } from '../support/replay-capture.js';
import { createTestStack, type TestStack } from '../support/stack.js';

const PAGE_SIZE = 10;

type Kind =
  | 'wrong type'
  | 'null in non-null'
  | 'out of range'
  | '1 MB string'
  | 'Unicode planes'
  | 'NUL byte'
  | 'lone surrogate'
  | 'invalid date'
  | 'non-numeric id';

/** One corrupted entity and what the mirror must make of it. */
type Case = { kind: Kind; type: EntityType; id: number; patch: Record<string, unknown> } & (
  | { outcome: 'failed'; message: RegExp; servedId?: string }
  | { outcome: 'stored'; column: string; value: string | string[] }
);

/** One character from each of the 17 planes (0: BMP … 2: SIP, 3: TIP, 14: SSP, 15/16: PUA), and a few notable ones. */
const PLANES = [
  'Ünïcødé — 日本語 Ελληνικά עברית العربية \u200B\uFEFF\uFFFD\uFFFF',
  '😀🎬👩‍👩‍👧 𝔘𝔫𝔦',
  '𠀀𪚥𫠠',
  ...Array.from({ length: 17 }, (_, plane) => String.fromCodePoint(plane * 0x10000 + 0x100)),
  '\u{E0001}\u{E0041}\u{E007F}',
  '\u{F0000}\u{FFFFD}',
  '\u{100000}\u{10FFFD}',
].join(' ');

/** 1 MiB of UTF-8 (1-, 2-, 3- and 4-byte characters), different for each use so no row equals another by accident. */
function megabyte(label: string): string {
  const unit = `${label} ascii é € 😀 `;
  const text = unit.repeat(Math.floor(2 ** 20 / Buffer.byteLength(unit, 'utf8')));
  return text + 'x'.repeat(2 ** 20 - Buffer.byteLength(text, 'utf8'));
}

const md5 = (text: string) => createHash('md5').update(Buffer.from(text, 'utf8')).digest('hex');

describe('malformed entities (chaos case 6)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await createTestStack({
      seed: 66,
      scale: 'tiny',
      counts: { studios: 12, tags: 40, performers: 36, groups: 12, galleries: 16, scenes: 60, images: 90 },
    });
    await stack.startWorker({ pageSize: PAGE_SIZE });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('fails each bad entity alone, stores odd values faithfully, and repairs once Stash is fixed', async () => {
    const began = Date.now();
    const { sql } = stack.db;
    const { simulator } = stack;
    const library = simulator.library;
    const byId = (type: 'scene' | 'image' | 'gallery') =>
      [...library[ENTITY_TABLES[type] as 'scenes' | 'images' | 'galleries'].keys()].sort((a, b) => a - b);
    const [s, i, g] = [byId('scene'), byId('image'), byId('gallery')];
    // Types walked by updated_at: the walk's first page, in the order Stash serves it.
    const [t, p, st, gr] = await Promise.all([
      firstPage(stack, 'tag'),
      firstPage(stack, 'performer'),
      firstPage(stack, 'studio'),
      firstPage(stack, 'group'),
    ]);
    const at = (ids: number[], index: number): number => {
      const id = ids[index];
      if (id === undefined) throw new Error(`no entity at ${index}`);
      return id;
    };
    const failed = (
      kind: Kind,
      type: EntityType,
      id: number,
      patch: Record<string, unknown>,
      message: RegExp,
      servedId?: string,
    ): Case => ({ kind, type, id, patch, outcome: 'failed', message, ...(servedId ? { servedId } : {}) });
    const stored = (kind: Kind, type: EntityType, id: number, column: string, value: string | string[]): Case => ({
      kind,
      type,
      id,
      patch: { [column]: value },
      outcome: 'stored',
      column,
      value,
    });
    const file = (path: string, size: number) => [{ path, size, width: 10, height: 10, format: 'jpg' }];

    const corpus: Case[] = [
      // Scenes, pages 1 and 2 (id order).
      failed('wrong type', 'scene', at(s, 1), { title: 12345 }, /^title: .*expected string, received number/),
      failed('NUL byte', 'scene', at(s, 2), { details: 'before\u0000after' }, /^details: contains a NUL character/),
      failed('non-numeric id', 'scene', at(s, 3), { id: 'abc' }, /^id: is not a numeric id/, '"abc"'),
      stored('1 MB string', 'scene', at(s, 5), 'details', megabyte('scene')),
      stored('Unicode planes', 'scene', at(s, 6), 'title', PLANES),
      failed(
        'invalid date',
        'scene',
        at(s, 7),
        { date: '2023-02-30' },
        /^date: is not a valid date \(got "2023-02-30"\)/,
      ),
      failed('null in non-null', 'scene', at(s, 8), { organized: null }, /^organized: /),
      // Number("1e9") is 1000000000: as a cursor it ended the walk, losing every later scene.
      failed('non-numeric id', 'scene', at(s, 12), { id: '1e9' }, /^id: is not a numeric id/, '"1e9"'),
      failed(
        'invalid date',
        'scene',
        at(s, 14),
        { created_at: '2023-02-30T10:00:00+10:00' },
        /^created_at: is not an RFC 3339 time/,
      ),
      stored('Unicode planes', 'scene', at(s, 15), 'urls', [`https://例え.テスト/${PLANES}`, '𠀀']),
      failed('wrong type', 'scene', at(s, 16), { rating100: 2.5 }, /^rating100: /),
      // Images, pages 1 and 2.
      failed('wrong type', 'image', at(i, 0), { organized: { value: true } }, /^organized: /),
      failed('null in non-null', 'image', at(i, 2), { visual_files: null }, /^visual_files: /),
      failed('non-numeric id', 'image', at(i, 3), { id: 42 }, /^id: .*expected string, received number/, '42'),
      stored('1 MB string', 'image', at(i, 4), 'title', megabyte('image')),
      stored('Unicode planes', 'image', at(i, 5), 'photographer', PLANES),
      failed(
        'NUL byte',
        'image',
        at(i, 6),
        { visual_files: file('/library/a\u0000b.jpg', 10) },
        /^path: contains a NUL character/,
      ),
      failed('invalid date', 'image', at(i, 7), { date: '99999-01-01' }, /^date: is not a valid date/),
      failed('wrong type', 'image', at(i, 8), { updated_at: 12345 }, /^updated_at: /),
      failed('non-numeric id', 'image', at(i, 11), { id: '-3' }, /^id: is not a numeric id/, '"-3"'),
      failed(
        'non-numeric id',
        'image',
        at(i, 13),
        { id: '99999999999999999999' },
        /^id: is not a numeric id/,
        '"99999999999999999999"',
      ),
      failed(
        'out of range',
        'image',
        at(i, 14),
        { visual_files: file('/library/b.jpg', 1.5) },
        /^filesize: 1\.5 is not a whole number/,
      ),
      // Galleries, page 1.
      failed('wrong type', 'gallery', at(g, 0), { rating100: 'high' }, /^rating100: /),
      failed(
        'lone surrogate',
        'gallery',
        at(g, 1),
        { title: 'broken \uD800 half' },
        /^title: contains a lone surrogate \(U\+D800\)/,
      ),
      failed('null in non-null', 'gallery', at(g, 2), { performers: null }, /^performers: /),
      stored('Unicode planes', 'gallery', at(g, 3), 'details', PLANES),
      stored('1 MB string', 'gallery', at(g, 4), 'title', megabyte('gallery')),
      failed('invalid date', 'gallery', at(g, 5), { date: '2023-13-01' }, /^date: is not a valid date/),
      // Tags, first page by updated_at; the last row's stamp sorts after every real one.
      failed('null in non-null', 'tag', at(t, 1), { name: null }, /^name: /),
      failed('wrong type', 'tag', at(t, 2), { aliases: 'not-a-list' }, /^aliases: /),
      failed('NUL byte', 'tag', at(t, 3), { aliases: ['ok', 'a\u0000b'] }, /^aliases\[1\]: contains a NUL character/),
      stored('1 MB string', 'tag', at(t, 4), 'description', megabyte('tag')),
      stored('Unicode planes', 'tag', at(t, 5), 'name', PLANES),
      failed(
        'invalid date',
        'tag',
        at(t, PAGE_SIZE - 1),
        { updated_at: 'zzzz-not-a-time' },
        /^updated_at: is not an RFC 3339 time/,
      ),
      // Performers, first page; the last row's stamp sorts before every real one.
      failed('wrong type', 'performer', at(p, 0), { favorite: 'yes' }, /^favorite: /),
      failed('NUL byte', 'performer', at(p, 2), { name: '\u0000' }, /^name: contains a NUL character/),
      failed('invalid date', 'performer', at(p, 3), { birthdate: 'yesterday' }, /^birthdate: is not a valid date/),
      stored('1 MB string', 'performer', at(p, 4), 'details', megabyte('performer')),
      stored('Unicode planes', 'performer', at(p, 5), 'name', PLANES),
      stored('Unicode planes', 'performer', at(p, 6), 'alias_list', [PLANES, '\u{10FFFD}']),
      failed('out of range', 'performer', at(p, 7), { height_cm: 3e9 }, /^height_cm: 3000000000 is not a whole number/),
      failed('invalid date', 'performer', at(p, PAGE_SIZE - 1), { updated_at: '0000' }, /^updated_at: /),
      // Studios and groups, first pages.
      failed('wrong type', 'studio', at(st, 0), { urls: [1, 2] }, /^urls\.0: /),
      failed(
        'lone surrogate',
        'studio',
        at(st, 1),
        { details: '\uDC00 lone' },
        /^details: contains a lone surrogate \(U\+DC00\)/,
      ),
      stored('1 MB string', 'studio', at(st, 2), 'aliases', [megabyte('studio')]),
      stored('Unicode planes', 'studio', at(st, 3), 'name', PLANES),
      failed('null in non-null', 'studio', at(st, 4), { favorite: null }, /^favorite: /),
      failed('out of range', 'group', at(gr, 0), { duration: 1e12 }, /^duration: 1000000000000 is not a whole number/),
      failed('null in non-null', 'group', at(gr, 1), { name: null }, /^name: /),
      stored('1 MB string', 'group', at(gr, 2), 'synopsis', megabyte('group')),
      stored('Unicode planes', 'group', at(gr, 3), 'name', PLANES),
      failed('invalid date', 'group', at(gr, 4), { date: '2020-1-5' }, /^date: is not a valid date/),
    ];
    // Each case is its own entity, so each outcome is attributable.
    expect(new Set(corpus.map((item) => `${item.type}:${item.id}`)).size).toBe(corpus.length);
    for (const item of corpus) simulator.control.corrupt(item.type, item.id, item.patch);

    const started = await stack.startFull();
    const summary = await started.result();
    expect(summary.status).toBe('completed');

    // One `failed` row per bad entity, with its reason; none for anything else, none twice.
    const failures = corpus.filter((item) => item.outcome === 'failed');
    const logged = await sql`
      select entity_type, entity_id, error_message from sync_log
      where run_id = ${started.syncRunId} and change_type = 'failed'`;
    const unmatched = [...logged];
    for (const item of failures) {
      if (item.outcome !== 'failed') continue;
      const entityId = item.servedId === undefined ? item.id : null;
      const matching = unmatched.filter(
        (row) =>
          row.entity_type === item.type &&
          (row.entity_id === null ? null : Number(row.entity_id)) === entityId &&
          item.message.test(String(row.error_message)) &&
          (item.servedId === undefined || String(row.error_message).endsWith(`(served id ${item.servedId})`)),
      );
      expect(matching.length, `${item.kind} on ${item.type} ${item.id}: ${JSON.stringify(logged)}`).toBe(1);
      unmatched.splice(unmatched.indexOf(matching[0] as (typeof unmatched)[number]), 1);
    }
    expect(unmatched).toEqual([]);
    for (const row of logged) expect(String(row.error_message).length).toBeLessThan(300);
    for (const type of ENTITY_TYPES) {
      expect(summary.counts[type]?.failed ?? 0, type).toBe(failures.filter((item) => item.type === type).length);
    }

    // Nothing of a failed entity is stored: no row, no link.
    for (const item of failures) {
      const spec = ENTITY_SPECS[item.type];
      const [row] = await sql.unsafe(`select count(*)::int as n from "${spec.table}" where id = $1`, [item.id]);
      expect(row?.n, `${item.type} ${item.id} has a row`).toBe(0);
      for (const link of spec.links) {
        const [links] = await sql.unsafe(
          `select count(*)::int as n from "${link.table}" where "${link.ownerColumn}" = $1`,
          [item.id],
        );
        expect(links?.n, `${item.type} ${item.id} has ${link.table} rows`).toBe(0);
      }
    }

    // Odd but valid values are stored byte for byte.
    const faithful = corpus.filter((item) => item.outcome === 'stored');
    for (const item of faithful) {
      if (item.outcome !== 'stored') continue;
      const table = ENTITY_SPECS[item.type].table;
      const column = `"${item.column}"`;
      const [row] = Array.isArray(item.value)
        ? await sql.unsafe(
            `select ${column} as value,
               (select array_agg(md5(convert_to(e, 'UTF8')) order by n) from unnest(${column}) with ordinality u(e, n)) as hashes
             from "${table}" where id = $1`,
            [item.id],
          )
        : await sql.unsafe(
            `select ${column} as value, md5(convert_to(${column}, 'UTF8')) as hash, octet_length(${column}) as bytes
             from "${table}" where id = $1`,
            [item.id],
          );
      const where = `${item.kind}: ${item.type} ${item.id}.${item.column}`;
      expect(row, where).toBeDefined();
      expect(row?.value === item.value || JSON.stringify(row?.value) === JSON.stringify(item.value), where).toBe(true);
      if (Array.isArray(item.value)) expect(row?.hashes, where).toEqual(item.value.map(md5));
      else {
        expect(row?.hash, where).toBe(md5(item.value));
        expect(row?.bytes, where).toBe(Buffer.byteLength(item.value, 'utf8'));
      }
    }

    // Every other entity of every page is stored: the mirror differs from what Stash serves in
    // exactly the failed entities (and what follows from their absence), nothing else.
    const differences = await diffMirror(sql, simulator, stack.stashUrl);
    expect(normalise(differences)).toEqual(expectedDifferences(stack, corpus));
    const compared = ENTITY_TYPES.reduce((sum, type) => sum + library[ENTITY_TABLES[type]].size, 0);
    const [run] = await sql`select status, error from sync_runs where id = ${started.syncRunId}`;
    expect(run).toEqual({ status: 'completed', error: null });
    const events = await replayAndCapture({
      temporalAddress: stack.temporalAddress,
      workflowId: started.workflowId,
      runId: started.runId,
      name: 'hostile-entities',
    });

    // Stash serves them correctly again: a full sync repairs every one.
    simulator.control.clearCorruptions();
    const repair = await stack.startFull();
    const repaired = await repair.result();
    expect(Object.values(repaired.counts).reduce((sum, counts) => sum + (counts?.failed ?? 0), 0)).toBe(0);
    expect(await diffMirror(sql, simulator, stack.stashUrl)).toEqual([]);
    const [left] = await sql`select count(*)::int as n from sync_failures`;
    expect(left?.n).toBe(0);

    // An entity the mirror holds, now served with an id that is not one: logged failed, and kept
    // as it was (an id scan with an unreadable id proves no deletion; Number("x") once made it vanish).
    const held = at(s, 20);
    const [before] = await sql`select title, synced_at from scenes where id = ${held} and deleted_at is null`;
    expect(before).toBeDefined();
    simulator.control.corrupt('scene', held, { id: 'x', title: 'half-stored?' });
    const third = await stack.startFull();
    const thirdSummary = await third.result();
    expect(thirdSummary.counts.scene?.failed).toBe(1);
    expect(thirdSummary.deleted).toBe(0);
    const [after] = await sql`select title, synced_at, deleted_at from scenes where id = ${held}`;
    expect(after).toEqual({ ...before, deleted_at: null });
    const [heldFailure] = await sql`
      select entity_id, error_message from sync_log where run_id = ${third.syncRunId} and change_type = 'failed'`;
    expect(heldFailure).toEqual({
      entity_id: null,
      error_message: 'id: is not a numeric id (got "x") (served id "x")',
    });
    simulator.control.clearCorruptions();
    expect(await diffMirror(sql, simulator, stack.stashUrl)).toEqual([]);

    const byKind = new Map<Kind, number>();
    for (const item of corpus) byKind.set(item.kind, (byKind.get(item.kind) ?? 0) + 1);
    console.log(
      `[chaos] hostile-entities: corpus ${corpus.length} (${[...byKind].map(([kind, n]) => `${kind} ${n}`).join(', ')}) ` +
        `over ${new Set(corpus.map((item) => item.type)).size} types; ${logged.length} failed rows, ` +
        `${faithful.length} stored faithfully, ${compared} entities compared, ${normalise(differences).length} types differing only as documented; ` +
        `repaired by the next full sync; a held entity served with id "x" kept, not deleted; replayed ${events} events; ${((Date.now() - began) / 1000).toFixed(1)} s`,
    );
  }, 300_000);
});

/** The ids of the walk's first page of a type walked by updated_at, in the order Stash serves them. */
async function firstPage(stack: TestStack, type: 'tag' | 'performer' | 'studio' | 'group'): Promise<number[]> {
  const spec = ENTITY_SPECS[type];
  const client = createStashClient({ url: stack.stashUrl });
  const data = await client.request<Record<string, Record<string, Array<{ id: string }>>>>(pageQuery(spec), {
    filter: { page: 1, per_page: PAGE_SIZE, sort: 'updated_at', direction: 'ASC' },
    entity_filter: {},
  });
  const rows = data[spec.queryField]?.[spec.listField] ?? [];
  expect(rows.length).toBe(PAGE_SIZE);
  return rows.map((row) => Number(row.id));
}

/** Differences in a stable order (diffMirror lists them in the order Stash served them). */
function normalise(differences: MirrorDifference[]): MirrorDifference[] {
  const merged = new Map<EntityType, MirrorDifference>();
  for (const difference of differences) {
    const into = merged.get(difference.type) ?? { type: difference.type, missing: [], extra: [], different: [] };
    into.missing.push(...difference.missing);
    into.extra.push(...difference.extra);
    into.different.push(...difference.different);
    if (difference.unreadable) into.unreadable = [...(into.unreadable ?? []), ...difference.unreadable];
    merged.set(difference.type, into);
  }
  return [...merged.values()]
    .map((difference) => ({
      ...difference,
      missing: [...difference.missing].sort((a, b) => a - b),
      extra: [...difference.extra].sort((a, b) => a - b),
      different: [...difference.different].sort((a, b) => a.id - b.id),
      ...(difference.unreadable ? { unreadable: [...difference.unreadable].sort() } : {}),
    }))
    .sort((a, b) => a.type.localeCompare(b.type));
}

/**
 * What the mirror must lack, and nothing more: each failed entity (under its id, or, served with
 * an id that is not one, as unreadable); a failed scene's tags (diffMirror checks scene_tags
 * against the simulator's model too); and a gallery's image_count where failed images are in it
 * (the mirror counts the images it holds).
 */
function expectedDifferences(stack: TestStack, corpus: Case[]): MirrorDifference[] {
  const library = stack.simulator.library;
  const failed = corpus.filter((item) => item.outcome === 'failed');
  const failedIds = (type: EntityType) => new Set(failed.filter((item) => item.type === type).map((item) => item.id));
  const expected = new Map<EntityType, MirrorDifference>();
  const entry = (type: EntityType) => {
    const found = expected.get(type) ?? { type, missing: [], extra: [], different: [] };
    expected.set(type, found);
    return found;
  };
  for (const item of failed) {
    if (item.outcome !== 'failed') continue;
    if (item.servedId === undefined) entry(item.type).missing.push(item.id);
    else entry(item.type).unreadable = [...(entry(item.type).unreadable ?? []), item.servedId];
  }
  const failedScenes = failedIds('scene');
  for (const id of failedScenes) {
    if ((library.scenes.get(id)?.tag_ids.length ?? 0) > 0) {
      entry('scene').different.push({ id, fields: ['scene_tags (model)'] });
    }
  }
  const failedImages = failedIds('image');
  const failedGalleries = failedIds('gallery');
  const short = new Set<number>();
  for (const image of library.images.values()) {
    if (!failedImages.has(image.id)) continue;
    for (const galleryId of image.gallery_ids) if (!failedGalleries.has(galleryId)) short.add(galleryId);
  }
  for (const id of short) entry('gallery').different.push({ id, fields: ['image_count'] });
  return normalise([...expected.values()]);
}
