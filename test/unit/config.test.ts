import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../config/env.js';

describe('configuration', () => {
  it('has embedded defaults', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'stash-mirror',
      PORT: 3000,
      SYNC_PAGE_SIZE: 500,
      WORKER_METRICS_PORT: 9464,
      WORKER_METRICS_HOST: '127.0.0.1',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.STASH_URL).toBeUndefined();
  });

  it.each([
    ['PORT', 'eighty', /PORT must be a port number/],
    ['PORT', '70000', /PORT must be between 0 and 65535/],
    ['STASH_URL', 'not a url', /STASH_URL must be a URL/],
    ['DATABASE_URL', 'mysql://x', /DATABASE_URL must be a postgres:\/\/ URL/],
    ['TEMPORAL_ADDRESS', 'localhost', /TEMPORAL_ADDRESS must be host:port/],
    ['SYNC_MAX_DELETE_SHARE', '2', /SYNC_MAX_DELETE_SHARE must be between 0 and 1/],
    ['WORKER_METRICS_PORT', '-1', /WORKER_METRICS_PORT must be between 0 and 65535/],
    ['WORKER_METRICS_PORT', 'metrics', /WORKER_METRICS_PORT must be a port number/],
    ['SYNC_LOG_RETENTION_DAYS', '0', /SYNC_LOG_RETENTION_DAYS must be positive/],
    ['SYNC_LOG_RETENTION_DAYS', '-1', /SYNC_LOG_RETENTION_DAYS must be positive/],
    ['SYNC_LOG_RETENTION_DAYS', 'ninety', /SYNC_LOG_RETENTION_DAYS must be a number of days/],
  ])('names the variable when %s=%s', (name, value, message) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ [name]: value })).toThrow(message);
  });

  it('keeps 90 days of sync history by default and takes a fraction of a day', () => {
    expect(parseConfig({}).SYNC_LOG_RETENTION_DAYS).toBe(90);
    // A soak of minutes can only watch retention work with a window of seconds (0.0005 ≈ 43 s).
    expect(parseConfig({ SYNC_LOG_RETENTION_DAYS: '0.0005' }).SYNC_LOG_RETENTION_DAYS).toBe(0.0005);
    expect(parseConfig({ SYNC_LOG_RETENTION_DAYS: '30' }).SYNC_LOG_RETENTION_DAYS).toBe(30);
  });

  it('treats empty values as unset', () => {
    const config = parseConfig({ STASH_URL: '', API_TOKEN: ' ' });
    expect(config.STASH_URL).toBeUndefined();
    expect(config.API_TOKEN).toBeUndefined();
  });
});
