import { readFileSync } from 'node:fs';
import { buildSchema, type GraphQLFieldResolver, type GraphQLObjectType, type GraphQLSchema } from 'graphql';
import type { EntityType } from './entities.js';
import type {
  SimGallery,
  SimGroup,
  SimGroupDescription,
  SimImage,
  SimImageFile,
  SimPerformer,
  SimScene,
  SimStudio,
  SimTag,
  SimVideoFile,
} from './model.js';
import { basename, type EntityFilter, type FindFilter, type Lister } from './query.js';
import { hash32, type Rng } from './rng.js';
import type { StatsRecorder } from './stats.js';
import type { Store } from './store.js';

/** Per-request state handed to every resolver. */
export interface RequestContext {
  store: Store;
  lister: Lister;
  /** Seeded per request: decides this request's order among tied rows. */
  rng: Rng;
  stats: Pick<StatsRecorder, 'rows'>;
}

export const STASH_VERSION = { version: 'v0.30.1', hash: 'simulated', build_time: '2025-01-01 00:00:00' };

type Resolver<S = unknown> = GraphQLFieldResolver<S, RequestContext, Record<string, unknown>>;

interface FindArgs {
  filter?: FindFilter | null;
  ids?: string[] | null;
  [key: string]: unknown;
}

let cached: GraphQLSchema | null = null;

/** The executable simulator schema (built once; resolvers read the store from the context). */
export function simulatorSchema(): GraphQLSchema {
  if (cached) return cached;
  const sdl = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');
  const schema = buildSchema(sdl);
  attach(schema, 'Query', queryResolvers());
  attach(schema, 'Mutation', mutationResolvers());
  attach(
    schema,
    'FindScenesResultType',
    aggregateResolvers<SimScene>({
      duration: (s) => s.files[0]?.duration ?? 0,
      filesize: (s) => s.files[0]?.size ?? 0,
    }),
  );
  attach(
    schema,
    'FindImagesResultType',
    aggregateResolvers<SimImage>({
      megapixels: (i) => {
        const f = i.visual_files[0];
        return f ? (f.width * f.height) / 1e6 : 0;
      },
      filesize: (i) => i.visual_files[0]?.size ?? 0,
    }),
  );
  attach(schema, 'Scene', sceneResolvers());
  attach(schema, 'Image', imageResolvers());
  attach(schema, 'Gallery', galleryResolvers());
  attach(schema, 'Performer', {
    tags: (p: SimPerformer, _a, ctx) => many(ctx, 'tag', p.tag_ids),
    url: (p: SimPerformer) => p.urls[0] ?? null,
  });
  attach(schema, 'Studio', studioResolvers());
  attach(schema, 'Tag', tagResolvers());
  attach(schema, 'Group', groupResolvers());
  const fileResolvers: Record<string, Resolver<FileView>> = {
    fingerprint: (file, args) => fingerprintsOf(file).find((f) => f.type === args.type)?.value ?? null,
    fingerprints: (file) => fingerprintsOf(file),
  };
  attach(schema, 'VideoFile', fileResolvers);
  attach(schema, 'ImageFile', fileResolvers);
  for (const [typeName, fields] of Object.entries(OPTIONAL_TEXT)) attach(schema, typeName, unsetTextAsEmpty(fields));
  cached = schema;
  return schema;
}

/**
 * Stash holds text in plain Go strings: every unset text field (NULL or '' in its database) is
 * served as "", never null (../shared/stash-notes.md, "Values"). The model keeps the database's
 * value, NULL or '', which sorting reads (an untitled scene sorts by its file name only when the
 * title is NULL); only the answer turns both into "". Unset dates and numbers stay null.
 */
const OPTIONAL_TEXT: Readonly<Record<string, readonly string[]>> = {
  Scene: ['title', 'code', 'details', 'director'],
  Image: ['title', 'code', 'details', 'photographer'],
  Gallery: ['title', 'code', 'details', 'photographer'],
  Performer: ['disambiguation', 'country', 'ethnicity', 'details'],
  Studio: ['details'],
  Tag: ['sort_name', 'description'],
  Group: ['aliases', 'director', 'synopsis'],
  GroupDescription: ['description'],
};

function unsetTextAsEmpty(fields: readonly string[]): Record<string, Resolver<Record<string, unknown>>> {
  return Object.fromEntries(fields.map((field) => [field, (row: Record<string, unknown>) => row[field] ?? '']));
}

function attach(schema: GraphQLSchema, typeName: string, resolvers: Record<string, Resolver<never>>): void {
  const type = schema.getType(typeName) as GraphQLObjectType | undefined;
  if (!type) throw new Error(`schema has no type ${typeName}`);
  const fields = type.getFields();
  for (const [name, resolve] of Object.entries(resolvers)) {
    const field = fields[name];
    if (!field) throw new Error(`schema type ${typeName} has no field ${name}`);
    field.resolve = resolve as Resolver;
  }
}

