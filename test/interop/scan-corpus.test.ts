// The scanner corpus (test/fixtures/model-scanning/corpus) is what the real libraries write: re-run its
// generator (scripts/scan-corpus/run.sh: numpy, scikit-learn, joblib, h5py, Keras, ONNX, gguf,
// safetensors, xgboost, LightGBM from PyPI, pinned, in a cached virtualenv) and check the committed files
// still match — byte for byte where the bytes are reproducible (manifest.json `stable`), otherwise by
// what modelgate says about them (format, verdict, rules). A library upgrade that changes what it
// writes shows up here, and the corpus is regenerated with it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { scanPaths } from '../../src/scanning/index.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const committed = join(repo, 'test/fixtures/model-scanning/corpus');
const tmp = mkdtempSync(join(tmpdir(), 'modelgate-corpus-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Manifest = Record<string, { sha256: string; stable: boolean }>;
const manifest = (dir: string): Manifest =>
  JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;

describe('scanner corpus generator (scripts/scan-corpus)', () => {
  it('writes the committed corpus again', { timeout: 1_800_000 }, async () => {
    const fresh = join(tmp, 'corpus');
    execFileSync('bash', [join(repo, 'scripts/scan-corpus/run.sh'), fresh], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 1_700_000,
    });
    expect(readFileSync(join(fresh, 'CORPUS.md'), 'utf8')).toBe(
      readFileSync(join(committed, 'CORPUS.md'), 'utf8'),
    );
    const want = manifest(committed);
    const got = manifest(fresh);
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    const changed = Object.keys(want).filter((f) => want[f]?.stable && got[f]?.sha256 !== want[f]?.sha256);
    expect(
      changed,
      'reproducible files whose bytes changed: regenerate with scripts/scan-corpus/run.sh',
    ).toEqual([]);
    const unstable = Object.keys(want).filter((f) => !want[f]?.stable);
    const summary = async (dir: string) =>
      (await scanPaths(unstable.map((f) => join(dir, f)))).map((r) => ({
        format: r.format,
        verdict: r.verdict,
        rules: [...new Set(r.findings.map((f) => f.rule))].sort(),
      }));
    expect(await summary(fresh)).toEqual(await summary(committed));
  });
});
