import { defineConfig } from 'vitest/config';

// End-to-end tests against the real control plane built from source (docs/development.md).
// One cluster per run (globalSetup), one worker: tests share cluster-scoped objects.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    // The first run may build the binaries (many minutes) inside globalSetup.
    hookTimeout: 60 * 60_000,
    testTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