function find(type: EntityType, field: string, listKey: string, filterArg: string, deprecatedIds?: string): Resolver {
  return (_root, rawArgs, ctx) => {
    const args = rawArgs as FindArgs;
    const legacy = deprecatedIds ? (args[deprecatedIds] as number[] | null | undefined) : null;
    const ids = args.ids && args.ids.length > 0 ? args.ids : legacy && legacy.length > 0 ? legacy : null;
    const result = ctx.lister.list(
      type,
      { filter: args.filter ?? null, entityFilter: (args[filterArg] as EntityFilter | null) ?? null, ids },
      ctx.rng,
    );
    ctx.stats.rows(field, result.rows.length);
    const out: FindResult = { count: result.count, [listKey]: result.rows, matched: result.matched };
    return out;
  };
}

/** A listing's answer; the aggregates (total duration, size...) are summed only when selected. */
interface FindResult {
  count: number;
  matched: () => Iterable<unknown>;
  [listKey: string]: unknown;
}

// Explicit resolvers rather than function-valued properties: a compiled query (graphql-jit)
// reads plain properties without calling them, as graphql-js's default resolver would.
function aggregateResolvers<T>(fields: Record<string, (row: T) => number>): Record<string, Resolver<FindResult>> {
  return Object.fromEntries(
    Object.entries(fields).map(([name, value]) => [
      name,
      (result: FindResult) => sum(result.matched() as Iterable<T>, value),
    ]),
  );
}

function findOne(type: EntityType): Resolver {
  return (_root, args, ctx) => {
    const id = args.id as string | null | undefined;
    if (id == null) return null;
    return ctx.store.get(type, Number(id)) ?? null;
  };
}

function queryResolvers(): Record<string, Resolver> {
  return {
    findScenes: find('scene', 'findScenes', 'scenes', 'scene_filter', 'scene_ids'),
    findImages: find('image', 'findImages', 'images', 'image_filter', 'image_ids'),
    findGalleries: find('gallery', 'findGalleries', 'galleries', 'gallery_filter'),
    findPerformers: find('performer', 'findPerformers', 'performers', 'performer_filter', 'performer_ids'),
    findStudios: find('studio', 'findStudios', 'studios', 'studio_filter'),
    findTags: find('tag', 'findTags', 'tags', 'tag_filter'),
    findGroups: find('group', 'findGroups', 'groups', 'group_filter'),
    findScene: findOne('scene'),
    findImage: findOne('image'),
    findGallery: findOne('gallery'),
    findPerformer: findOne('performer'),
    findStudio: findOne('studio'),
    findTag: findOne('tag'),
    findGroup: findOne('group'),
    version: () => STASH_VERSION,
  };
}

function mutationResolvers(): Record<string, Resolver> {
  return {
    tagsMerge: (_root, args, ctx) => {
      const input = args.input as { source: string[]; destination: string };
      return ctx.store.mergeTags(input.source, input.destination);
    },
    addGalleryImages: (_root, args, ctx) => {
      const input = args.input as { gallery_id: string; image_ids: string[] };
      ctx.store.changeGalleryImages(input.gallery_id, input.image_ids, true);
      return true;
    },
    removeGalleryImages: (_root, args, ctx) => {
      const input = args.input as { gallery_id: string; image_ids: string[] };
      ctx.store.changeGalleryImages(input.gallery_id, input.image_ids, false);
      return true;
    },
    sceneMerge: (_root, args, ctx) => {
      const input = args.input as {
        source: string[];
        destination: string;
        play_history?: boolean | null;
        o_history?: boolean | null;
      };
      return ctx.store.mergeScenes(input.source, input.destination, {
        playHistory: input.play_history ?? false,
        oHistory: input.o_history ?? false,
      });
    },
  };
}

function sceneResolvers(): Record<string, Resolver<SimScene>> {
  return {
    url: (s) => s.urls[0] ?? null,
    studio: (s, _a, ctx) => one(ctx, 'studio', s.studio_id),
    performers: (s, _a, ctx) => many(ctx, 'performer', s.performer_ids),
    tags: (s, _a, ctx) => many(ctx, 'tag', s.tag_ids),
    galleries: (s, _a, ctx) => many(ctx, 'gallery', s.gallery_ids),
    groups: (s, _a, ctx) =>
      s.groups.flatMap((link) => {
        const group = ctx.store.get('group', link.group_id);
        return group ? [{ group, scene_index: link.scene_index }] : [];
      }),
    files: (s) => s.files.map((f) => videoFileView(s, f)),
  };
}

