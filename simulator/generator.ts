import type { SimClock } from './clock.js';
import { emptyLibrary } from './entities.js';
import type {
  Gender,
  Library,
  SimGallery,
  SimGroup,
  SimImage,
  SimPerformer,
  SimScene,
  SimStudio,
  SimTag,
} from './model.js';
import { Rng } from './rng.js';
import type { LibraryCounts } from './scales.js';
import { ensureSeedScenario } from './scenario.js';
import { formatDate } from './time.js';
import { creationTimes, HISTORY_MS, StampFormatter, updateTimes, wholeSecond } from './timeline.js';
import {
  ADJECTIVES,
  AUDIO_CODECS,
  COUNTRIES,
  ETHNICITIES,
  FIRST_NAMES,
  FRAME_RATES,
  IMAGE_FORMATS,
  LAST_NAMES,
  NOUNS,
  RESOLUTIONS,
  TAG_WORDS,
  VIDEO_CODECS,
  VIDEO_FORMATS,
} from './vocabulary.js';

export interface GenerateOptions {
  seed: number;
  counts: LibraryCounts;
  clock: SimClock;
  /** History ends here (the newest generated timestamp is at or before it). */
  endMs: number;
}

const GENDERS: readonly Gender[] = ['FEMALE', 'FEMALE', 'FEMALE', 'MALE', 'MALE', 'TRANSGENDER_FEMALE', 'NON_BINARY'];

/**
 * Builds a library that is a pure function of (seed, counts, history end, zone rules): every
 * entity type draws from its own forked generator so changing one count does not reshuffle the rest.
 */
export function generateLibrary(options: GenerateOptions): Library {
  const { counts, clock, endMs } = options;
  const root = new Rng(options.seed ^ 0x5eed5eed);
  const rngs = {
    studio: root.fork(),
    tag: root.fork(),
    performer: root.fork(),
    group: root.fork(),
    gallery: root.fork(),
    scene: root.fork(),
    image: root.fork(),
    time: root.fork(),
  };
  const startMs = wholeSecond(endMs - HISTORY_MS);
  const stamps = new StampFormatter(clock);
  const library = emptyLibrary();

  const stampsFor = (count: number): { created: string[]; updated: string[] } => {
    const created = creationTimes(rngs.time, count, startMs, endMs - 3_600_000);
    const updated = updateTimes(rngs.time, created, startMs, endMs);
    const createdS: string[] = new Array(count);
    const updatedS: string[] = new Array(count);
    for (let i = 0; i < count; i++) {
      createdS[i] = stamps.format(created[i] as number);
      updatedS[i] = stamps.format(updated[i] as number);
    }
    return { created: createdS, updated: updatedS };
  };

  generateStudios(library, rngs.studio, counts, stampsFor(counts.studios));
  generateTags(library, rngs.tag, counts, stampsFor(counts.tags));
  generatePerformers(library, rngs.performer, counts, stampsFor(counts.performers));
  generateGroups(library, rngs.group, counts, stampsFor(counts.groups));
  generateGalleries(library, rngs.gallery, counts, stampsFor(counts.galleries), startMs, endMs);
  const fileIds = { next: 1 };
  generateScenes(library, rngs.scene, counts, stampsFor(counts.scenes), startMs, endMs, stamps, fileIds);
  generateImages(library, rngs.image, counts, stampsFor(counts.images), startMs, endMs, fileIds);
  ensureSeedScenario(library);
  return library;
}

type Stamps = { created: string[]; updated: string[] };

