import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from '@temporalio/worker';
import { findTemporalCli } from '../../runtime/temporal-cli.js';
import { workflowBundle } from '../../worker/create-worker.js';

const run = promisify(execFile);

/**
 * Replays one finished execution of a chaos run on the current workflow code (a history the
 * chaos made — retries, timeouts, restarts — must replay without non-determinism errors), and
 * with CAPTURE_CHAOS_HISTORIES=1 keeps it as a replay fixture: test/replay/histories/chaos-<name>.json.
 * The history is read with the Temporal CLI, whose JSON is the form the fixtures are kept in.
 * Returns the number of events replayed.
 */
export async function replayAndCapture(options: {
  temporalAddress: string;
  workflowId: string;
  runId: string;
  name: string;
}): Promise<number> {
  const cli = findTemporalCli();
  if (!cli) throw new Error('the Temporal CLI is needed to read histories (scripts/install-temporal.sh)');
  const { stdout } = await run(
    cli,
    [
      'workflow',
      'show',
      '--address',
      options.temporalAddress,
      '-w',
      options.workflowId,
      '-r',
      options.runId,
      '--output',
      'json',
    ],
    { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 },
  );
  const history = JSON.parse(stdout) as { events: unknown[] };
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history);
  if (process.env.CAPTURE_CHAOS_HISTORIES === '1') {
    const file = fileURLToPath(new URL(`../replay/histories/chaos-${options.name}.json`, import.meta.url));
    writeFileSync(file, stdout);
  }
  return history.events.length;
}
