import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HookCoalescer, type HookSyncStarter, type SmartStart } from '../../api/hooks/coalescer.js';
import { hookAction } from '../../api/hooks/triggers.js';
import type { EntityType } from '../../stash/entity-types.js';

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** A starter that records what it was asked to start; smart runs end when the test says so. */
class FakeStarter implements HookSyncStarter {
  readonly entities: string[] = [];
  readonly smartStarts: Array<SmartStart['outcome']> = [];
  /** Runs started (ours) or waited for (busy), in order; resolve one to end it. */
  readonly runs: Deferred[] = [];
  entityOutcome: (type: EntityType, id: number) => 'started' | 'busy' | Error = () => 'started';
  smartOutcome: () => SmartStart['outcome'] | Error = () => 'started';

  async startEntity(entityType: EntityType, id: number): Promise<'started' | 'busy'> {
    const outcome = this.entityOutcome(entityType, id);
    if (outcome instanceof Error) throw outcome;
    if (outcome === 'started') this.entities.push(`${entityType}:${id}`);
    return outcome;
  }

  async startSmart(): Promise<SmartStart> {
    const outcome = this.smartOutcome();
    if (outcome instanceof Error) throw outcome;
    this.smartStarts.push(outcome);
    const run = deferred();
    this.runs.push(run);
    return { outcome, runId: `run-${this.runs.length}`, finished: run.promise };
  }

  get smartSyncs(): number {
    return this.smartStarts.filter((outcome) => outcome === 'started').length;
  }
}

const options = { windowMs: 1000, maxWaitMs: 5000, entityLimit: 3 };
const scene = (id: number) => ({ kind: 'entity' as const, entityType: 'scene' as const, id });
const smart = { kind: 'smart' as const };

