import { defineConfig } from 'vitest/config';

// The lab suite: the whole CDN in network namespaces, one file at a time, nothing in parallel.
export default defineConfig({
  test: {
    globalSetup: ['test/setup/private-cache.ts'],
    include: ['test/lab/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