function imageResolvers(): Record<string, Resolver<SimImage>> {
  return {
    url: (i) => i.urls[0] ?? null,
    studio: (i, _a, ctx) => one(ctx, 'studio', i.studio_id),
    performers: (i, _a, ctx) => many(ctx, 'performer', i.performer_ids),
    tags: (i, _a, ctx) => many(ctx, 'tag', i.tag_ids),
    galleries: (i, _a, ctx) => many(ctx, 'gallery', i.gallery_ids),
    visual_files: (i) => i.visual_files.map((f) => imageFileView(i, f)),
    files: (i) => i.visual_files.map((f) => imageFileView(i, f)),
  };
}

function galleryResolvers(): Record<string, Resolver<SimGallery>> {
  return {
    url: (g) => g.urls[0] ?? null,
    studio: (g, _a, ctx) => one(ctx, 'studio', g.studio_id),
    performers: (g, _a, ctx) => many(ctx, 'performer', g.performer_ids),
    tags: (g, _a, ctx) => many(ctx, 'tag', g.tag_ids),
    scenes: (g, _a, ctx) => many(ctx, 'scene', g.scene_ids),
    image_count: (g, _a, ctx) => ctx.store.imageCount(g.id),
  };
}

function studioResolvers(): Record<string, Resolver<SimStudio>> {
  return {
    url: (s) => s.urls[0] ?? null,
    parent_studio: (s, _a, ctx) => one(ctx, 'studio', s.parent_id),
    child_studios: (s, _a, ctx) => many(ctx, 'studio', ctx.store.studioChildren(s.id)),
    tags: (s, _a, ctx) => many(ctx, 'tag', s.tag_ids),
  };
}

function tagResolvers(): Record<string, Resolver<SimTag>> {
  return {
    parents: (t, _a, ctx) => many(ctx, 'tag', t.parent_ids),
    children: (t, _a, ctx) => many(ctx, 'tag', ctx.store.tagChildren(t.id)),
    parent_count: (t, _a, ctx) => many(ctx, 'tag', t.parent_ids).length,
    child_count: (t, _a, ctx) => ctx.store.tagChildren(t.id).length,
  };
}

function groupResolvers(): Record<string, Resolver<SimGroup>> {
  const describe = (ctx: RequestContext, links: readonly SimGroupDescription[]) =>
    links.flatMap((link) => {
      const group = ctx.store.get('group', link.group_id);
      return group ? [{ group, description: link.description }] : [];
    });
  return {
    studio: (g, _a, ctx) => one(ctx, 'studio', g.studio_id),
    tags: (g, _a, ctx) => many(ctx, 'tag', g.tag_ids),
    containing_groups: (g, _a, ctx) => describe(ctx, g.containing_groups),
    sub_groups: (g, _a, ctx) => describe(ctx, ctx.store.subGroups(g.id)),
  };
}

function one<T extends EntityType>(ctx: RequestContext, type: T, id: number | null) {
  return id === null ? null : (ctx.store.get(type, id) ?? null);
}

/** Dangling links are skipped, as a SQL join would. */
function many<T extends EntityType>(ctx: RequestContext, type: T, ids: readonly number[]) {
  const out = [];
  for (const id of ids) {
    const entity = ctx.store.get(type, id);
    if (entity) out.push(entity);
  }
  return out;
}

interface FileView {
  __typename: 'VideoFile' | 'ImageFile';
  id: number;
  basename: string;
  mod_time: string;
  created_at: string;
  updated_at: string;
}

/** Files are stamped when their owner was scanned; metadata edits never touch the file rows. */
function videoFileView(scene: SimScene, file: SimVideoFile): SimVideoFile & FileView {
  return {
    __typename: 'VideoFile',
    ...file,
    basename: basename(file.path),
    mod_time: scene.created_at,
    created_at: scene.created_at,
    updated_at: scene.created_at,
  };
}

function imageFileView(image: SimImage, file: SimImageFile): SimImageFile & FileView {
  return {
    __typename: 'ImageFile',
    ...file,
    basename: basename(file.path),
    mod_time: image.created_at,
    created_at: image.created_at,
    updated_at: image.created_at,
  };
}

/** Fingerprint kinds per file type: [type, hash salt, 32-bit words]. */
const FINGERPRINTS: Record<FileView['__typename'], readonly (readonly [string, number, number])[]> = {
  VideoFile: [
    ['oshash', 1, 2],
    ['phash', 3, 2],
  ],
  ImageFile: [
    ['md5', 5, 4],
    ['phash', 9, 2],
  ],
};

/** Derived from the file id, only when a client selects them (most listings never do). */
function fingerprintsOf(file: FileView): { type: string; value: string }[] {
  return FINGERPRINTS[file.__typename].map(([type, salt, words]) => ({ type, value: hex(file.id, salt, words) }));
}

function hex(id: number, salt: number, words: number): string {
  let out = '';
  for (let i = 0; i < words; i++)
    out += hash32(id, salt + i)
      .toString(16)
      .padStart(8, '0');
  return out;
}

function sum<T>(rows: Iterable<T>, value: (row: T) => number): number {
  let total = 0;
  for (const row of rows) total += value(row);
  return total;
}
