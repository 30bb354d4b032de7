import { z } from 'zod';
import { ENTITY_TYPES } from '../stash/entity-types.js';
import type { SimClock } from './clock.js';
import type { Corruptions } from './corruptions.js';
import { libraryCounts } from './describe.js';
import type { AnyEntity, EntityOf, EntityPatch, EntityType } from './entities.js';
import type { FaultOptions, Faults } from './faults.js';
import type { Hooks } from './hooks.js';
import type { LibraryCounts } from './scales.js';
import type { RequestStats, StatsRecorder } from './stats.js';
import type { SceneMergeOptions, Store } from './store.js';

type Id = number | string;

export interface AfterRequestsOptions {
  /** Root field to count, e.g. 'findScenes'; omitted = any /graphql request. */
  field?: string;
  n: number;
  /** Default true; false fires after every n-th matching request. */
  once?: boolean;
  run: (control: SimulatorControl) => void;
}

/** In-process handle on the simulated Stash; each method is also a `POST /__control` action. */
export interface SimulatorControl {
  update<T extends EntityType>(type: T, id: Id, patch: EntityPatch<T>): EntityOf<T>;
  create<T extends EntityType>(type: T, fields?: EntityPatch<T>): number;
  remove(type: EntityType, id: Id): void;
  mergeTags(sourceIds: readonly Id[], destinationId: Id): void;
  mergeScenes(sourceIds: readonly Id[], destinationId: Id, options?: SceneMergeOptions): void;
  /** addGalleryImages: bumps only the gallery (the images' galleries lists change silently). */
  addGalleryImages(galleryId: Id, imageIds: readonly Id[]): void;
  /** removeGalleryImages: bumps only the gallery. */
  removeGalleryImages(galleryId: Id, imageIds: readonly Id[]): void;
  touch(type: EntityType, ids: readonly Id[] | 'all'): number;
  /** A copy of one entity as stored (undefined when absent). */
  get<T extends EntityType>(type: T, id: Id): EntityOf<T> | undefined;
  counts(): LibraryCounts;

  setClock(date: Date | string | number): void;
  advanceClock(seconds: number): void;
  freezeClock(frozen?: boolean): void;
  now(): Date;
  /** The updated_at string a write would store right now. */
  stamp(): string;
  setUtcOffset(minutes: number): void;
  setTimeZone(zone: string | null): void;

  setFaults(faults: FaultOptions): void;
  clearFaults(): void;
  corrupt(type: EntityType, id: Id, patch: Record<string, unknown>): void;
  clearCorruptions(): void;
  afterRequests(hook: AfterRequestsOptions): void;
  clearHooks(): void;
  /** Messages of hooks that threw (a hook failure never fails the request it rides on). */
  hookErrors(): string[];

  stats(): RequestStats;
  resetStats(): void;
  /** Clears faults, corruptions, hooks and stats; the data stays. */
  reset(): void;
}

export interface ControlParts {
  store: Store;
  clock: SimClock;
  faults: Faults;
  corruptions: Corruptions;
  hooks: Hooks<SimulatorControl>;
  stats: StatsRecorder;
}

