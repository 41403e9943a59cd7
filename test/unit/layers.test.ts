// Layers point one way (docs/architecture.md, "Map of src/"): a folder imports only folders of a lower
// layer, never one beside or above it. Production files only; tests and test support may reach anywhere.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

/** Lowest first. The order docs/architecture.md states. */
const LAYERS: readonly string[][] = [
  ['json'],
  ['api'],
  ['workloads', 'hashing', 'scanning'],
  ['signing'],
  ['oci'],
  ['policy'],
  ['mutation', 'kube'],
  ['telemetry', 'policy-store'],
  ['webhook', 'controller', 'verifier'],
  ['cli'],
];
const rank = new Map(LAYERS.flatMap((folders, i) => folders.map((f) => [f, i] as const)));

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts') && !/\.test\.ts$|\.test-support\.ts$/.test(e.name)) yield p;
  }
}

const folderOf = (file: string) => relative(SRC, file).split('/')[0]!;

describe('layers', () => {
  it('every folder of src/ has a layer, and docs/architecture.md maps each', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !rank.has(f))).toEqual([]);
    const doc = readFileSync(join(SRC, '..', 'docs', 'architecture.md'), 'utf8');
    expect(folders.filter((f) => !doc.includes(`| \`${f}/\` |`))).toEqual([]);
  });

  it('no import runs to a folder beside or above its own', () => {
    const wrong: string[] = [];
    for (const file of sources(SRC)) {
      const from = folderOf(file);
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = normalize(join(dirname(file), m[1]!));
        const to = folderOf(target);
        if (to === from || to.startsWith('..')) continue;
        if ((rank.get(to) ?? Infinity) >= (rank.get(from) ?? -1))
          wrong.push(`${relative(SRC, file)} imports ${relative(SRC, target)} (${from} → ${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
