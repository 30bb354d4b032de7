import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoalescerStatus } from '../../api/hooks/coalescer.js';
import { HOOK_TRIGGER } from '../../api/hooks/temporal-starter.js';
import { entityWorkflowId } from '../../temporal/run-identity.js';
import { diffMirror } from '../support/compare.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { type ApiServer, startApi, waitFor } from './support.js';

interface Accepted {
  trigger: string;
  action: 'entity-sync' | 'smart-sync' | 'ignored';
  entity: { entityType: string; id: string } | null;
  detail: string;
  queue: CoalescerStatus;
}

interface HookRun {
  id: string;
  workflow_id: string;
  sync_type: string;
  status: string;
}

const TOKEN = 'hook-test-token';
const BURST = 5000;
const PLUGIN_SCRIPT = fileURLToPath(new URL('../../contrib/stash-plugin/stash_mirror_hook.py', import.meta.url));

function findPython(): string | null {
  for (const candidate of ['python3', 'python']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {}
  }
  return null;
}

/** Runs the plugin script as Stash would: the plugin input on stdin, the plugin output on stdout. */
function runPlugin(python: string, input: unknown): Promise<{ output: string | null; error?: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      python,
      [PLUGIN_SCRIPT],
      { timeout: 20_000, env: { ...process.env, STASH_MIRROR_URL: '', STASH_MIRROR_API_TOKEN: '' } },
      (error, stdout) => {
        if (error) reject(error);
        else resolve(JSON.parse(stdout));
      },
    );
    child.stdin?.end(JSON.stringify(input));
  });
}