export function createControl(parts: ControlParts): SimulatorControl {
  const { store, clock, faults, corruptions, hooks, stats } = parts;
  const control: SimulatorControl = {
    update: (type, id, patch) => store.update(type, id, patch),
    create: (type, fields) => store.create(type, fields ?? {}).id,
    remove: (type, id) => store.remove(type, id),
    mergeTags: (sources, destination) => {
      store.mergeTags(sources, destination);
    },
    mergeScenes: (sources, destination, options) => {
      store.mergeScenes(sources, destination, options);
    },
    addGalleryImages: (galleryId, imageIds) => {
      store.changeGalleryImages(galleryId, imageIds, true);
    },
    removeGalleryImages: (galleryId, imageIds) => {
      store.changeGalleryImages(galleryId, imageIds, false);
    },
    touch: (type, ids) => store.touch(type, ids),
    get: (type, id) => {
      const entity = store.get(type, Number(id));
      return entity ? (structuredClone(entity) as typeof entity) : undefined;
    },
    counts: () => libraryCounts(store.library),
    setClock: (date) => clock.set(date),
    advanceClock: (seconds) => clock.advance(seconds),
    freezeClock: (frozen = true) => clock.freeze(frozen),
    now: () => clock.now(),
    stamp: () => clock.stamp(),
    setUtcOffset: (minutes) => clock.setUtcOffset(minutes),
    setTimeZone: (zone) => clock.setTimeZone(zone),
    setFaults: (options) => faults.set(options),
    clearFaults: () => faults.clear(),
    corrupt: (type, id, patch) => {
      store.require(type, id);
      corruptions.set(type, Number(id), patch);
    },
    clearCorruptions: () => corruptions.clear(),
    afterRequests: (hook) => hooks.add(hook),
    clearHooks: () => hooks.clear(),
    hookErrors: () => [...hooks.errors],
    stats: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    reset: () => {
      faults.clear();
      corruptions.clear();
      hooks.clear();
      hooks.errors.length = 0;
      stats.reset();
    },
  };
  return control;
}

// ---- HTTP form -------------------------------------------------------------------------------

const entityType = z.enum(ENTITY_TYPES);
const id = z.union([z.number().int(), z.string()]);
const record = z.record(z.string(), z.unknown());

const simpleActions = z.discriminatedUnion('action', [
  z.object({ action: z.literal('update'), type: entityType, id, patch: record }),
  z.object({ action: z.literal('create'), type: entityType, fields: record.optional() }),
  z.object({ action: z.literal('remove'), type: entityType, id }),
  z.object({ action: z.literal('mergeTags'), sourceIds: z.array(id), destinationId: id }),
  z.object({
    action: z.literal('mergeScenes'),
    sourceIds: z.array(id),
    destinationId: id,
    playHistory: z.boolean().optional(),
    oHistory: z.boolean().optional(),
  }),
  z.object({ action: z.literal('addGalleryImages'), galleryId: id, imageIds: z.array(id) }),
  z.object({ action: z.literal('removeGalleryImages'), galleryId: id, imageIds: z.array(id) }),
  z.object({ action: z.literal('touch'), type: entityType, ids: z.union([z.array(id), z.literal('all')]) }),
  z.object({ action: z.literal('get'), type: entityType, id }),
  z.object({ action: z.literal('counts') }),
  z.object({ action: z.literal('setClock'), date: z.union([z.string(), z.number()]) }),
  z.object({ action: z.literal('advanceClock'), seconds: z.number() }),
  z.object({ action: z.literal('freezeClock'), frozen: z.boolean().optional() }),
  z.object({ action: z.literal('now') }),
  z.object({ action: z.literal('setUtcOffset'), minutes: z.number().int() }),
  z.object({ action: z.literal('setTimeZone'), zone: z.string().nullable() }),
  z.object({
    action: z.literal('setFaults'),
    errorRate: z.number().optional(),
    latencyMs: z.number().optional(),
    dropRate: z.number().optional(),
    truncateRate: z.number().optional(),
    seed: z.number().int().optional(),
  }),
  z.object({ action: z.literal('clearFaults') }),
  z.object({ action: z.literal('corrupt'), type: entityType, id, patch: record }),
  z.object({ action: z.literal('clearCorruptions') }),
  z.object({ action: z.literal('clearHooks') }),
  z.object({ action: z.literal('hookErrors') }),
  z.object({ action: z.literal('stats') }),
  z.object({ action: z.literal('resetStats') }),
  z.object({ action: z.literal('reset') }),
]);

type SimpleAction = z.infer<typeof simpleActions>;

const afterRequestsAction = z.object({
  action: z.literal('afterRequests'),
  field: z.string().optional(),
  n: z.number().int().min(1),
  once: z.boolean().optional(),
  /** One action, or a list run in order, performed when the hook fires. */
  // biome-ignore lint/suspicious/noThenProperty: `then` is the documented field name of the HTTP hook form.
  then: z.union([z.array(record), record]),
});

