import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The lab runs alone (vitest.lab.config.ts): its timings must not share the CPU with the
    // rest of the suite.
    exclude: ['test/lab/**', '**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Real daemons and namespaces: keep parallelism at the machine's two cores.
    maxWorkers: 2,
    snapshotFormat: { escapeString: false },
  },
});
