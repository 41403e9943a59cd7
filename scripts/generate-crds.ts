// Writes crds/*.yaml from src/api/schema.ts (the single source of truth).
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrds } from '../src/api/crd.ts';

const dir = join(import.meta.dirname, '..', 'crds');
mkdirSync(dir, { recursive: true });
for (const f of renderCrds()) {
  writeFileSync(join(dir, f.fileName), f.content);
  console.log(`wrote crds/${f.fileName}`);
}