describe('Stash hooks over HTTP', () => {
  let stack: TestStack;
  let api: ApiServer;
  /** Hook-started runs already counted by earlier tests. */
  const seen = new Set<string>();

  async function post(body: unknown) {
    return api.request<Accepted>('POST', '/api/hooks/stash', { body });
  }

  /**
   * Waits until the coalescer holds nothing and every sync it started has recorded its start and
   * its end in sync_runs; returns the runs hooks started since the last call.
   */
  async function settledRuns(timeoutMs = 300_000): Promise<HookRun[]> {
    return waitFor(async () => {
      const queue = (await api.request<CoalescerStatus>('GET', '/api/hooks/stash')).body;
      const quiet = !queue.window.open && queue.startingEntitySyncs === 0 && queue.smartSync.state === 'idle';
      if (!quiet) return undefined;
      const rows = await stack.db.sql<HookRun[]>`
        select id, workflow_id, sync_type, status from sync_runs where trigger = ${HOOK_TRIGGER} order by started_at`;
      const started = queue.totals.entitySyncsStarted + queue.totals.smartSyncsStarted;
      if (rows.length < started || rows.some((row) => row.status === 'running')) return undefined;
      const fresh = rows.filter((row) => !seen.has(row.id));
      for (const row of fresh) seen.add(row.id);
      return fresh;
    }, timeoutMs);
  }

  beforeAll(async () => {
    stack = await createTestStack({ seed: 12, scale: 'tiny', counts: { scenes: BURST + 200 } });
    await stack.startWorker({ pageSize: 500 });
    api = await startApi(stack, { apiToken: TOKEN });
    await (await stack.startFull()).result();
  }, 300_000);
  afterAll(async () => {
    await api?.close();
    await stack?.close();
  });

  it('refuses bad bodies with 400 naming the field, and a missing token with 401', async () => {
    const unauthorized = await api.request('POST', '/api/hooks/stash', {
      body: { type: 'Scene.Update.Post', id: '1' },
      token: null,
    });
    expect(unauthorized.status).toBe(401);
    expect((await api.request('GET', '/api/hooks/stash', { token: 'wrong' })).status).toBe(401);

    const cases: Array<[unknown, string]> = [
      [{}, 'type'],
      [{ id: '1' }, 'type'],
      [{ type: 'Scene.Update.Post' }, 'id'],
      [{ type: 'Scene.Update.Post', id: 'abc' }, 'id'],
      [{ type: 'Scene.Update.Post', id: -4 }, 'id'],
      [{ type: 'Scene.Update.Post', id: 1.5 }, 'id'],
      [{ type: 'Scene.Updated', id: '1' }, 'type'],
      [{ type: 'scene', id: '1' }, 'type'],
      [{ type: 'Scene.Update.Post', id: '1', extra: true }, 'extra'],
      [{ hookContext: { type: 'Scene.Update.Post' } }, 'hookContext.id'],
      [{ hookContext: { type: 'Scene.Update.Post', id: 1 }, type: 'Scene.Update.Post' }, 'type'],
      [{ args: { hookContext: { id: 1 } } }, 'args.hookContext.type'],
      // The whole plugin input: Stash's session cookie must not travel, so it is refused.
      [
        {
          server_connection: { SessionCookie: { Value: 'secret' } },
          args: { hookContext: { type: 'Scene.Update.Post', id: 1 } },
        },
        'server_connection',
      ],
      [[], 'body'],
    ];
    for (const [body, field] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body, JSON.stringify(body)).toEqual({ error: expect.stringContaining(field), field });
    }
    const malformed = await api.request('POST', '/api/hooks/stash', {
      rawBody: '{"type": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ field: 'body' });

    // A trigger the mirror does not keep is accepted and ignored (a plugin never retries it).
    const marker = await post({ type: 'SceneMarker.Update.Post', id: 3 });
    expect(marker.status).toBe(202);
    expect(marker.body).toMatchObject({ action: 'ignored', entity: null });
    expect(marker.body.queue.totals).toMatchObject({ ignored: 1 });
    expect((await api.request<CoalescerStatus>('GET', '/api/hooks/stash')).body.window.open).toBe(false);
  });

  it('re-reads exactly the entities a handful of hooks name, each in its own single-entity sync', async () => {
    const [first, second, third] = [...stack.simulator.library.scenes.keys()] as number[];
    const performer = [...stack.simulator.library.performers.keys()][0] as number;
    for (const id of [first, second, third] as number[]) {
      stack.simulator.control.update('scene', id, { title: `hooked scene ${id}` });
    }
    stack.simulator.control.update('performer', performer, { name: 'Hooked Performer' });

    // The shapes a plugin may forward: {type, id}, Stash's hookContext, and both wrapped.
    const accepted = await post({ type: 'Scene.Update.Post', id: String(first) });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toMatchObject({
      trigger: 'Scene.Update.Post',
      action: 'entity-sync',
      entity: { entityType: 'scene', id: String(first) },
      queue: { window: { open: true, pendingEntities: 1, smartSync: false } },
    });
    expect(accepted.body.detail).toContain(`scene ${first}`);
    expect((await post({ type: 'Scene.Update.Post', id: first, inputFields: ['title', 'id'] })).status).toBe(202);
    const raw = {
      type: 'Scene.Update.Post',
      id: second,
      input: { id: String(second), title: 'x' },
      inputFields: ['title'],
    };
    expect((await post(raw)).status).toBe(202);
    expect((await post({ hookContext: { type: 'Scene.Update.Post', id: third } })).status).toBe(202);
    const last = await post({ args: { hookContext: { type: 'Performer.Update.Post', id: performer } } });
    expect(last.body.queue.window).toMatchObject({ hooks: 5, pendingEntities: 4 });

    const runs = await settledRuns();
    expect(runs.map((run) => run.sync_type)).toEqual(['specific', 'specific', 'specific', 'specific']);
    expect(runs.map((run) => run.workflow_id).sort()).toEqual(
      [
        entityWorkflowId(stack.workflowId, 'scene', first as number),
        entityWorkflowId(stack.workflowId, 'scene', second as number),
        entityWorkflowId(stack.workflowId, 'scene', third as number),
        entityWorkflowId(stack.workflowId, 'performer', performer),
      ].sort(),
    );
    expect(runs.every((run) => run.status === 'completed')).toBe(true);
    const titles = await stack.db
      .sql`select id, title from scenes where id in ${stack.db.sql([first, second, third] as number[])}`;
    expect(titles.every((row) => row.title === `hooked scene ${row.id}`)).toBe(true);
    const [person] = await stack.db.sql`select name from performers where id = ${performer}`;
    expect(person?.name).toBe('Hooked Performer');
  });

  it('answers a destroy with one smart sync, which finds the deletion', async () => {
    const ids = [...stack.simulator.library.scenes.keys()] as number[];
    const gone = ids[ids.length - 1] as number;
    stack.simulator.control.remove('scene', gone);
    const response = await post({ type: 'Scene.Destroy.Post', id: gone });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ action: 'smart-sync', entity: null });
    expect(response.body.queue.window).toMatchObject({ smartSync: true, pendingEntities: 0 });

    const runs = await settledRuns();
    expect(runs).toEqual([expect.objectContaining({ sync_type: 'smart', status: 'completed' })]);
    expect(runs[0]?.workflow_id).toBe(stack.workflowId);
    const [row] = await stack.db.sql`select deleted_at is not null as deleted from scenes where id = ${gone}`;
    expect(row?.deleted).toBe(true);
  });

  it('forwards a hook through the plugin script in contrib/stash-plugin, with the settings Stash keeps', async () => {
    const python = findPython();
    // Stash's own image ships Python for plugins, and so does Debian: a missing one is a broken machine.
    if (!python) throw new Error('no python3 or python on PATH: the plugin script cannot be tested');
    const tag = [...stack.simulator.library.tags.keys()][0] as number;
    stack.simulator.control.update('tag', tag, { name: 'Hooked Tag' });
    // Stash's GraphQL as the plugin sees it: its settings, behind the session cookie Stash hands it.
    let settings = { mirrorUrl: api.url, apiToken: TOKEN };
    const cookies: Array<string | undefined> = [];
    const fakeStash = createServer((request, response) => {
      cookies.push(request.headers.cookie);
      request.resume().on('end', () => {
        const plugins = {
          'other-plugin': { mirrorUrl: 'http://wrong' },
          'stash-mirror': settings,
        };
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ data: { configuration: { plugins } } }));
      });
    });
    await new Promise<void>((resolve) => fakeStash.listen(0, '127.0.0.1', resolve));
    try {
      const input = {
        server_connection: {
          Scheme: 'http',
          Host: '0.0.0.0',
          Port: (fakeStash.address() as AddressInfo).port,
          SessionCookie: { Name: 'session', Value: 'plugin-cookie', Path: '', Domain: '', MaxAge: 0 },
          Dir: '/root/.stash',
          PluginDir: '/root/.stash/plugins/stash-mirror',
        },
        args: {
          hookContext: {
            id: tag,
            type: 'Tag.Update.Post',
            input: { id: String(tag), name: 'Hooked Tag' },
            inputFields: ['name', 'id'],
          },
        },
      };
      expect(await runPlugin(python, input)).toEqual({ output: `stash-mirror: Tag.Update.Post ${tag} -> entity-sync` });
      expect(cookies).toEqual(['session=plugin-cookie']);
      const runs = await settledRuns();
      expect(runs.map((run) => run.workflow_id)).toEqual([entityWorkflowId(stack.workflowId, 'tag', tag)]);
      const [row] = await stack.db.sql`select name from tags where id = ${tag}`;
      expect(row?.name).toBe('Hooked Tag');

      settings = { mirrorUrl: api.url, apiToken: 'not-the-token' };
      const refused = await runPlugin(python, input);
      expect(refused.error).toContain('the mirror refused the API token');

      // A mirror that cannot be reached costs Stash one timeout, then a minute of skipped hooks.
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const closedPort = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      settings = { mirrorUrl: `http://127.0.0.1:${closedPort}`, apiToken: TOKEN };
      expect((await runPlugin(python, input)).error).toContain('mirror unreachable');
      expect((await runPlugin(python, input)).output).toContain('skipped, the mirror was unreachable');
      // Started by hand (a task, not a hook): nothing to forward, no error.
      expect(await runPlugin(python, { server_connection: input.server_connection, args: {} })).toEqual({
        output: 'stash-mirror: nothing to forward (not started by a hook)',
      });
    } finally {
      await new Promise((resolve) => fakeStash.close(resolve));
    }
  });

  it(`collapses ${BURST} scene-update hooks posted in a burst into a handful of workflows`, async () => {
    const ids = ([...stack.simulator.library.scenes.keys()] as number[]).slice(0, BURST);
    expect(ids).toHaveLength(BURST);
    for (const id of ids) stack.simulator.control.update('scene', id, { title: `bulk edit ${id}` });
    const windowsBefore = (await api.request<CoalescerStatus>('GET', '/api/hooks/stash')).body.totals.windows;
    const startedAt = new Date();
    const t0 = performance.now();

    // Posted as a plugin under a bulk edit would: one hook per scene, many in flight at once.
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < ids.length) {
          const id = ids[next++] as number;
          statuses.push((await post({ type: 'Scene.Update.Post', id })).status);
        }
      }),
    );
    const burstMs = performance.now() - t0;
    expect(statuses.filter((status) => status === 202)).toHaveLength(BURST);

    const runs = await settledRuns();
    const settledMs = performance.now() - t0;
    const differences = await diffMirror(stack.db.sql, stack.simulator, stack.stashUrl);
    expect(differences).toEqual([]);

    // The same count from Temporal's side: every workflow of this stack started since the burst.
    const workflows: string[] = [];
    for await (const execution of stack.client.workflow.list({ query: `StartTime >= '${startedAt.toISOString()}'` })) {
      if (execution.workflowId.startsWith(stack.workflowId)) workflows.push(execution.workflowId);
    }
    const queue = (await api.request<CoalescerStatus>('GET', '/api/hooks/stash')).body;
    console.log(
      `${BURST} hooks: posted in ${Math.round(burstMs)} ms; ${runs.length} workflow(s) ` +
        `(${runs.map((run) => run.sync_type).join(', ')}); mirror equal to the simulator ` +
        `${Math.round(settledMs)} ms after the first hook; ${queue.totals.windows - windowsBefore} window(s)`,
    );
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(3);
    expect(runs.every((run) => run.sync_type === 'smart' && run.status === 'completed')).toBe(true);
    expect(workflows).toHaveLength(runs.length);
  });
});