/**
 * Runs one JSON control action. `afterRequests` carries its follow-up action(s) under `then`;
 * they are validated now, so a typo fails the setup call rather than the hook.
 */
export function runControlAction(control: SimulatorControl, body: unknown): unknown {
  const parsedHook = afterRequestsAction.safeParse(body);
  if (parsedHook.success) {
    const { field, n, once, then } = parsedHook.data;
    const steps = (Array.isArray(then) ? then : [then]).map(parseSimple);
    control.afterRequests({
      ...(field === undefined ? {} : { field }),
      n,
      ...(once === undefined ? {} : { once }),
      run: (c) => {
        for (const step of steps) runSimple(c, step);
      },
    });
    return { ok: true };
  }
  return runSimple(control, parseSimple(body));
}

function parseSimple(body: unknown): SimpleAction {
  const parsed = simpleActions.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
    throw new ControlError(`invalid control action: ${issues}`);
  }
  return parsed.data;
}

export class ControlError extends Error {}

function runSimple(control: SimulatorControl, action: SimpleAction): unknown {
  switch (action.action) {
    case 'update':
      control.update(action.type, action.id, action.patch as EntityPatch<EntityType>);
      return { ok: true, entity: control.get(action.type, action.id) };
    case 'create':
      return { ok: true, id: control.create(action.type, (action.fields ?? {}) as EntityPatch<EntityType>) };
    case 'remove':
      control.remove(action.type, action.id);
      return { ok: true };
    case 'mergeTags':
      control.mergeTags(action.sourceIds, action.destinationId);
      return { ok: true };
    case 'mergeScenes':
      control.mergeScenes(action.sourceIds, action.destinationId, {
        ...(action.playHistory === undefined ? {} : { playHistory: action.playHistory }),
        ...(action.oHistory === undefined ? {} : { oHistory: action.oHistory }),
      });
      return { ok: true };
    case 'addGalleryImages':
      control.addGalleryImages(action.galleryId, action.imageIds);
      return { ok: true };
    case 'removeGalleryImages':
      control.removeGalleryImages(action.galleryId, action.imageIds);
      return { ok: true };
    case 'touch':
      return { ok: true, touched: control.touch(action.type, action.ids) };
    case 'get':
      return { ok: true, entity: (control.get(action.type, action.id) as AnyEntity | undefined) ?? null };
    case 'counts':
      return { ok: true, counts: control.counts() };
    case 'setClock':
      control.setClock(action.date);
      return { ok: true, now: control.now().toISOString(), stamp: control.stamp() };
    case 'advanceClock':
      control.advanceClock(action.seconds);
      return { ok: true, now: control.now().toISOString(), stamp: control.stamp() };
    case 'freezeClock':
      control.freezeClock(action.frozen ?? true);
      return { ok: true, now: control.now().toISOString(), stamp: control.stamp() };
    case 'now':
      return { ok: true, now: control.now().toISOString(), stamp: control.stamp() };
    case 'setUtcOffset':
      control.setUtcOffset(action.minutes);
      return { ok: true, stamp: control.stamp() };
    case 'setTimeZone':
      control.setTimeZone(action.zone);
      return { ok: true, stamp: control.stamp() };
    case 'setFaults': {
      const { action: _name, ...options } = action;
      control.setFaults(options);
      return { ok: true };
    }
    case 'clearFaults':
      control.clearFaults();
      return { ok: true };
    case 'corrupt':
      control.corrupt(action.type, action.id, action.patch);
      return { ok: true };
    case 'clearCorruptions':
      control.clearCorruptions();
      return { ok: true };
    case 'clearHooks':
      control.clearHooks();
      return { ok: true };
    case 'hookErrors':
      return { ok: true, errors: control.hookErrors() };
    case 'stats':
      return { ok: true, stats: control.stats() };
    case 'resetStats':
      control.resetStats();
      return { ok: true };
    case 'reset':
      control.reset();
      return { ok: true };
  }
}
