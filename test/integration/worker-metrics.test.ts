import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTITY_TYPES } from '../../stash/entity-types.js';
import { parseMetrics, type Sample, samplesOf, sumOf } from '../support/prometheus.js';
import { createTestStack, type TestStack } from '../support/stack.js';

const P = 'stash_mirror_worker_';

/** Every run's counts and committed pages, summed per type (what the worker's counters must equal). */
async function recorded(stack: TestStack) {
  const rows = await stack.db.sql`select counts, progress from sync_runs`;
  const counts = new Map<string, number>();
  const pages = new Map<string, number>();
  for (const row of rows) {
    for (const [type, byOutcome] of Object.entries(row.counts as Record<string, Record<string, number>>)) {
      for (const [outcome, n] of Object.entries(byOutcome)) {
        counts.set(`${type}/${outcome}`, (counts.get(`${type}/${outcome}`) ?? 0) + Number(n));
      }
    }
    for (const type of ENTITY_TYPES) {
      const n = Number((row.progress as Record<string, unknown>)[`pages:${type}`] ?? 0);
      pages.set(type, (pages.get(type) ?? 0) + n);
    }
  }
  return { counts, pages };
}

/** The worker's counters and histogram series (not the process gauges, which may go down). */
function monotonic(samples: Sample[]): Sample[] {
  return samples.filter(
    (sample) =>
      sample.name.startsWith(P) &&
      !sample.name.startsWith(`${P}process_`) &&
      !sample.name.startsWith(`${P}nodejs_`) &&
      /_(total|count|sum|bucket)$/.test(sample.name),
  );
}

const key = (sample: Sample) => `${sample.name}${JSON.stringify(sample.labels)}`;

describe('worker metrics endpoint', () => {
  let stack: TestStack;
  let url: string;
  const scrape = async () => {
    const response = await fetch(url);
    expect(response.status).toBe(200);
    return parseMetrics(await response.text());
  };

  beforeAll(async () => {
    stack = await createTestStack({ seed: 7, scale: 'tiny' });
    const { metricsUrl } = await stack.startWorker({ pageSize: 10, metrics: true });
    if (!metricsUrl) throw new Error('the worker serves no metrics');
    url = metricsUrl;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('counts what a full sync recorded, times its activities and reports fresh types, without resets', async () => {
    const before = await scrape();
    for (const type of ENTITY_TYPES) {
      expect(sumOf(before, `${P}last_successful_sync_age_seconds`, { entity_type: type })).toBe(
        Number.POSITIVE_INFINITY,
      );
    }

    const full = await stack.startFull();
    expect((await full.result()).status).toBe('completed');
    const first = await scrape();
    const afterFull = await recorded(stack);

    expect(sumOf(first, `${P}pages_written_total`)).toBeGreaterThan(0);
    for (const type of ENTITY_TYPES) {
      expect(sumOf(first, `${P}pages_written_total`, { entity_type: type }), type).toBe(afterFull.pages.get(type));
      for (const outcome of ['fetched', 'created', 'updated', 'unchanged', 'failed', 'deleted']) {
        expect(sumOf(first, `${P}entities_total`, { entity_type: type, outcome }), `${type} ${outcome}`).toBe(
          afterFull.counts.get(`${type}/${outcome}`) ?? 0,
        );
      }
      const ages = samplesOf(first, `${P}last_successful_sync_age_seconds`, { entity_type: type });
      expect(ages, type).toHaveLength(1);
      expect(ages[0]?.value, type).toBeGreaterThanOrEqual(0);
      expect(ages[0]?.value, type).toBeLessThan(120);
    }
    expect(sumOf(first, `${P}entities_total`, { entity_type: 'scene', outcome: 'created' })).toBe(
      stack.simulator.library.scenes.size,
    );
    expect(
      sumOf(first, `${P}activity_duration_seconds_count`, { activity: 'walk', outcome: 'completed' }),
    ).toBeGreaterThan(0);
    expect(
      sumOf(first, `${P}activity_duration_seconds_count`, { activity: 'recordRunStart', outcome: 'completed' }),
    ).toBe(1);

    // A second run, with a deletion and an edit to find: every counter keeps what it had (nothing
    // resets on a scrape or between runs), and deletions (reconcile) count like pages do.
    const scenes = [...stack.simulator.library.scenes.keys()].sort((a, b) => a - b);
    const performers = [...stack.simulator.library.performers.keys()].sort((a, b) => a - b);
    stack.simulator.control.remove('scene', scenes[3] as number);
    stack.simulator.control.update('performer', performers[0] as number, { name: 'Renamed For Metrics' });
    const smart = await stack.start('smart');
    expect((await smart.result()).status).toBe('completed');
    const second = await scrape();
    const later = new Map(monotonic(second).map((sample) => [key(sample), sample.value]));
    for (const sample of monotonic(first)) {
      expect(later.get(key(sample)), key(sample)).toBeGreaterThanOrEqual(sample.value);
    }
    expect(sumOf(second, `${P}activity_duration_seconds_count`)).toBeGreaterThan(
      sumOf(first, `${P}activity_duration_seconds_count`),
    );
    const afterSmart = await recorded(stack);
    for (const type of ENTITY_TYPES) {
      expect(sumOf(second, `${P}pages_written_total`, { entity_type: type }), type).toBe(afterSmart.pages.get(type));
      for (const outcome of ['fetched', 'created', 'updated', 'unchanged', 'failed', 'deleted']) {
        expect(sumOf(second, `${P}entities_total`, { entity_type: type, outcome }), `${type} ${outcome}`).toBe(
          afterSmart.counts.get(`${type}/${outcome}`) ?? 0,
        );
      }
    }
    expect(sumOf(second, `${P}entities_total`, { entity_type: 'scene', outcome: 'deleted' })).toBe(1);
    expect(sumOf(second, `${P}entities_total`, { entity_type: 'performer', outcome: 'updated' })).toBeGreaterThan(0);
  });
});
