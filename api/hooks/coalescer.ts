import type { Logger } from 'pino';
import type { EntityType } from '../../stash/entity-types.js';

/** One hook's request, once mapped (triggers.ts): re-read one entity, or run a smart sync. */
export type SyncRequest = { kind: 'entity'; entityType: EntityType; id: number } | { kind: 'smart' };

export interface HookCoalescerOptions {
  /** Quiet period: a window closes this long after its last hook (HOOK_WINDOW_MS). */
  windowMs: number;
  /** A window that keeps receiving hooks still closes this long after its first (HOOK_MAX_WAIT_MS). */
  maxWaitMs: number;
  /** More distinct entities than this in one window become one smart sync (HOOK_ENTITY_LIMIT). */
  entityLimit: number;
}

export const DEFAULT_HOOK_OPTIONS: HookCoalescerOptions = { windowMs: 1500, maxWaitMs: 10_000, entityLimit: 20 };

/** What starting a smart sync did. */
export interface SmartStart {
  /** `started`: ours runs now. `busy`: another sync holds the one-at-a-time lock. */
  outcome: 'started' | 'busy';
  /** sync_runs.id of that run (ours, or the one holding the lock), when known. */
  runId: string | null;
  /** Settles (either way) once that run has ended. */
  finished: Promise<unknown>;
}

/** How the coalescer starts syncs (Temporal in the API; a fake in unit tests). */
export interface HookSyncStarter {
  /** `busy`: a sync of that same entity is running already. */
  startEntity(entityType: EntityType, id: number): Promise<'started' | 'busy'>;
  startSmart(): Promise<SmartStart>;
}

/**
 * `idle`; `starting` (asking Temporal); `running` (ours); `waiting` (another sync holds the lock:
 * ours starts when it ends); `retrying` (Temporal refused or was unreachable: backing off).
 */
export type SmartState = 'idle' | 'starting' | 'running' | 'waiting' | 'retrying';

export interface CoalescerStatus extends HookCoalescerOptions {
  window: {
    open: boolean;
    /** Hooks received since the window opened. */
    hooks: number;
    /** Distinct entities waiting for a single-entity sync. */
    pendingEntities: number;
    /** The window ends in a smart sync (a destroy or merge, or more than entityLimit entities). */
    smartSync: boolean;
    closesInMs: number | null;
  };
  smartSync: {
    state: SmartState;
    runId: string | null;
    /** Hooks arrived after ours started: one more smart sync follows it. */
    followUp: boolean;
  };
  /** Single-entity syncs being started right now. */
  startingEntitySyncs: number;
  totals: {
    hooks: number;
    ignored: number;
    windows: number;
    entitySyncsStarted: number;
    smartSyncsStarted: number;
  };
}

interface PendingEntity {
  entityType: EntityType;
  id: number;
  /** Starts refused so far (a sync of the entity was running, or Temporal failed). */
  attempts: number;
}

/** Refused starts of one entity before it is handed to a smart sync instead. */
const MAX_ENTITY_ATTEMPTS = 5;
/** Failed smart-sync starts (Temporal down) before giving up; the scheduled smart sync covers it. */
const MAX_SMART_FAILURES = 6;
const SMART_RETRY_BASE_MS = 1000;
const SMART_RETRY_MAX_MS = 30_000;

type Log = Pick<Logger, 'info' | 'warn' | 'error'>;

/**
 * Collapses bursts of Stash hooks into few syncs (docs/api.md, "Stash hooks").
 *
 * Hooks gather in a window that closes `windowMs` after the last one (at most `maxWaitMs` after
 * the first). When it closes: up to `entityLimit` distinct entities each get a single-entity
 * sync; more, or any destroy or merge, become ONE smart sync, which reads every entity bumped
 * since its high-water mark. Only one smart sync runs at a time: a window that needs one while
 * ours runs asks for exactly one more after it (ours may have passed those entities already),
 * and while another sync holds the lock, ours starts when that one ends. So a bulk edit of
 * thousands of scenes costs a smart sync per `maxWaitMs` of the burst at most, usually one or two.
 *
 * State lives in this process only: a restart loses at most the open window and a queued
 * follow-up, which the scheduled smart sync picks up (its high-water mark misses nothing).
 */
export class HookCoalescer {
  private readonly options: HookCoalescerOptions;
  private readonly pending = new Map<string, PendingEntity>();
  private windowSmart = false;
  private windowHooks = 0;
  /** When the open window closes at the latest (null: no window is open). */
  private windowDeadline: number | null = null;
  private windowClosesAt: number | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private smart: SmartState = 'idle';
  private smartRunId: string | null = null;
  private smartFollowUp = false;
  private smartFailures = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private startingEntities = 0;
  private closed = false;
  private readonly totals = { hooks: 0, ignored: 0, windows: 0, entitySyncsStarted: 0, smartSyncsStarted: 0 };

  constructor(
    private readonly starter: HookSyncStarter,
    options: Partial<HookCoalescerOptions> = {},
    private readonly logger?: Log,
  ) {
    const merged = { ...DEFAULT_HOOK_OPTIONS, ...options };
    this.options = { ...merged, maxWaitMs: Math.max(merged.maxWaitMs, merged.windowMs) };
  }

  /** Takes one hook's request into the open window (opening one if none is). */
  add(request: SyncRequest): void {
    if (this.closed) return;
    this.totals.hooks++;
    this.windowHooks++;
    if (request.kind === 'smart') this.escalate();
    else this.addEntity({ entityType: request.entityType, id: request.id, attempts: 0 });
    this.arm();
  }