describe('hook coalescer', () => {
  let starter: FakeStarter;
  let coalescer: HookCoalescer;

  beforeEach(() => {
    vi.useFakeTimers();
    starter = new FakeStarter();
    coalescer = new HookCoalescer(starter, options);
  });
  afterEach(() => {
    coalescer.close();
    vi.useRealTimers();
  });

  it('starts a single-entity sync once the window has been quiet for windowMs', async () => {
    coalescer.add(scene(7));
    await vi.advanceTimersByTimeAsync(999);
    expect(starter.entities).toEqual([]);
    expect(coalescer.status().window).toMatchObject({ open: true, hooks: 1, pendingEntities: 1, closesInMs: 1 });
    await vi.advanceTimersByTimeAsync(1);
    expect(starter.entities).toEqual(['scene:7']);
    expect(coalescer.isIdle()).toBe(true);
    expect(coalescer.status().totals).toMatchObject({ hooks: 1, windows: 1, entitySyncsStarted: 1 });
  });

  it('collapses repeats of one entity and syncs up to entityLimit distinct entities each', async () => {
    for (let round = 0; round < 5; round++) {
      coalescer.add(scene(1));
      coalescer.add(scene(2));
      coalescer.add({ kind: 'entity', entityType: 'performer', id: 2 });
    }
    await vi.advanceTimersByTimeAsync(1000);
    expect(starter.entities.sort()).toEqual(['performer:2', 'scene:1', 'scene:2']);
    expect(starter.smartStarts).toEqual([]);
  });

  it('keeps the window open while hooks keep coming, but never past maxWaitMs', async () => {
    for (let second = 0; second < 8; second++) {
      coalescer.add(scene(1));
      await vi.advanceTimersByTimeAsync(900);
      if (second < 5) expect(starter.entities, `after ${second + 1} hooks`).toEqual([]);
    }
    // Opened at 0: closed at 5000 by maxWaitMs; the hooks after it opened a second window.
    expect(starter.entities).toEqual(['scene:1']);
    await vi.advanceTimersByTimeAsync(1000);
    expect(starter.entities).toEqual(['scene:1', 'scene:1']);
  });

  it('turns more than entityLimit distinct entities into one smart sync and no entity syncs', async () => {
    for (let id = 1; id <= 4; id++) coalescer.add(scene(id));
    expect(coalescer.status().window).toMatchObject({ pendingEntities: 0, smartSync: true, hooks: 4 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(starter.entities).toEqual([]);
    expect(starter.smartStarts).toEqual(['started']);
    expect(coalescer.status().smartSync).toMatchObject({ state: 'running', runId: 'run-1', followUp: false });
    starter.runs[0]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(coalescer.isIdle()).toBe(true);
  });

  it('turns a destroy or merge into a smart sync that covers the window’s updates too', async () => {
    coalescer.add(scene(1));
    coalescer.add(smart);
    coalescer.add(scene(2));
    await vi.advanceTimersByTimeAsync(1000);
    expect(starter.entities).toEqual([]);
    expect(starter.smartSyncs).toBe(1);
  });

  it('asks for exactly one more smart sync when hooks arrive while ours runs', async () => {
    coalescer.add(smart);
    await vi.advanceTimersByTimeAsync(1000);
    expect(starter.smartSyncs).toBe(1);
    // Three more windows that each want a smart sync while the first one runs.
    for (let window = 0; window < 3; window++) {
      for (let id = 1; id <= 10; id++) coalescer.add(scene(window * 10 + id));
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(starter.smartSyncs).toBe(1);
    expect(coalescer.status().smartSync.followUp).toBe(true);
    starter.runs[0]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(starter.smartSyncs).toBe(2);
    starter.runs[1]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(starter.smartSyncs).toBe(2);
    expect(coalescer.isIdle()).toBe(true);
  });

  it('waits for another sync holding the lock, then starts its own once', async () => {
    starter.smartOutcome = () => (starter.smartStarts.length === 0 ? 'busy' : 'started');
    coalescer.add(smart);
    await vi.advanceTimersByTimeAsync(1000);
    expect(starter.smartStarts).toEqual(['busy']);
    expect(coalescer.status().smartSync).toMatchObject({ state: 'waiting', runId: 'run-1' });
    // Hooks while waiting are covered by the smart sync still to come: no extra one.
    coalescer.add(smart);
    await vi.advanceTimersByTimeAsync(1000);
    starter.runs[0]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(starter.smartStarts).toEqual(['busy', 'started']);
    starter.runs[1]?.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(starter.smartStarts).toEqual(['busy', 'started']);
    expect(coalescer.isIdle()).toBe(true);
  });

  it('puts an entity whose sync is running back into the next window, then hands it to a smart sync', async () => {
    let refusals = 0;
    starter.entityOutcome = () => (refusals++ < 2 ? 'busy' : 'started');
    coalescer.add(scene(5));
    await vi.advanceTimersByTimeAsync(1000);
    expect(starter.entities).toEqual([]);
    expect(coalescer.status().window.pendingEntities).toBe(1);
    await vi.advanceTimersByTimeAsync(2000);
    expect(starter.entities).toEqual(['scene:5']);

    starter.entityOutcome = () => 'busy';
    coalescer.add(scene(6));
    await vi.advanceTimersByTimeAsync(5000);
    expect(starter.smartSyncs).toBe(1);
    expect(starter.entities).toEqual(['scene:5']);
  });

  it('retries a smart sync Temporal refused with backoff, then gives up to the schedule', async () => {
    starter.smartOutcome = () => new Error('temporal unavailable');
    coalescer.add(smart);
    await vi.advanceTimersByTimeAsync(1000);
    expect(coalescer.status().smartSync.state).toBe('retrying');
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000 + 8000);
    expect(coalescer.status().smartSync.state).toBe('retrying');
    await vi.advanceTimersByTimeAsync(16_000);
    expect(coalescer.status().smartSync.state).toBe('idle');

    starter.smartOutcome = () => 'started';
    coalescer.add(smart);
    await vi.advanceTimersByTimeAsync(1000);
    expect(starter.smartSyncs).toBe(1);
  });

  it('collapses a 5,000-hook burst spread over 15 seconds into two smart syncs', async () => {
    const burst = new HookCoalescer(starter, { windowMs: 1500, maxWaitMs: 10_000, entityLimit: 20 });
    try {
      for (let id = 1; id <= 5000; id++) {
        burst.add(scene(id));
        if (id % 333 === 0) await vi.advanceTimersByTimeAsync(1000); // 333 hooks a second
      }
      await vi.advanceTimersByTimeAsync(1500);
      expect(starter.entities).toEqual([]);
      expect(starter.smartSyncs).toBe(1);
      starter.runs[0]?.resolve();
      await vi.advanceTimersByTimeAsync(0);
      // The burst outlasted the first window (maxWaitMs, 10 s): one follow-up reads the rest.
      expect(starter.smartSyncs).toBe(2);
      starter.runs[1]?.resolve();
      await vi.advanceTimersByTimeAsync(0);
      expect(burst.isIdle()).toBe(true);
      expect(burst.status().totals).toMatchObject({ hooks: 5000, smartSyncsStarted: 2, entitySyncsStarted: 0 });
    } finally {
      burst.close();
    }
  });

  it('forgets everything on close', async () => {
    coalescer.add(scene(1));
    coalescer.close();
    await vi.advanceTimersByTimeAsync(5000);
    expect(starter.entities).toEqual([]);
  });
});

describe('hook triggers', () => {
  it.each([
    ['Scene.Update.Post', { kind: 'entity', entityType: 'scene', id: 9 }],
    ['Scene.Create.Post', { kind: 'entity', entityType: 'scene', id: 9 }],
    ['Image.Update.Post', { kind: 'entity', entityType: 'image', id: 9 }],
    ['Gallery.Update.Post', { kind: 'entity', entityType: 'gallery', id: 9 }],
    ['Performer.Create.Post', { kind: 'entity', entityType: 'performer', id: 9 }],
    ['Studio.Update.Post', { kind: 'entity', entityType: 'studio', id: 9 }],
    ['Tag.Update.Post', { kind: 'entity', entityType: 'tag', id: 9 }],
    ['Group.Update.Post', { kind: 'entity', entityType: 'group', id: 9 }],
    ['Movie.Update.Post', { kind: 'entity', entityType: 'group', id: 9 }],
    ['Scene.Destroy.Post', { kind: 'smart' }],
    ['Tag.Merge.Post', { kind: 'smart' }],
    ['Scene.Merge.Post', { kind: 'smart' }],
    ['Image.Destroy.Post', { kind: 'smart' }],
    ['SceneMarker.Update.Post', { kind: 'ignored' }],
    ['GalleryChapter.Create.Post', { kind: 'ignored' }],
    ['Scene.Rename.Post', { kind: 'ignored' }],
    ['Scene.Update.Pre', { kind: 'ignored' }],
  ])('%s', (trigger, expected) => {
    expect(hookAction(trigger, 9)).toMatchObject(expected);
  });

  it('sends a gallery edit that moved scenes to a smart sync', () => {
    expect(hookAction('Gallery.Update.Post', 4, ['id', 'scene_ids'])).toMatchObject({ kind: 'smart' });
    expect(hookAction('Gallery.Update.Post', 4, ['id', 'title'])).toMatchObject({ kind: 'entity', id: 4 });
  });
});
