import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CriterionDef } from '../../api/library/definition.js';
import { LIBRARY_ENTITIES } from '../../api/library/entities/index.js';
import { createTestStack, mirrorFingerprint, type TestStack } from '../support/stack.js';
import { type ApiServer, startApi } from './support.js';

const TOKEN = 'property-token';
const LIBRARY = ['scenes', 'images', 'galleries', 'performers', 'studios', 'tags', 'groups'] as const;

/** Route templates: `:p` is replaced by a (percent-encoded) hostile path segment. */
const ROUTES: ReadonlyArray<{ method: string; path: string }> = [
  { method: 'POST', path: '/api/sync/full' },
  { method: 'POST', path: '/api/sync/incremental' },
  { method: 'POST', path: '/api/sync/smart' },
  { method: 'POST', path: '/api/sync/:p/:p' },
  { method: 'POST', path: '/api/sync/scene/:p' },
  { method: 'GET', path: '/api/sync/status' },
  { method: 'GET', path: '/api/sync/runs' },
  { method: 'GET', path: '/api/sync/runs/:p' },
  { method: 'POST', path: '/api/sync/runs/:p/cancel' },
  { method: 'GET', path: '/api/sync/runs/:p/events' },
  { method: 'GET', path: '/api/sync/schedule' },
  { method: 'PUT', path: '/api/sync/schedule' },
  { method: 'POST', path: '/api/sync/schedule/trigger' },
  ...LIBRARY.flatMap((type) => [
    { method: 'GET', path: `/api/${type}/:p/sync-logs` },
    { method: 'POST', path: `/api/library/${type}` },
    { method: 'GET', path: `/api/library/${type}/:p` },
  ]),
  { method: 'POST', path: '/api/users' },
  { method: 'GET', path: '/api/users' },
  { method: 'GET', path: '/api/users/:p' },
  { method: 'PATCH', path: '/api/users/:p' },
  { method: 'DELETE', path: '/api/users/:p' },
  { method: 'GET', path: '/api/users/:p/restrictions' },
  { method: 'PUT', path: '/api/users/:p/restrictions' },
  { method: 'GET', path: '/api/users/:p/hidden' },
  { method: 'POST', path: '/api/users/:p/hidden' },
  { method: 'DELETE', path: '/api/users/:p/hidden/:p/:p' },
  { method: 'POST', path: '/api/users/:p/activity' },
  { method: 'GET', path: '/api/users/:p/stats' },
  { method: 'POST', path: '/api/hooks/stash' },
  { method: 'GET', path: '/api/hooks/stash' },
  { method: 'GET', path: '/healthz' },
  { method: 'GET', path: '/readyz' },
  { method: 'GET', path: '/openapi.json' },
  { method: 'GET', path: '/docs/assets/:p' },
  { method: 'DELETE', path: '/api/:p' },
];

const NASTY = [
  '1; drop table scenes; --',
  "' or '1'='1",
  '1) or (1=1',
  '$1',
  '%',
  '_',
  '\\',
  '\u0000',
  '../../etc/passwd',
  '99999999999999999999999',
  '-1',
  '0',
  '1e309',
  'NaN',
  'Infinity',
  '9007199254740993',
  '2147483648',
  '__proto__',
  'constructor',
  'title desc; select pg_sleep(5)',
  '2025-02-30',
  '2025-01-31T25:00:00Z',
  '0000-01-01',
  '* * * * * *',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✨ 🙃',
  'ｓｃｅｎｅ',
  'x'.repeat(5000),
] as const;

