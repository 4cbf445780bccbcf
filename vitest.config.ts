import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real daemons and namespaces: keep parallelism at the machine's two cores.
    maxWorkers: 2,
    snapshotFormat: { escapeString: false },
  },
});
