import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApi } from '../api/support.js';
import { createTestStack, type TestStack } from '../support/stack.js';
import { launchBrowser, type TestBrowser } from './support.js';

/** What the page shows of the current run: its id and status, and how full its progress bars are. */
interface RunOnPage {
  runId: string | null;
  status: string | null;
  /** The bars' positions added up (0 to 1 each; an indeterminate bar counts 0). */
  value: number;
  /** How many bars: all of them full. */
  max: number;
  /** Bars part-way (neither empty nor full). */
  partial: number;
}

/** One look at the current-run section (in the page, at once; the names are the DOM's). */
function readRun(page: Page): Promise<RunOnPage> {
  return page.locator('#current-run').evaluate((section) => {
    const heading = section.querySelector('.run-heading');
    const positions: number[] = [...section.querySelectorAll('progress.type-bar')].map(
      (bar) => (bar as unknown as { position: number }).position,
    );
    return {
      runId: heading?.getAttribute('data-run-id') ?? null,
      status: heading?.querySelector('[data-status]')?.getAttribute('data-status') ?? null,
      value: positions.reduce((sum, position) => sum + Math.max(position, 0), 0),
      max: positions.length,
      partial: positions.filter((position) => position > 0 && position < 1).length,
    };
  });
}

/** Polls the page until `accept` holds (bounded), returning the accepted read. */
async function waitForRun(page: Page, accept: (run: RunOnPage) => boolean, timeoutMs: number): Promise<RunOnPage> {
  const deadline = Date.now() + timeoutMs;
  let last = await readRun(page);
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`timed out; the page last showed ${JSON.stringify(last)}`);
    await page.waitForTimeout(100);
    last = await readRun(page);
  }
  return last;
}

