import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput } from '@temporalio/worker';
import { describe, expect, it, vi } from 'vitest';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { lastSyncsOf } from '../../worker/last-sync.js';
import { createWorkerMetrics, type LastSyncs } from '../../worker/metrics.js';
import { ActivityMetricsInterceptor } from '../../worker/metrics-interceptor.js';
import { serveMetrics } from '../../worker/metrics-server.js';
import { parseMetrics, samplesOf, sumOf } from '../support/prometheus.js';

const P = 'stash_mirror_worker_';
const never = Object.fromEntries(ENTITY_TYPES.map((type) => [type, null])) as LastSyncs;
const input: ActivityExecuteInput = { args: [], headers: {} };

async function scrape(metrics: ReturnType<typeof createWorkerMetrics>) {
  return parseMetrics(await metrics.registry.metrics());
}

describe('worker metrics', () => {
  it('counts committed writes per type and outcome, from zero, without resetting on scrape', async () => {
    const metrics = createWorkerMetrics({ readLastSyncs: async () => never });
    const before = await scrape(metrics);
    for (const type of ENTITY_TYPES) {
      expect(samplesOf(before, `${P}pages_written_total`, { entity_type: type })).toHaveLength(1);
      expect(samplesOf(before, `${P}entities_total`, { entity_type: type })).toHaveLength(6);
    }
    expect(sumOf(before, `${P}entities_total`)).toBe(0);

    metrics.recordWrite({
      entityType: 'scene',
      counts: { fetched: 10, created: 7, unchanged: 2, failed: 1 },
      pages: 1,
    });
    metrics.recordWrite({ entityType: 'scene', counts: { fetched: 5, updated: 5, deleted: 0 }, pages: 1 });
    metrics.recordWrite({ entityType: 'tag', counts: { deleted: 3 }, pages: 0 });
    const first = await scrape(metrics);
    const second = await scrape(metrics);
    for (const samples of [first, second]) {
      expect(sumOf(samples, `${P}pages_written_total`, { entity_type: 'scene' })).toBe(2);
      expect(sumOf(samples, `${P}pages_written_total`, { entity_type: 'tag' })).toBe(0);
      expect(sumOf(samples, `${P}entities_total`, { entity_type: 'scene', outcome: 'fetched' })).toBe(15);
      expect(sumOf(samples, `${P}entities_total`, { entity_type: 'scene', outcome: 'created' })).toBe(7);
      expect(sumOf(samples, `${P}entities_total`, { entity_type: 'scene', outcome: 'updated' })).toBe(5);
      expect(sumOf(samples, `${P}entities_total`, { entity_type: 'scene', outcome: 'failed' })).toBe(1);
      expect(sumOf(samples, `${P}entities_total`, { entity_type: 'tag', outcome: 'deleted' })).toBe(3);
    }
    // Its own registry: the default process metrics carry the worker's prefix.
    expect(first.some((sample) => sample.name === `${P}process_cpu_seconds_total`)).toBe(true);
  });

  it('serves ages from the last read, +Inf for a type never synced, and keeps growing when the read fails', async () => {
    const syncedAt = new Date(Date.now() - 30_000);
    const onError = vi.fn();
    const read = vi.fn(async (): Promise<LastSyncs> => ({ ...never, scene: syncedAt }));
    const metrics = createWorkerMetrics({ readLastSyncs: read, onError });
    const first = await scrape(metrics);
    const scene = sumOf(first, `${P}last_successful_sync_age_seconds`, { entity_type: 'scene' });
    expect(scene).toBeGreaterThanOrEqual(30);
    expect(scene).toBeLessThan(40);
    expect(sumOf(first, `${P}last_successful_sync_age_seconds`, { entity_type: 'image' })).toBe(
      Number.POSITIVE_INFINITY,
    );

    read.mockRejectedValueOnce(new Error('database down'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await scrape(metrics);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(sumOf(second, `${P}last_successful_sync_age_seconds`, { entity_type: 'scene' })).toBeGreaterThan(scene);
  });

  it('combines sync_state marks with the last completed smart sync', () => {
    const old = new Date('2025-01-01T00:00:00Z');
    const smart = new Date('2025-01-02T00:00:00Z');
    const newer = new Date('2025-01-03T00:00:00Z');
    const marks = [
      { entityType: 'scene' as const, at: old },
      { entityType: 'tag' as const, at: newer },
      { entityType: 'image' as const, at: null },
    ];
    expect(lastSyncsOf(marks, smart)).toMatchObject({ scene: smart, tag: newer, image: smart, studio: smart });
    expect(lastSyncsOf(marks, null)).toMatchObject({ scene: old, tag: newer, image: null, studio: null });
  });

  it('times activities and counts failures by retryability, not cancellations', async () => {
    const metrics = createWorkerMetrics({ readLastSyncs: async () => never });
    let cancelled = false;
    const walk = new ActivityMetricsInterceptor(metrics, 'walk', () => cancelled);
    await expect(walk.execute(input, async () => 'done')).resolves.toBe('done');
    await expect(
      walk.execute(input, async () => {
        throw new Error('Stash unavailable');
      }),
    ).rejects.toThrow('Stash unavailable');
    await expect(
      walk.execute(input, async () => {
        throw ApplicationFailure.nonRetryable('bad key', 'StashAuthError');
      }),
    ).rejects.toThrow('bad key');
    cancelled = true;
    await expect(
      walk.execute(input, async () => {
        throw new Error('aborted');
      }),
    ).rejects.toThrow('aborted');

    const samples = await scrape(metrics);
    const count = (outcome: string) =>
      sumOf(samples, `${P}activity_duration_seconds_count`, { activity: 'walk', outcome });
    expect([count('completed'), count('failed'), count('cancelled')]).toEqual([1, 2, 1]);
    expect(sumOf(samples, `${P}activity_failures_total`, { activity: 'walk', retryable: 'true' })).toBe(1);
    expect(sumOf(samples, `${P}activity_failures_total`, { activity: 'walk', retryable: 'false' })).toBe(1);
  });

  it('serves GET /metrics and nothing else', async () => {
    const metrics = createWorkerMetrics({ readLastSyncs: async () => never });
    const endpoint = await serveMetrics(metrics.registry, { host: '127.0.0.1', port: 0 });
    try {
      expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const response = await fetch(endpoint.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(metrics.registry.contentType);
      expect(samplesOf(parseMetrics(await response.text()), `${P}pages_written_total`)).toHaveLength(7);
      expect((await fetch(new URL('/other', endpoint.url))).status).toBe(404);

      // A second server on the same port names the address instead of failing silently.
      const port = Number(new URL(endpoint.url).port);
      await expect(serveMetrics(metrics.registry, { host: '127.0.0.1', port })).rejects.toThrow(
        `cannot serve worker metrics on 127.0.0.1:${port}`,
      );
    } finally {
      await endpoint.close();
    }
  });
});
