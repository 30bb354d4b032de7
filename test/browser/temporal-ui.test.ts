import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDevServer, startTemporalDevServer } from '../../runtime/temporal-dev-server.js';
import { type ApiServer, startApi } from '../api/support.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { launchBrowser, type TestBrowser } from './support.js';

/**
 * Opens the Web UI's workflow list under a visibility query until it lists the run (bounded: the
 * visibility store indexes a closed run a moment after it closes, and the list does not refresh).
 */
async function listUntilShown(page: Page, uiUrl: string, query: string, runId: string): Promise<void> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    try {
      await page.locator(`a[href*="${runId}"]`).first().waitFor({ timeout: 5000 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

/**
 * The shared dev server of the test run has no Web UI (global-setup: uiPort null), so this file
 * starts its own with one. The search attributes are NOT given to the server here: the worker
 * registers them at start, and that is what this test sees.
 */
describe('runs in the Temporal Web UI', () => {
  let temporal: RunningDevServer;
  let stack: TestStack;
  let api: ApiServer;
  let browser: TestBrowser;
  let uiUrl: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    temporal = await startTemporalDevServer({ dbFilename: null, port: 0, uiPort: 0, logLevel: 'error' });
    uiUrl = temporal.uiUrl as string;
    stack = await createTestStack({ seed: 32, scale: 'tiny' }, temporal.address);
    await stack.startWorker({ pageSize: 50 });
    api = await startApi(stack, { temporalUiUrl: uiUrl });
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await stack?.close();
    await temporal?.stop();
  });

  it('lists the full sync under the filter SyncType = "full", not the smart one; the status page links to it', async () => {
    const full = await stack.startFull();
    await full.result();
    const smart = await stack.start('smart');
    await smart.result();

    const page = await browser.newPage();
    try {
      // The list links each execution by its run id. The smart run is indexed (it is listed under
      // its own type) and yet absent from the full filter.
      await listUntilShown(page, uiUrl, 'SyncType = "smart"', smart.runId);
      await listUntilShown(page, uiUrl, 'SyncType = "full"', full.runId);
      expect(await page.locator(`a[href*="${smart.runId}"]`).count()).toBe(0);
      const shot = await browser.screenshot(page, 'temporal-ui-filtered-by-sync-type');
      console.info(`screenshot ${shot}`);

      // The status page's link for the run opens that run in the Web UI.
      await page.goto(`${api.url}/`);
      const link = page.locator(`#runs tbody tr[data-run-id="${full.syncRunId}"]`).getByRole('link');
      const href = await link.getAttribute('href', { timeout: 15_000 });
      expect(href).toBe(`${uiUrl}/namespaces/default/workflows/${stack.workflowId}/${full.runId}`);
      await page.goto(href as string);
      await page.getByText(full.runId).first().waitFor({ timeout: 30_000 });
      await browser.screenshot(page, 'temporal-ui-run-from-status-page');
    } finally {
      await page.close();
    }
  });
});
