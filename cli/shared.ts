/**
 * What every command file may import: no dependencies, so that registering the commands (and
 * `--help`) stays cheap. Anything heavier lives under cli/actions/, loaded when a command runs.
 */

/** Exit codes shared by every command (documented in docs/cli.md). */
export const EXIT = { ok: 0, failed: 1, busy: 2, usage: 64, config: 78 } as const;

/** Prints one line and exits: for expected failures, never a stack trace. */
export function fail(message: string, code: number = EXIT.failed): never {
  process.stderr.write(`stash-mirror: ${message}\n`);
  process.exit(code);
}

/** Runs `stop` once on SIGINT/SIGTERM, then exits. */
export function onShutdown(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`stash-mirror: ${signal}, shutting down\n`);
    stop()
      .catch((error: unknown) => process.stderr.write(`stash-mirror: shutdown error: ${String(error)}\n`))
      .finally(() => process.exit(0));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

/** A positive whole number from an argument, or one line naming the argument and exit 64. */
export function positiveInt(name: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0 || value > max) {
    const range = max < Number.MAX_SAFE_INTEGER ? ` up to ${max}` : '';
    fail(`${name} must be a positive whole number${range} (got "${text}")`, EXIT.usage);
  }
  return value;
}

/** One of `choices`, or one line naming the argument and its choices and exit 64. */
export function oneOf<T extends string>(name: string, text: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    fail(`${name} must be one of ${choices.join(', ')} (got "${text}")`, EXIT.usage);
  }
  return text as T;
}