const hostileString = fc.oneof(fc.constantFrom(...NASTY), fc.string(), fc.string({ unit: 'grapheme', maxLength: 20 }));
const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, 2 ** 63, -0, 2147483648, -2147483649, 0.5),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.boolean(),
  fc.constant(null),
  fc.jsonValue({ maxDepth: 2 }),
  fc.array(fc.oneof(hostileString, hostileNumber), { maxLength: 5 }),
);
const modifier = fc.oneof(
  fc.constantFrom('INCLUDES', 'INCLUDES_ALL', 'EXCLUDES', 'IS_NULL', 'NOT_NULL', 'EQUALS', 'BETWEEN', 'NOT_BETWEEN'),
  fc.constantFrom('GREATER_THAN', 'LESS_THAN', 'NOT_EQUALS'),
  hostileString,
);
const idList = fc.array(fc.oneof(fc.integer({ min: 0, max: 40 }).map(String), hostileString, hostileNumber), {
  maxLength: 4,
});
const criterion = fc.record(
  {
    value: fc.oneof(idList, hostileValue, fc.integer({ min: -5, max: 120 })),
    value2: fc.oneof(hostileValue, fc.integer({ min: -5, max: 120 })),
    modifier,
    depth: fc.oneof(fc.integer({ min: -3, max: 5 }), hostileValue),
    excludes: fc.oneof(idList, hostileValue),
  },
  { requiredKeys: ['modifier'] },
);
const criteriaNames = fc.constantFrom(
  'performers',
  'tags',
  'studios',
  'galleries',
  'groups',
  'parents',
  'children',
  'rating100',
  'date',
  'organized',
  'updated_at',
  'created_at',
  'id',
  'scene_count',
  'nonsense',
  '__proto__',
);
const libraryBody = fc
  .record(
    {
      filter: fc.oneof(
        fc.record(
          {
            page: fc.oneof(fc.integer({ min: -2, max: 5 }), hostileValue),
            per_page: fc.oneof(fc.integer({ min: -2, max: 1002 }), hostileValue),
            sort: fc.oneof(fc.constantFrom('title', 'name', 'date', 'rating', 'id', 'updated_at'), hostileString),
            direction: fc.oneof(fc.constantFrom('ASC', 'DESC', 'desc'), hostileString),
            q: hostileString,
          },
          { requiredKeys: [] },
        ),
        hostileValue,
      ),
      criteria: fc.dictionary(criteriaNames, fc.oneof(criterion, hostileValue), { maxKeys: 3 }),
      key: fc.constantFrom('scene_filter', 'image_filter', 'gallery_filter', 'performer_filter', 'studio_filter'),
    },
    { requiredKeys: [] },
  )
  .map(({ filter, criteria, key }) => ({
    ...(filter === undefined ? {} : { filter }),
    ...(key ? { [key]: criteria ?? {} } : {}),
  }));
const syncBody = fc.oneof(
  fc.record({ since: hostileValue, entityTypes: hostileValue }, { requiredKeys: [] }),
  fc.record({ intervalSeconds: hostileValue, cron: hostileValue, paused: hostileValue }, { requiredKeys: [] }),
);

const FILTER_KEYS: Record<string, string> = {
  scenes: 'scene_filter',
  images: 'image_filter',
  galleries: 'gallery_filter',
  performers: 'performer_filter',
  studios: 'studio_filter',
  tags: 'tag_filter',
  groups: 'group_filter',
};

function aim(input: { route: { path: string }; body?: unknown; aimed: boolean }): unknown {
  const type = /^\/api\/library\/(\w+)$/.exec(input.route.path)?.[1];
  const key = type ? FILTER_KEYS[type] : undefined;
  if (!input.aimed || !key || !input.body || typeof input.body !== 'object' || Array.isArray(input.body)) {
    return input.body;
  }
  return Object.fromEntries(
    Object.entries(input.body).map(([name, value]) => [name.endsWith('_filter') ? key : name, value]),
  );
}

function deep(levels: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = { filter: value };
  return value;
}

// Bodies of the user routes: users, restrictions, hidden entities, watch events.
const userId = fc.oneof(fc.integer({ min: 0, max: 40 }).map(String), fc.integer({ min: 0, max: 40 }), hostileValue);
const restrictionBody = fc.oneof(
  fc.record(
    { mode: fc.oneof(fc.constantFrom('EXCLUDE', 'INCLUDE'), hostileString), ids: fc.oneof(idList, hostileValue) },
    { requiredKeys: [] },
  ),
  hostileValue,
);
const userBody = fc.oneof(
  fc.record(
    {
      name: fc.oneof(fc.constantFrom('prop user', 'prop other'), hostileString),
      role: fc.oneof(fc.constantFrom('admin', 'user'), hostileString),
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.constantFrom('tags', 'studios', 'groups', 'galleries', 'performers'), restrictionBody, {
    maxKeys: 3,
  }),
  fc.record(
    { entityType: fc.oneof(fc.constantFrom('scene', 'tag', 'performer', 'studio'), hostileString), id: userId },
    { requiredKeys: [] },
  ),
  fc.record(
    {
      sceneId: userId,
      event: fc.oneof(fc.constantFrom('play', 'o'), hostileString),
      at: fc.oneof(fc.constantFrom('2025-01-01T00:00:00Z', '2025-01-01T00:00:00.123456+14:00'), hostileString),
      durationSeconds: fc.oneof(fc.integer({ min: 0, max: 10_000 }), hostileNumber, hostileValue),
    },
    { requiredKeys: [] },
  ),
);

const body = fc.oneof(
  { weight: 4, arbitrary: libraryBody },
  { weight: 2, arbitrary: syncBody },
  { weight: 2, arbitrary: userBody },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.constantFrom(deep(40), [deep(40)], { filter: { q: 'x'.repeat(100_000) } }) },
);

