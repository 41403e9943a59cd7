import { defineConfig } from 'vitest/config';

// Helm chart tests: helm lint / helm template over the chart, no cluster. helm comes from the local
// control-plane build (scripts/cluster/build.sh); the suite fails first with that command if it is
// missing. The chart's behaviour on a real API server is in test/e2e/chart.test.ts.
export default defineConfig({
  test: {
    include: ['test/chart/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
