import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import { isPidAlive, isPortOpen } from '../../runtime/processes.js';
import { findTemporalCli } from '../../runtime/temporal-cli.js';
import { startTemporalDevServer } from '../../runtime/temporal-dev-server.js';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'stash-mirror-temporal-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

// Without a CLI the module falls back to the SDK's download, which needs internet: skip locally, but
// let CI (which builds the CLI first) fail loudly if it is missing.
describe.skipIf(!findTemporalCli() && !process.env.CI)('startTemporalDevServer', () => {
  it('starts headless on a free port, serves clients, and leaves nothing behind on stop', async () => {
    const server = await startTemporalDevServer({
      dbFilename: path.join(scratch, 'nested', 'dir', 'first.db'),
      port: 0,
      uiPort: null,
      namespace: 'runtime-test',
      logLevel: 'error',
    });
    try {
      expect(server.uiUrl).toBeNull();
      expect(isPidAlive(server.pid)).toBe(true);
      const connection = await Connection.connect({ address: server.address });
      try {
        const { namespaces } = await connection.workflowService.listNamespaces({});
        const names = namespaces.map((ns) => ns.namespaceInfo?.name);
        expect(names).toEqual(expect.arrayContaining(['default', 'runtime-test']));
      } finally {
        await connection.close();
      }
    } finally {
      await server.stop();
    }
    expect(isPidAlive(server.pid)).toBe(false);
    expect(await isPortOpen(portOf(server.address))).toBe(false);
  });

  it('keeps workflows in the db file across a restart and registers new search attributes on it', async () => {
    const dbFilename = path.join(scratch, 'restart.db');
    const workflowId = 'runtime-test-durable';
    const first = await startTemporalDevServer({ dbFilename, port: 0, uiPort: null, logLevel: 'error' });
    try {
      const connection = await Connection.connect({ address: first.address });
      try {
        // No worker needed: an unstarted workflow task just stays pending, which is all we check.
        await new Client({ connection }).workflow.start('neverRuns', { taskQueue: 'nobody', workflowId });
      } finally {
        await connection.close();
      }
    } finally {
      await first.stop();
    }
    expect(isPidAlive(first.pid)).toBe(false);

    const second = await startTemporalDevServer({
      dbFilename,
      port: 0,
      uiPort: 0,
      logLevel: 'error',
      searchAttributes: { RuntimeTestStage: 'Keyword' },
    });
    try {
      expect(second.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const connection = await Connection.connect({ address: second.address });
      try {
        const client = new Client({ connection });
        const description = await client.workflow.getHandle(workflowId).describe();
        expect(description.status.name).toBe('RUNNING');
        await client.workflow.getHandle(workflowId).terminate('test done');
        const attributes = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
        expect(Object.keys(attributes.customAttributes ?? {})).toContain('RuntimeTestStage');
      } finally {
        await connection.close();
      }
    } finally {
      await second.stop();
    }
    expect(isPidAlive(second.pid)).toBe(false);
  });

  it('reports the output of a server that dies during start-up', async () => {
    const fake = path.join(scratch, 'fake-temporal');
    writeFileSync(fake, '#!/bin/sh\necho "boom: cannot start" >&2\nexit 3\n');
    chmodSync(fake, 0o755);
    await expect(startTemporalDevServer({ cliPath: fake, dbFilename: null, port: 0, uiPort: null })).rejects.toThrow(
      /exited with code 3[\s\S]*boom: cannot start/,
    );
  });
});