/** X-Mirror-User values fetch can send (header values are printable ASCII). */
const actingUser = fc.oneof(
  fc.constantFrom('1', '2', '3', '999999'),
  hostileString.filter((text) => /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(text)),
);

const request = fc.record({
  route: fc.constantFrom(...ROUTES),
  // Existing users and entity types now and then, so the user routes get past their 404s.
  segments: fc.array(fc.oneof({ weight: 3, arbitrary: hostileString }, fc.constantFrom('1', '2', 'scene', 'tag')), {
    minLength: 2,
    maxLength: 2,
  }),
  user: fc.option(actingUser, { nil: undefined }),
  query: fc.dictionary(
    fc.oneof(fc.constantFrom('page', 'per_page', 'status', 'type', 'limit', 'sort'), hostileString),
    fc.oneof(hostileString, fc.integer().map(String)),
    { maxKeys: 3 },
  ),
  body: fc.option(body, { nil: undefined }),
  encoding: fc.constantFrom('json', 'json', 'json', 'text', 'none', 'broken'),
  token: fc.constantFrom(TOKEN, TOKEN, TOKEN, TOKEN, 'wrong', null),
  /** Re-key a library body's `<type>_filter` to the route's type, so criteria reach SQL more often. */
  aimed: fc.boolean(),
});

type Request = typeof request extends fc.Arbitrary<infer T> ? T : never;

// Valid bodies with extreme values: they pass validation and reach SQL, where a value out of a
// column's range, an odd date or a deep hierarchy would show up as a 5xx.
const anyDate = fc.date({
  min: new Date('0001-01-01T00:00:00Z'),
  max: new Date('9999-12-31T23:59:59Z'),
  noInvalidDate: true,
});
const ids = fc.array(
  fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0, 999_999_999_999_999)).map((id) => String(id)),
  { maxLength: 4 },
);
const valueModifier = fc.constantFrom(
  'EQUALS',
  'NOT_EQUALS',
  'GREATER_THAN',
  'LESS_THAN',
  'BETWEEN',
  'NOT_BETWEEN',
  'IS_NULL',
  'NOT_NULL',
);

function validCriterion(def: CriterionDef): fc.Arbitrary<unknown> {
  switch (def.kind) {
    case 'boolean':
      return fc.boolean();
    case 'multi':
      return fc.record({
        value: ids,
        modifier: fc.constantFrom('INCLUDES', 'INCLUDES_ALL', 'EXCLUDES', 'IS_NULL', 'NOT_NULL'),
        excludes: ids,
        ...(def.hierarchy ? { depth: fc.integer({ min: -1, max: 1000 }) } : {}),
      });
    case 'int': {
      const int = fc.oneof(fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }), fc.integer({ min: -1, max: 100 }));
      return fc.record({ value: int, value2: int, modifier: valueModifier });
    }
    case 'date': {
      const date = anyDate.map((d) => d.toISOString().slice(0, 10));
      return fc.record({ value: date, value2: date, modifier: valueModifier });
    }
    case 'timestamp': {
      const stamp = fc.tuple(anyDate, fc.constantFrom('iso', 'day', 'minute', 'offset')).map(([d, form]) => {
        const iso = d.toISOString();
        if (form === 'day') return iso.slice(0, 10);
        if (form === 'minute') return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
        if (form === 'offset') return `${iso.slice(0, 19)}+14:00`;
        return iso;
      });
      return fc.record({ value: stamp, value2: stamp, modifier: valueModifier });
    }
  }
}

