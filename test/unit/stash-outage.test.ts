import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/env.js';
import { StashAuthError, StashUnavailableError } from '../../stash/errors.js';
import { outageError } from '../../stash/outage.js';

const unavailable = (lastAnswerAtMs: number | null, stashUrl: string | null = 'http://stash:9999') => {
  const error = new StashUnavailableError(
    'Stash could not be reached or sent a broken answer: fetch failed (connect ECONNREFUSED 10.0.0.5:9999)',
    'connect ECONNREFUSED 10.0.0.5:9999',
  );
  error.lastAnswerAtMs = lastAnswerAtMs;
  error.stashUrl = stashUrl;
  return error;
};
const T0 = 1_700_000_000_000;

describe('outageError (giving up on an unreachable Stash)', () => {
  it('retries while the outage is within the budget', () => {
    expect(outageError(unavailable(null), { firstScheduledMs: T0, attempt: 3, nowMs: T0 + 4_000 }, 5)).toBeNull();
  });

  it('gives up past the budget, with one line naming where, how long, why and the variable', () => {
    const error = outageError(unavailable(null), { firstScheduledMs: T0, attempt: 4, nowMs: T0 + 7_400 }, 5);
    expect(error?.retryable).toBe(false);
    expect(error?.name).toBe('StashOutageError');
    expect(error?.message).toBe(
      'Stash at http://stash:9999 has been unreachable for 7 s (connect ECONNREFUSED 10.0.0.5:9999), longer than STASH_UNAVAILABLE_BUDGET_SECONDS=5; the next sync resumes from the last committed page',
    );
  });

  it('counts from the last answer when a long activity meets an outage late', () => {
    // Scheduled an hour ago, Stash answered 2 s ago: a blip, not an hour-long outage.
    const timing = { firstScheduledMs: T0, attempt: 1, nowMs: T0 + 3_600_000 };
    expect(outageError(unavailable(T0 + 3_598_000), timing, 900)).toBeNull();
    expect(outageError(unavailable(T0 + 2_000_000), timing, 900)?.message).toMatch(/unreachable for 1600 s/);
  });

  it('says so on the last permitted attempt even within the budget', () => {
    const error = outageError(
      unavailable(null),
      { firstScheduledMs: T0, attempt: 20, maximumAttempts: 20, nowMs: T0 + 843_000 },
      900,
    );
    expect(error?.message).toMatch(
      /unreachable for 843 s \(connect ECONNREFUSED [^)]+\), and all 20 attempts are spent;/,
    );
  });

  it('finds a wrapped unavailable error and ignores every other error', () => {
    const wrapped = new Error('page failed', { cause: unavailable(null) });
    const timing = { firstScheduledMs: T0, attempt: 9, nowMs: T0 + 60_000 };
    expect(outageError(wrapped, timing, 5)).not.toBeNull();
    expect(outageError(new StashAuthError('Stash refused the request (HTTP 401)'), timing, 5)).toBeNull();
    expect(outageError(new Error('deadlock detected'), timing, 5)).toBeNull();
  });

  it('never shows a key the URL carried (the client masks it)', async () => {
    const { createStashClient } = await import('../../stash/client.js');
    const client = createStashClient({ url: 'http://127.0.0.1:1/graphql?apikey=secret-key-123', timeoutMs: 2_000 });
    const error = await client.request('{ version { version } }', {}).catch((caught: unknown) => caught);
    const given = outageError(error, { firstScheduledMs: T0, attempt: 5, nowMs: Date.now() }, 5);
    expect(given?.message).toMatch(/^Stash at http:\/\/127\.0\.0\.1:1\/graphql\?apikey=\*\*\* has been unreachable/);
    expect(given?.message).not.toContain('secret-key-123');
  });
});

describe('STASH_UNAVAILABLE_BUDGET_SECONDS', () => {
  it('defaults to 900 and refuses a value that is not a positive whole number with one line', () => {
    expect(parseConfig({}).STASH_UNAVAILABLE_BUDGET_SECONDS).toBe(900);
    expect(parseConfig({ STASH_UNAVAILABLE_BUDGET_SECONDS: '30' }).STASH_UNAVAILABLE_BUDGET_SECONDS).toBe(30);
    expect(() => parseConfig({ STASH_UNAVAILABLE_BUDGET_SECONDS: '0' })).toThrow(
      'Invalid configuration: STASH_UNAVAILABLE_BUDGET_SECONDS must be positive',
    );
    expect(() => parseConfig({ STASH_UNAVAILABLE_BUDGET_SECONDS: 'soon' })).toThrow(
      'Invalid configuration: STASH_UNAVAILABLE_BUDGET_SECONDS must be a whole number',
    );
    expect(() => parseConfig({ STASH_UNAVAILABLE_BUDGET_SECONDS: '100000' })).toThrow(/must be at most 86400/);
  });
});
