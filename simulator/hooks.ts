/** Something to run between two requests of a client walking pages. */
export interface HookSpec<C> {
  /** Root field to count (e.g. 'findScenes'); omitted = every /graphql request. */
  field?: string;
  /** Fire after this many matching requests. */
  n: number;
  /** Fire once (default) or after every n-th matching request. */
  once?: boolean;
  run: (control: C) => void;
}

interface ArmedHook<C> extends HookSpec<C> {
  seen: number;
  done: boolean;
}

/**
 * Hooks fire after the n-th matching request has been answered in memory but before its response
 * is sent, so the change is in place before the client can ask for the next page. Only requests
 * that were executed count: one lost to an error or drop fault never reached the data.
 */
export class Hooks<C> {
  private hooks: ArmedHook<C>[] = [];
  readonly errors: string[] = [];

  add(spec: HookSpec<C>): void {
    if (!Number.isInteger(spec.n) || spec.n < 1) throw new RangeError('afterRequests needs n >= 1');
    this.hooks.push({ ...spec, seen: 0, done: false });
  }

  clear(): void {
    this.hooks = [];
  }

  pending(): number {
    return this.hooks.filter((h) => !h.done).length;
  }

  /** Counts an answered request with these root fields and runs whatever became due. */
  afterRequest(fields: readonly string[], control: C): void {
    for (const hook of this.hooks) {
      if (hook.done) continue;
      if (hook.field !== undefined && !fields.includes(hook.field)) continue;
      hook.seen++;
      if (hook.seen % hook.n !== 0) continue;
      if (hook.once !== false) hook.done = true;
      try {
        hook.run(control);
      } catch (error) {
        // A broken hook must not break the request it rides on; tests can read hookErrors.
        this.errors.push(error instanceof Error ? error.message : String(error));
      }
    }
    this.hooks = this.hooks.filter((h) => !h.done);
  }
}