const validLibraryRequest: fc.Arbitrary<Request> = fc.constantFrom(...LIBRARY_ENTITIES).chain((entity) =>
  fc
    .record({
      filter: fc.record(
        {
          page: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(100_000)),
          // As in Stash: 0 answers only the count, any negative every match (streamed).
          per_page: fc.constantFrom(-1_000_000, -2, -1, 0, 1, 7, 1000),
          sort: fc.constantFrom(...Object.keys(entity.sorts)),
          direction: fc.constantFrom('ASC', 'DESC'),
          q: fc.oneof(
            fc.constantFrom(...NASTY.filter((text) => !text.includes('\u0000'))),
            fc.string({ unit: 'grapheme' }),
          ),
        },
        { requiredKeys: [] },
      ),
      criteria: fc.record(
        Object.fromEntries(Object.entries(entity.criteria).map(([name, def]) => [name, validCriterion(def)])),
        { requiredKeys: [] },
      ),
      // User 2 reads through a view of their own (library/view.ts): its SQL must take every value too.
      user: fc.constantFrom(undefined, '2'),
    })
    .map(({ filter, criteria, user }) => ({
      route: { method: 'POST', path: `/api/library/${entity.path}` },
      segments: ['', ''],
      query: {},
      body: { filter, [entity.filterKey]: criteria } as never,
      user,
      encoding: 'json',
      token: TOKEN,
      aimed: false,
    })),
);

const ERROR_KEYS = new Set(['error', 'field', 'requestId', 'runningRunId', 'status']);

