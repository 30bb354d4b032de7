/**
 * Bundles the workflow code (webpack + swc) and writes it to the file named by the first
 * argument. Run in a child process by worker/create-worker.ts, so the several hundred MB webpack
 * needs are never part of the worker's own memory.
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from './workflows-path.js';

const out = process.argv[2];
if (!out) throw new Error('usage: bundle-workflows <output file>');
const { code } = await bundleWorkflowCode({
  workflowsPath: WORKFLOWS_PATH,
  logger: {
    trace() {},
    debug() {},
    info() {},
    warn() {},
    error(message: string, meta?: Record<string, unknown>) {
      console.error(message, meta ?? '');
    },
    log() {},
  },
});
writeFileSync(out, code);
