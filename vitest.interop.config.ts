import { defineConfig } from 'vitest/config';

// Interop with the real OpenSSF model_signing tool (PyPI), run from a virtualenv that
// scripts/venv-model-signing.sh creates beforehand. Slow: minutes, not seconds.
export default defineConfig({
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
