import type { Simulator } from '../../simulator/index.js';

export interface GqlReply<T = Record<string, unknown>> {
  status: number;
  body: { data?: T | null; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** Sends one GraphQL request in-process (no socket). */
export async function gql<T = Record<string, unknown>>(
  sim: Simulator,
  query: string,
  variables: Record<string, unknown> = {},
  init: { headers?: Record<string, string>; url?: string } = {},
): Promise<GqlReply<T>> {
  const response = await sim.fetch(
    new Request(init.url ?? 'http://sim/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
      body: JSON.stringify({ query, variables }),
    }),
  );
  return { status: response.status, body: (await response.json()) as GqlReply<T>['body'] };
}

export async function control(
  sim: Simulator,
  body: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await sim.fetch(
    new Request('http://sim/__control', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export const NOW = new Date('2025-03-01T00:00:00Z');

interface Listed {
  count: number;
  rows: { id: string; title?: string | null; name?: string; updated_at?: string }[];
}

const LIST_FIELDS: Record<string, [string, string, string]> = {
  scene: ['findScenes', 'scenes', 'SceneFilterType'],
  image: ['findImages', 'images', 'ImageFilterType'],
  gallery: ['findGalleries', 'galleries', 'GalleryFilterType'],
  performer: ['findPerformers', 'performers', 'PerformerFilterType'],
  studio: ['findStudios', 'studios', 'StudioFilterType'],
  tag: ['findTags', 'tags', 'TagFilterType'],
  group: ['findGroups', 'groups', 'GroupFilterType'],
};

/** Lists one entity type with a FindFilterType and an optional type filter; throws on errors. */
export async function list(
  sim: Simulator,
  type: keyof typeof LIST_FIELDS,
  filter: Record<string, unknown> = {},
  entityFilter: Record<string, unknown> | null = null,
  fields = 'id updated_at',
): Promise<Listed> {
  const [field, key, filterType] = LIST_FIELDS[type] as [string, string, string];
  const filterArg = `${type}_filter`;
  const reply = await gql<Record<string, Record<string, unknown>>>(
    sim,
    `query($f: FindFilterType, $e: ${filterType}) { ${field}(filter: $f, ${filterArg}: $e) { count ${key} { ${fields} } } }`,
    { f: filter, e: entityFilter },
  );
  if (reply.status !== 200 || reply.body.errors)
    throw new Error(`list failed: ${reply.status} ${JSON.stringify(reply.body.errors)}`);
  const result = reply.body.data?.[field] as Record<string, unknown>;
  return { count: result.count as number, rows: result[key] as Listed['rows'] };
}
