#!/usr/bin/env node
// Single entry point for every mode (sign, verify, scan, check, webhook, controller).
// In a checkout (src/ present) it runs the TypeScript sources through tsx, so an edit always takes effect —
// unless dist/ was built after the newest source file. In a built package or the container image (no src/)
// it runs the compiled dist/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'cli', 'index.js');
const sources = join(root, 'src', 'cli', 'index.ts');

/** Newest modification time of any file under `dir` (0 when there is none). */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

const useDist =
  existsSync(compiled) && (!existsSync(sources) || statSync(compiled).mtimeMs >= newest(join(root, 'src')));
if (useDist) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(sources).href);
}