describe('hostile input at every route', () => {
  let stack: TestStack;
  let api: ApiServer;
  let before: Record<string, string>;
  /** How many answers each route gave with each status. */
  const statuses = new Map<string, number>();

  async function send(input: Request): Promise<{ status: number; text: string; type: string }> {
    let index = 0;
    const path = input.route.path.replace(/:p/g, () => encodeURIComponent(input.segments[index++ % 2] ?? ''));
    const query = new URLSearchParams(input.query).toString();
    const headers: Record<string, string> = {};
    if (input.token) headers.authorization = `Bearer ${input.token}`;
    if (input.user !== undefined) headers['x-mirror-user'] = input.user;
    let payload: string | undefined;
    if (input.body !== undefined && input.route.method !== 'GET') {
      payload = JSON.stringify(aim(input));
      if (input.encoding === 'json') headers['content-type'] = 'application/json';
      if (input.encoding === 'text') headers['content-type'] = 'text/plain';
      if (input.encoding === 'broken') {
        headers['content-type'] = 'application/json';
        payload = payload.slice(0, Math.max(1, payload.length - 1));
      }
    }
    const target = `${api.url}${path}${query ? `?${query}` : ''}`;
    const init = { method: input.route.method, headers, body: payload };
    let response: Response;
    try {
      response = await fetch(target, { ...init, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      // When the server answers before reading a large body (401, 404, 413) it closes the
      // keep-alive connection, and the client may already have queued this request on it.
      if (!(error instanceof TypeError && /other side closed|socket/i.test(String(error.cause)))) throw error;
      response = await fetch(target, { ...init, signal: AbortSignal.timeout(30_000) });
    }
    const type = response.headers.get('content-type') ?? '';
    if (type.startsWith('text/event-stream')) {
      // A live stream would never end: its status and first bytes are enough.
      await response.body?.cancel();
      return { status: response.status, text: '', type };
    }
    return { status: response.status, text: await response.text(), type };
  }

  function check(input: Request, answer: { status: number; text: string; type: string }): void {
    const sent = JSON.stringify(input.body ?? null)?.slice(0, 300);
    const label = `${input.route.method} ${input.route.path} ${sent} → ${answer.status} ${answer.text.slice(0, 300)}`;
    if (answer.status >= 500) {
      const failure = api.logs.find((line) => line.includes('request failed'));
      expect.fail(`${label}\n${failure?.slice(0, 2000)}`);
    }
    expect(answer.status, label).toBeLessThan(500);
    if (answer.status >= 400) {
      expect(answer.type, label).toMatch(/^application\/json/);
      const parsed = JSON.parse(answer.text) as Record<string, unknown>;
      expect(typeof parsed.error, label).toBe('string');
      expect(
        Object.keys(parsed).every((key) => ERROR_KEYS.has(key)),
        label,
      ).toBe(true);
      expect(answer.text, label).not.toMatch(/\bat .+\.(ts|js):\d+|syntax error|relation "|postgres:\/\//i);
    }
  }

  /** A library answer is whole JSON, and its list agrees with per_page: none for 0, all `count` for negatives. */
  function checkFound(input: Request, text: string): void {
    const [answer] = Object.values(JSON.parse(text) as Record<string, Record<string, unknown>>);
    const count = answer?.count as number;
    const list = Object.entries(answer ?? {}).find(([name]) => name !== 'count')?.[1] as unknown[];
    const perPage = (input.body as { filter?: { per_page?: unknown } } | undefined)?.filter?.per_page;
    const label = `${input.route.path} ${JSON.stringify(input.body)?.slice(0, 300)}`;
    if (perPage === 0) expect(list, label).toEqual([]);
    if (typeof perPage === 'number' && perPage < 0) expect(list, label).toHaveLength(count);
    expect(list.length, label).toBeLessThanOrEqual(count);
  }

  beforeAll(async () => {
    stack = await createTestStack({ seed: 2, scale: 'tiny' });
    await stack.startWorker({ pageSize: 10 });
    await (await stack.startFull()).result();
    // No worker from here on: a start that slips through validation stays pending in Temporal and
    // cannot touch the mirror, whatever it was.
    await stack.stopWorker();
    api = await startApi(stack, { apiToken: TOKEN });
    // Users 1 (an admin) and 2 (a user), so requests acting as them or naming them get past 404.
    for (const [name, role] of [
      ['prop admin', 'admin'],
      ['prop viewer', 'user'],
    ]) {
      await api.request('POST', '/api/users', { body: { name, role } });
    }
    before = await mirrorFingerprint(stack.db.sql);
  });
  afterAll(async () => {
    try {
      if (stack) {
        const running = stack.client.workflow.list({
          query: `TaskQueue = "${stack.taskQueue}" AND ExecutionStatus = "Running"`,
        });
        for await (const workflow of running) {
          await stack.client.workflow
            .getHandle(workflow.workflowId, workflow.runId)
            .terminate('property test cleanup')
            .catch(() => {});
        }
      }
    } finally {
      await api?.close();
      await stack?.close();
    }
  });

  it('never answers 5xx, never leaks internals, and leaves the mirror unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(request, validLibraryRequest), async (input) => {
        const answer = await send(input);
        const key = `${input.route.method} ${input.route.path} ${answer.status}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
        check(input, answer);
        if (answer.status === 200 && input.encoding === 'json' && /^\/api\/library\/\w+$/.test(input.route.path)) {
          checkFound(input, answer.text);
        }
      }),
      { numRuns: 400 },
    );
    expect(await mirrorFingerprint(stack.db.sql)).toEqual(before);
    // The valid bodies did reach SQL (not everything was refused at the door).
    expect([...statuses.keys()].filter((key) => /^POST \/api\/library\/\w+ 200$/.test(key)).length).toBeGreaterThan(3);
  }, 300_000);

  it('survives deeply nested JSON at every route that takes a body', async () => {
    const bodies = [
      `${'{"filter":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      `{"scene_filter":{"tags":{"value":${'['.repeat(50_000)}${']'.repeat(50_000)},"modifier":"INCLUDES"}}}`,
    ];
    for (const route of ROUTES.filter((candidate) => candidate.method !== 'GET')) {
      const path = route.path.replace(/:p/g, '1');
      for (const raw of bodies) {
        const response = await fetch(`${api.url}${path}`, {
          method: route.method,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', connection: 'close' },
          body: raw,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await response.text();
        expect(response.status, `${route.method} ${path} → ${text.slice(0, 200)}`).toBeLessThan(500);
      }
    }
    expect(await mirrorFingerprint(stack.db.sql)).toEqual(before);
  }, 300_000);

  it('survives hand-picked hostile values in every library field', async () => {
    for (const type of LIBRARY) {
      for (const value of [...NASTY, 1e308, -1, 2 ** 63, null, [], {}, [[[]]], { $gt: 1 }]) {
        const bodies = [
          { filter: { q: value } },
          { filter: { sort: value } },
          { filter: { page: value, per_page: value } },
          {
            [`${type.replace(/s$/, '').replace(/ie$/, 'y')}_filter`]: {
              tags: { value: [value], modifier: 'INCLUDES' },
            },
          },
          { [`${type.replace(/s$/, '').replace(/ie$/, 'y')}_filter`]: { updated_at: { value, modifier: 'EQUALS' } } },
        ];
        for (const payload of bodies) {
          const input: Request = {
            route: { method: 'POST', path: `/api/library/${type}` },
            segments: ['', ''],
            query: {},
            body: payload as never,
            user: undefined,
            encoding: 'json',
            token: TOKEN,
            aimed: false,
          };
          check(input, await send(input));
        }
      }
    }
    expect(await mirrorFingerprint(stack.db.sql)).toEqual(before);
  }, 300_000);
});
