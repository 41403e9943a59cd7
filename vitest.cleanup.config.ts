import { defineConfig } from 'vitest/config';

// The host-cleanliness test of the local cluster (test/cluster/cleanup.test.ts): starts and stops a cluster
// with the real node and compares the host before and after. Root only; runs from the host's namespaces.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    hookTimeout: 60 * 60_000,
    testTimeout: 30 * 60_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