function generateStudios(library: Library, rng: Rng, counts: LibraryCounts, stamps: Stamps): void {
  const suffixes = ['Pictures', 'Media', 'Films', 'Studios', 'Productions', 'Digital'];
  const taken = new Set<string>();
  for (let id = 1; id <= counts.studios; id++) {
    const name = uniqueName(`${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)} ${rng.pick(suffixes)}`, taken);
    const studio: SimStudio = {
      id,
      created_at: stamps.created[id - 1] as string,
      updated_at: stamps.updated[id - 1] as string,
      name,
      // Parents always have a lower id, so the studio tree can never contain a cycle.
      parent_id: id > 1 && rng.chance(0.25) ? rng.int(1, id - 1) : null,
      aliases: rng.chance(0.2) ? [`${name.split(' ')[0]} ${rng.pick(NOUNS)}`] : [],
      tag_ids: someIds(rng, counts.tags, 0.4, 3),
      rating100: maybeRating(rng, 0.3),
      favorite: rng.chance(0.1),
      details: rng.chance(0.3) ? `${name} publishes ${rng.pick(ADJECTIVES).toLowerCase()} content.` : null,
      urls: rng.chance(0.6) ? [`https://${slug(name)}.example.com`] : [],
      ignore_auto_tag: rng.chance(0.05),
    };
    library.studios.set(id, studio);
  }
}

function generateTags(library: Library, rng: Rng, counts: LibraryCounts, stamps: Stamps): void {
  const taken = new Set<string>();
  for (let id = 1; id <= counts.tags; id++) {
    const base =
      id <= TAG_WORDS.length
        ? (TAG_WORDS[id - 1] as string)
        : `${rng.pick(TAG_WORDS)} ${rng.chance(0.5) ? rng.pick(TAG_WORDS) : rng.pick(NOUNS).toLowerCase()}`;
    const name = uniqueName(base, taken);
    // A tag may have several parents; parents have lower ids, which rules out cycles.
    const parentRoll = rng.next();
    const parentCount = id === 1 ? 0 : parentRoll < 0.6 ? 0 : parentRoll < 0.9 ? 1 : rng.int(2, 3);
    const tag: SimTag = {
      id,
      created_at: stamps.created[id - 1] as string,
      updated_at: stamps.updated[id - 1] as string,
      name,
      sort_name: rng.chance(0.1) ? `${String(rng.int(0, 99)).padStart(2, '0')} ${name}` : null,
      description: rng.chance(0.3) ? `Anything ${name}.` : null,
      aliases: rng.chance(0.2) ? [`${name}-alt`] : [],
      favorite: rng.chance(0.05),
      ignore_auto_tag: rng.chance(0.05),
      parent_ids: rng.distinctInts(parentCount, 1, id - 1),
    };
    library.tags.set(id, tag);
  }
}

function generatePerformers(library: Library, rng: Rng, counts: LibraryCounts, stamps: Stamps): void {
  const seen = new Map<string, number>();
  for (let id = 1; id <= counts.performers; id++) {
    const name = `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}`;
    const dupes = seen.get(name) ?? 0;
    seen.set(name, dupes + 1);
    const country = rng.chance(0.7) ? rng.pick(COUNTRIES) : null;
    const aliasCount = rng.chance(0.4) ? rng.int(1, 3) : 0;
    const performer: SimPerformer = {
      id,
      created_at: stamps.created[id - 1] as string,
      updated_at: stamps.updated[id - 1] as string,
      name,
      // Stash keeps (name, disambiguation) unique, so namesakes get told apart.
      disambiguation: dupes > 0 ? `${country ?? 'XX'} ${dupes + 1}` : rng.chance(0.05) ? 'actor' : null,
      gender: rng.chance(0.9) ? rng.pick(GENDERS) : null,
      birthdate: rng.chance(0.7) ? `${rng.int(1960, 2003)}-${pad2(rng.int(1, 12))}-${pad2(rng.int(1, 28))}` : null,
      death_date: rng.chance(0.01) ? `${rng.int(2010, 2024)}-${pad2(rng.int(1, 12))}-${pad2(rng.int(1, 28))}` : null,
      country,
      ethnicity: rng.chance(0.6) ? rng.pick(ETHNICITIES) : null,
      height_cm: rng.chance(0.6) ? rng.int(150, 200) : null,
      alias_list: Array.from({ length: aliasCount }, () => `${rng.pick(FIRST_NAMES)} ${rng.pick(NOUNS)}`),
      favorite: rng.chance(0.15),
      rating100: maybeRating(rng, 0.4),
      details: rng.chance(0.2) ? `${name} has worked with many studios.` : null,
      urls: rng.chance(0.5) ? [`https://example.com/performers/${id}`] : [],
      tag_ids: someIds(rng, counts.tags, 0.6, 5),
      ignore_auto_tag: rng.chance(0.05),
    };
    library.performers.set(id, performer);
  }
}

