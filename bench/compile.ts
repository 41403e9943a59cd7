// Benchmarks run modelgate as production does: compiled to JavaScript by tsc, not through the tsx
// loader (whose esbuild output wraps every function it creates in a naming helper, and which every
// worker thread would have to load too).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * Compile `entries` (paths under src/, with their imports) into .cache/<name>/dist, keeping src's
 * layout; returns the dist directory.
 */
export function compileSources(name: string, entries: readonly string[]): string {
  const out = join(ROOT, '.cache', name);
  mkdirSync(out, { recursive: true });
  writeFileSync(
    join(out, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../tsconfig.json',
      compilerOptions: { noEmit: false, rootDir: '../../src', outDir: './dist', sourceMap: false },
      files: entries.map((e) => `../../src/${e}`),
      include: [],
    }),
  );
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(out, 'tsconfig.json')],
    { stdio: 'inherit' },
  );
  return join(out, 'dist');
}