  /** Counts a hook the mirror does not act on. */
  ignore(): void {
    this.totals.hooks++;
    this.totals.ignored++;
  }

  /** Closes the open window now and starts what it gathered (the timer does this on its own). */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const smart = this.windowSmart;
    const entities = [...this.pending.values()];
    this.pending.clear();
    this.windowSmart = false;
    this.windowHooks = 0;
    this.windowDeadline = null;
    this.windowClosesAt = null;
    if (this.closed || (!smart && entities.length === 0)) return;
    this.totals.windows++;
    if (smart) this.requestSmart();
    else await this.startEntities(entities);
  }

  /** Nothing gathered, nothing being started, no smart sync running, waiting or queued. */
  isIdle(): boolean {
    return (
      this.windowDeadline === null && this.pending.size === 0 && this.startingEntities === 0 && this.smart === 'idle'
    );
  }

  status(): CoalescerStatus {
    const now = Date.now();
    return {
      ...this.options,
      window: {
        open: this.windowDeadline !== null,
        hooks: this.windowHooks,
        pendingEntities: this.pending.size,
        smartSync: this.windowSmart,
        closesInMs: this.windowClosesAt === null ? null : Math.max(0, this.windowClosesAt - now),
      },
      smartSync: { state: this.smart, runId: this.smartRunId, followUp: this.smartFollowUp },
      startingEntitySyncs: this.startingEntities,
      totals: { ...this.totals },
    };
  }

  /** Stops the timers and drops what is gathered (the process is going away). */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    this.pending.clear();
  }

  private addEntity(entity: PendingEntity): void {
    if (this.windowSmart) return; // the window's smart sync reads every bumped entity anyway
    const key = `${entity.entityType}:${entity.id}`;
    const known = this.pending.get(key);
    if (!known || known.attempts < entity.attempts) this.pending.set(key, entity);
    if (this.pending.size > this.options.entityLimit) this.escalate();
  }

  /** The window ends in one smart sync: its entities need no syncs of their own. */
  private escalate(): void {
    this.windowSmart = true;
    this.pending.clear();
  }

  /** (Re)starts the quiet-period timer, never past the window's deadline. */
  private arm(): void {
    const now = Date.now();
    if (this.windowDeadline === null) this.windowDeadline = now + this.options.maxWaitMs;
    this.windowClosesAt = Math.min(now + this.options.windowMs, this.windowDeadline);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), this.windowClosesAt - now);
    this.timer.unref?.();
  }

  private async startEntities(entities: PendingEntity[]): Promise<void> {
    this.startingEntities += entities.length;
    const results = await Promise.allSettled(
      entities.map((entity) => this.starter.startEntity(entity.entityType, entity.id)),
    );
    this.startingEntities -= entities.length;
    results.forEach((result, index) => {
      const entity = entities[index] as PendingEntity;
      if (result.status === 'fulfilled' && result.value === 'started') {
        this.totals.entitySyncsStarted++;
        return;
      }
      if (result.status === 'rejected') {
        this.logger?.warn(
          { err: result.reason, entityType: entity.entityType, entityId: entity.id },
          'stash hook: could not start a single-entity sync',
        );
      }
      // Busy: the running sync of this entity may have read it before this edit. Either way it
      // goes back into the next window.
      this.retryEntity(entity);
    });
  }

  private retryEntity(entity: PendingEntity): void {
    if (this.closed) return;
    if (entity.attempts + 1 >= MAX_ENTITY_ATTEMPTS) {
      this.requestSmart();
      return;
    }
    this.addEntity({ ...entity, attempts: entity.attempts + 1 });
    this.arm();
  }

  private requestSmart(): void {
    if (this.closed) return;
    if (this.smart === 'idle') void this.runSmart();
    // Starting or running: ours may have passed the new changes already, so one more follows.
    // Waiting or retrying: ours has not started yet and will read them.
    else if (this.smart === 'starting' || this.smart === 'running') this.smartFollowUp = true;
  }

  private async runSmart(): Promise<void> {
    this.smart = 'starting';
    this.smartFollowUp = false;
    let start: SmartStart;
    try {
      start = await this.starter.startSmart();
    } catch (error) {
      this.smartFailed(error);
      return;
    }
    this.smartFailures = 0;
    this.smartRunId = start.runId;
    if (start.outcome === 'started') {
      this.smart = 'running';
      this.totals.smartSyncsStarted++;
      this.logger?.info({ runId: start.runId }, 'stash hook: smart sync started');
    } else {
      this.smart = 'waiting';
      this.logger?.info({ runningRunId: start.runId }, 'stash hook: smart sync waits for the running sync');
    }
    await start.finished.catch(() => undefined);
    this.smartRunId = null;
    // After another sync, ours is still owed; after ours, only if hooks arrived meanwhile.
    const again = start.outcome === 'busy' || this.smartFollowUp;
    this.smart = 'idle';
    if (again && !this.closed) await this.runSmart();
  }

  private smartFailed(error: unknown): void {
    this.smartFailures++;
    if (this.smartFailures >= MAX_SMART_FAILURES) {
      this.logger?.error(
        { err: error, attempts: this.smartFailures },
        'stash hook: giving up starting a smart sync; the scheduled smart sync will catch up',
      );
      this.smartFailures = 0;
      this.smart = 'idle';
      return;
    }
    const delay = Math.min(SMART_RETRY_BASE_MS * 2 ** (this.smartFailures - 1), SMART_RETRY_MAX_MS);
    this.logger?.warn({ err: error, retryInMs: delay }, 'stash hook: could not start a smart sync');
    this.smart = 'retrying';
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) void this.runSmart();
    }, delay);
    this.retryTimer.unref?.();
  }
}