function generateGroups(library: Library, rng: Rng, counts: LibraryCounts, stamps: Stamps): void {
  const pool = titlePool(rng, Math.max(3, Math.ceil(counts.groups / 3)));
  for (let id = 1; id <= counts.groups; id++) {
    const containing = id > 1 && rng.chance(0.25) ? rng.distinctInts(rng.int(1, 2), 1, id - 1) : [];
    const group: SimGroup = {
      id,
      created_at: stamps.created[id - 1] as string,
      updated_at: stamps.updated[id - 1] as string,
      name: rng.pick(pool),
      aliases: rng.chance(0.15) ? `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}` : null,
      duration: rng.chance(0.6) ? rng.int(1800, 14_400) : null,
      date: rng.chance(0.6) ? `${rng.int(1995, 2024)}-${pad2(rng.int(1, 12))}-${pad2(rng.int(1, 28))}` : null,
      rating100: maybeRating(rng, 0.3),
      studio_id: counts.studios > 0 && rng.chance(0.7) ? rng.int(1, counts.studios) : null,
      director: rng.chance(0.4) ? `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}` : null,
      synopsis: rng.chance(0.4) ? `A ${rng.pick(ADJECTIVES).toLowerCase()} story.` : null,
      urls: rng.chance(0.3) ? [`https://example.com/groups/${id}`] : [],
      tag_ids: someIds(rng, counts.tags, 0.5, 4),
      // Containing groups have lower ids: the group hierarchy stays acyclic.
      containing_groups: containing.map((group_id) => ({
        group_id,
        description: rng.chance(0.5) ? `Part ${rng.int(1, 9)}` : null,
      })),
    };
    library.groups.set(id, group);
  }
}

function generateGalleries(
  library: Library,
  rng: Rng,
  counts: LibraryCounts,
  stamps: Stamps,
  startMs: number,
  endMs: number,
): void {
  const pool = titlePool(rng, Math.max(3, Math.ceil(counts.galleries / 4)));
  for (let id = 1; id <= counts.galleries; id++) {
    const gallery: SimGallery = {
      id,
      created_at: stamps.created[id - 1] as string,
      updated_at: stamps.updated[id - 1] as string,
      title: maybeTitle(rng, pool),
      code: rng.chance(0.1) ? `G-${rng.int(1000, 9999)}` : null,
      date: rng.chance(0.6) ? formatDate(startMs + rng.next() * (endMs - startMs)) : null,
      details: rng.chance(0.4) ? `Photos from the ${rng.pick(NOUNS).toLowerCase()}.` : unsetText(id),
      photographer: rng.chance(0.5) ? `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}` : unsetText(id),
      rating100: maybeRating(rng, 0.3),
      organized: rng.chance(0.3),
      studio_id: counts.studios > 0 && rng.chance(0.7) ? rng.int(1, counts.studios) : null,
      urls: rng.chance(0.3) ? [`https://example.com/galleries/${id}`] : [],
      performer_ids: someIds(rng, counts.performers, 0.75, 4),
      tag_ids: someIds(rng, counts.tags, 0.6, 5),
      // Filled from the scene side so both views of scenes_galleries agree.
      scene_ids: [],
    };
    library.galleries.set(id, gallery);
  }
}

