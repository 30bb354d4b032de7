/**
 * The benchmark stack for small scripts (sync-history.ts, full-sync.ts): see stack.ts. The worker
 * runs in its own process; `restartWorker` takes environment overrides (e.g. SYNC_LOG_SKIPPED).
 */
import { type BenchStack, startStack } from './stack.js';

export type { BenchStack } from './stack.js';
export { median } from './stats.js';

export function startBenchStack(
  scale: string,
  pageSize: number,
  workerEnv: Record<string, string> = {},
): Promise<BenchStack> {
  return startStack({ scale, pageSize, workerEnv });
}