describe('the status page in Chromium', () => {
  let stack: TestStack;
  let api: ApiServer;
  let browser: TestBrowser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
    stack = await createTestStack({ seed: 31, scale: 'small' });
    await stack.startWorker({ pageSize: 50 });
    api = await startApi(stack, { sseIntervalMs: 200 });
    // A first full sync, unslowed: a full sync's bars fill towards what the last one read.
    await (await stack.startFull()).result();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await stack?.close();
  });
  afterEach(async () => {
    await page?.close();
    expect(pageErrors, 'errors in the page').toEqual([]);
  });

  async function open(url: string): Promise<Page> {
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
    return page;
  }

  it('shows a full sync started from the page moving, then finished in the last runs', async () => {
    stack.simulator.control.setFaults({ latencyMs: 30 });
    try {
      await open(`${api.url}/`);
      await expect.poll(() => page.locator('#state tbody tr').count(), { timeout: 10_000 }).toBe(7);
      await page.getByText('No sync is running.').waitFor({ timeout: 10_000 });

      await page.getByRole('button', { name: 'Start full sync' }).click();
      const first = await waitForRun(page, (run) => run.status === 'running' && run.runId !== null, 15_000);
      const runId = first.runId as string;
      // The bars move: fuller at a later look while the same run still runs (for the screenshot:
      // a quarter of the way at least, and a type part-way through its walk).
      const moved = await waitForRun(
        page,
        (run) =>
          run.runId === runId &&
          run.status === 'running' &&
          run.value > first.value &&
          run.value >= run.max / 4 &&
          run.partial > 0,
        30_000,
      );
      expect(moved.value).toBeGreaterThan(first.value);
      const shot = await browser.screenshot(page, 'status-page-progress-mid-run');
      const after = await readRun(page);
      console.info(`screenshot ${shot}: bars ${moved.value.toFixed(2)} of ${moved.max} full, then ${after.status}`);

      // The finished run in the last-runs list, with its counts and its Temporal link.
      const row = page.locator(`#runs tbody tr[data-run-id="${runId}"][data-status="completed"]`);
      await row.waitFor({ timeout: 45_000 });
      await expect.poll(() => row.locator('td').nth(1).textContent()).toBe('full');
      await expect.poll(() => row.locator('td.num').nth(1).textContent()).not.toBe('0');
      const link = await row.getByRole('link', { name: 'Temporal ↗' }).getAttribute('href');
      expect(link).toContain(`/workflows/${stack.workflowId}/`);
      await page.getByText('No sync is running.').waitFor({ timeout: 10_000 });
      await browser.screenshot(page, 'status-page-finished');
      const finished = await api.request<{ run: { durationSeconds: number } }>(
        'GET',
        `/api/sync/runs/${encodeURIComponent(runId)}`,
      );
      console.info(`the slowed full sync took ${finished.body.run.durationSeconds} s`);
    } finally {
      stack.simulator.control.setFaults({ latencyMs: 0 });
    }
  });

  it('pauses, resumes and triggers the schedule ("sync now" starts a smart sync)', async () => {
    const created = await api.request('PUT', '/api/sync/schedule', { body: { intervalSeconds: 3600, paused: true } });
    expect(created.status).toBe(200);
    await open(`${api.url}/`);
    await page.locator('#schedule [data-paused="true"]').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#schedule [data-paused="false"]').waitFor({ timeout: 10_000 });

    const before = await page.locator('#runs tbody tr[data-trigger="schedule"]').count();
    await page.getByRole('button', { name: 'Sync now' }).click();
    await page.getByText('Smart sync triggered through the schedule.').waitFor({ timeout: 30_000 });
    await expect
      .poll(() => page.locator('#runs tbody tr[data-trigger="schedule"][data-type="smart"]').count(), {
        timeout: 30_000,
      })
      .toBeGreaterThan(before);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#schedule [data-paused="true"]').waitFor({ timeout: 10_000 });
    await browser.screenshot(page, 'status-page-schedule-triggered');
  });

  it("shows an entity's sync history by type and id, and says when there is none", async () => {
    await open(`${api.url}/`);
    await page.getByLabel('Entity type').selectOption('performer');
    await page.getByLabel('Entity id').fill('1');
    await page.getByRole('button', { name: 'Show history' }).click();
    await page.getByText(/^performer 1: \d+ entries/).waitFor({ timeout: 10_000 });
    expect(await page.locator('#history tbody tr').count()).toBeGreaterThan(0);

    await page.getByLabel('Entity type').selectOption('scene');
    await page.getByLabel('Entity id').fill('999999');
    await page.getByRole('button', { name: 'Show history' }).click();
    await page.getByText('scene 999999 has never been synced').waitFor({ timeout: 10_000 });
    expect(await page.locator('#history').isHidden()).toBe(true);
  });

  it('loads without the API token, asks for it when /api answers 401, then works', async () => {
    const token = 'browser-test-token';
    const guarded = await startApi(stack, { apiToken: token, sseIntervalMs: 200 });
    try {
      await open(`${guarded.url}/`);
      const form = page.locator('#token-form');
      await form.waitFor({ state: 'visible', timeout: 10_000 });
      await page.getByText('Enter the API token to continue.').waitFor();

      await page.getByLabel('API token').fill('not-the-token');
      await page.getByRole('button', { name: 'Use token' }).click();
      await page.getByText('The server refused the API token: enter it again.').waitFor({ timeout: 10_000 });

      await page.getByLabel('API token').fill(token);
      await page.getByRole('button', { name: 'Use token' }).click();
      await form.waitFor({ state: 'hidden', timeout: 10_000 });
      await expect.poll(() => page.locator('#state tbody tr').count(), { timeout: 10_000 }).toBe(7);
      await page.locator('#token-state').waitFor({ state: 'visible' });
      await browser.screenshot(page, 'status-page-with-token');

      await page.getByRole('button', { name: 'Start smart sync' }).click();
      const row = page.locator('#runs tbody tr[data-type="smart"][data-trigger="api"][data-status="completed"]');
      await row.first().waitFor({ timeout: 30_000 });
    } finally {
      await guarded.close();
    }
  });
});