function generateScenes(
  library: Library,
  rng: Rng,
  counts: LibraryCounts,
  stamps: Stamps,
  startMs: number,
  endMs: number,
  formatter: StampFormatter,
  fileIds: { next: number },
): void {
  const pool = titlePool(rng, Math.max(4, Math.ceil(counts.scenes / 6)));
  for (let id = 1; id <= counts.scenes; id++) {
    const title = maybeTitle(rng, pool);
    const playCount = rng.chance(0.4) ? rng.int(1, 20) : 0;
    const [width, height] = rng.pick(RESOLUTIONS);
    const duration = Math.round((60 + rng.next() * 5400) * 100) / 100;
    const bitRate = rng.int(1_000_000, 20_000_000);
    const format = rng.pick(VIDEO_FORMATS);
    const studioId = counts.studios > 0 && rng.chance(0.8) ? rng.int(1, counts.studios) : null;
    const galleryIds =
      counts.galleries > 0 && rng.chance(0.2) ? rng.distinctInts(rng.int(1, 2), 1, counts.galleries) : [];
    const groupIds = counts.groups > 0 && rng.chance(0.12) ? rng.distinctInts(rng.int(1, 2), 1, counts.groups) : [];
    const fileId = fileIds.next++;
    const scene: SimScene = {
      id,
      created_at: stamps.created[id - 1] as string,
      updated_at: stamps.updated[id - 1] as string,
      title,
      code: rng.chance(0.15) ? `SC-${rng.int(10_000, 99_999)}` : null,
      details: rng.chance(0.4)
        ? `A ${rng.pick(ADJECTIVES).toLowerCase()} scene by the ${rng.pick(NOUNS).toLowerCase()}.`
        : null,
      director: rng.chance(0.2) ? `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}` : null,
      urls: rng.chance(0.5) ? [`https://example.com/scenes/${id}`] : [],
      date: rng.chance(0.7) ? formatDate(startMs + rng.next() * (endMs - startMs)) : null,
      rating100: maybeRating(rng, 0.35),
      organized: rng.chance(0.3),
      o_counter: rng.chance(0.2) ? rng.int(1, 10) : 0,
      play_count: playCount,
      play_duration: playCount > 0 ? Math.round(rng.next() * duration * playCount * 100) / 100 : 0,
      resume_time: playCount > 0 && rng.chance(0.5) ? Math.round(rng.next() * duration * 100) / 100 : 0,
      last_played_at:
        playCount > 0 ? formatter.format(wholeSecond(endMs - rng.next() * (endMs - startMs) * 0.5)) : null,
      interactive: rng.chance(0.05),
      studio_id: studioId,
      performer_ids: someIds(rng, counts.performers, 0.85, 4),
      tag_ids: someIds(rng, counts.tags, 0.8, 8),
      gallery_ids: galleryIds,
      groups: groupIds.map((group_id) => ({ group_id, scene_index: rng.chance(0.7) ? rng.int(1, 12) : null })),
      files: [
        {
          id: fileId,
          path: `/data/videos/${studioId === null ? 'unsorted' : `studio-${studioId}`}/${slug(title || 'scene')}-${id}.${format}`,
          size: Math.round((duration * bitRate) / 8),
          duration,
          width,
          height,
          video_codec: rng.pick(VIDEO_CODECS),
          audio_codec: rng.pick(AUDIO_CODECS),
          format,
          frame_rate: rng.pick(FRAME_RATES),
          bit_rate: bitRate,
        },
      ],
    };
    library.scenes.set(id, scene);
    for (const galleryId of galleryIds) library.galleries.get(galleryId)?.scene_ids.push(id);
  }
}

