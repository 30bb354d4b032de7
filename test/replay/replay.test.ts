import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../../worker/create-worker.js';
import { installTemporalLogging } from '../../worker/runtime-logging.js';

installTemporalLogging('warn');
const directory = new URL('./histories/', import.meta.url);
const fixtures = readdirSync(directory).filter((name) => name.endsWith('.json'));

/**
 * Histories captured from earlier versions of the workflows (scripts/capture-histories.ts) must
 * replay on the current code: a change that would break workflows already running in someone's
 * Temporal fails here instead.
 */
describe('workflow replay against captured histories', () => {
  it('has a fixture for every workflow type', () => {
    // Besides these, chaos-*.json: histories captured from the chaos suite's runs (test/support/replay-capture.ts).
    expect(fixtures.filter((name) => !name.startsWith('chaos-')).sort()).toEqual([
      'entity-sync.json',
      'full-sync.json',
      'incremental-sync.json',
      'scheduled-smart-sync.json',
      'smart-sync.json',
    ]);
  });

  it.each(fixtures)('%s replays deterministically', async (name) => {
    // The CLI's JSON form; the worker converts it with its own copy of the proto definitions.
    const history: unknown = JSON.parse(readFileSync(new URL(name, directory), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history);
  });
});
