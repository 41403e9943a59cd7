import { defineConfig } from 'vitest/config';

// Unit and component tests: fast, no cluster, no network beyond 127.0.0.1.
export default defineConfig({
  test: {
    include: [
      'src/**/*.test.ts',
      'test/unit/**/*.test.ts',
      'test/redteam/**/*.test.ts',
      'scripts/**/*.test.ts',
    ],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
