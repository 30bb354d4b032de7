import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Temporal's native bridge has crashed under worker threads: run each file in a forked process.
    pool: 'forks',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