function generateImages(
  library: Library,
  rng: Rng,
  counts: LibraryCounts,
  stamps: Stamps,
  startMs: number,
  endMs: number,
  fileIds: { next: number },
): void {
  const pool = titlePool(rng, Math.max(4, Math.ceil(counts.images / 20)));
  // Images arrive folder by folder: runs of consecutive ids share a gallery (or none).
  let runLeft = 0;
  let runGallery: number | null = null;
  for (let id = 1; id <= counts.images; id++) {
    if (runLeft === 0) {
      runLeft = rng.int(2, 40);
      runGallery = counts.galleries > 0 && rng.chance(0.7) ? rng.int(1, counts.galleries) : null;
    }
    runLeft--;
    let galleryIds: number[] = runGallery === null ? [] : [runGallery];
    if (runGallery !== null && counts.galleries > 1 && rng.chance(0.14)) {
      const extra = rng.distinctInts(rng.int(1, 2), 1, counts.galleries).filter((g) => g !== runGallery);
      galleryIds = [runGallery, ...extra];
    }
    // Gallery images seldom carry their own metadata; mirrors fill it in from the gallery.
    const inGallery = galleryIds.length > 0;
    const own = inGallery ? 0.04 : 0.15;
    const format = rng.pick(IMAGE_FORMATS);
    const [width, height] = rng.chance(0.5) ? [4000, 3000] : rng.pick(RESOLUTIONS);
    const image: SimImage = {
      id,
      created_at: stamps.created[id - 1] as string,
      updated_at: stamps.updated[id - 1] as string,
      title: rng.chance(0.3) ? maybeTitle(rng, pool) : null,
      code: null,
      date: rng.chance(own) ? formatDate(startMs + rng.next() * (endMs - startMs)) : null,
      details: rng.chance(own / 2) ? 'Outtake.' : unsetText(id),
      photographer: rng.chance(own / 2) ? `${rng.pick(FIRST_NAMES)} ${rng.pick(LAST_NAMES)}` : unsetText(id),
      rating100: maybeRating(rng, 0.1),
      organized: rng.chance(0.2),
      o_counter: rng.chance(0.05) ? rng.int(1, 5) : 0,
      urls: rng.chance(0.02) ? [`https://example.com/images/${id}`] : [],
      studio_id: counts.studios > 0 && rng.chance(own) ? rng.int(1, counts.studios) : null,
      performer_ids: someIds(rng, counts.performers, own * 1.5, 2),
      tag_ids: someIds(rng, counts.tags, own * 2, 3),
      gallery_ids: galleryIds,
      visual_files: [
        {
          id: fileIds.next++,
          path: `/data/images/${runGallery === null ? 'loose' : `gallery-${runGallery}`}/IMG_${String(id).padStart(6, '0')}.${format === 'jpeg' ? 'jpg' : format}`,
          size: rng.int(50_000, 12_000_000),
          width,
          height,
          format,
        },
      ],
    };
    library.images.set(id, image);
  }
}

function someIds(rng: Rng, available: number, probability: number, max: number): number[] {
  if (available === 0 || !rng.chance(probability)) return [];
  return rng.distinctInts(rng.int(1, Math.min(max, available)), 1, available);
}

function maybeRating(rng: Rng, probability: number): number | null {
  return rng.chance(probability) ? rng.int(1, 5) * 20 : null;
}

/**
 * An unset text as Stash's database holds it: NULL, or '' in rows older versions and imports
 * wrote. Both are served as "" (resolvers.ts). Decided by the id, not the generator, so the rest
 * of the library stays what the seed made it.
 */
function unsetText(id: number): string | null {
  return id % 3 === 0 ? '' : null;
}

function maybeTitle(rng: Rng, pool: readonly string[]): string | null {
  const r = rng.next();
  if (r < 0.08) return null;
  if (r < 0.2) return '';
  return rng.pick(pool);
}

function titlePool(rng: Rng, size: number): string[] {
  return Array.from({ length: size }, (_, i) => {
    const base = `${rng.pick(ADJECTIVES)} ${rng.pick(NOUNS)}`;
    return i % 3 === 0 ? `${base} ${rng.int(1, 12)}` : base;
  });
}

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base} ${n}`;
  taken.add(name.toLowerCase());
  return name;
}

function slug(value: string): string {
  return (
    value
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'untitled'
  );
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
