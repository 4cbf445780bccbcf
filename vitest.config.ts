import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/setup/private-cache.ts'],
    include: ['test/**/*.test.ts'],
    // The lab runs alone (vitest.lab.config.ts): its timings must not share the CPU with the
    // rest of the suite.
    exclude: ['test/lab/**', '**/node_modules/**'],
    // No test may depend on an idle machine. Every blocking step is bounded by its own kill
    // timer, which says what hung (run(): SIGKILL at timeoutMs; a checker host view at
    // HOST_TIMEOUT_MS in lib/check/run.ts; spawnSync's timeout), and a test of several such steps
    // takes their sum. The runner's timeout is only the backstop for a hang outside them, so it is
    // far above any of them: a 60 s budget for eight host views failed on a busy machine.
    testTimeout: 900_000,
    hookTimeout: 900_000,
    // Real daemons and namespaces: keep parallelism at the machine's two cores.
    maxWorkers: 2,
    snapshotFormat: { escapeString: false },
  },
});
