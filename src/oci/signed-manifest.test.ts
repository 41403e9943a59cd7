import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseImageManifest } from './manifest.ts';
import {
  ociManifestResources,
  OciSigningError,
  signOciManifest,
  statementCoversManifest,
  type StatementResources,
} from './signed-manifest.ts';
import { loadSigner } from '../signing/sign.ts';
import { verifyBundleSignature } from '../signing/verify-signature.ts';

const FIXTURES = join(import.meta.dirname, '../../test/fixtures/oci');
const read = (f: string) => readFileSync(join(FIXTURES, f));
const expected = JSON.parse(read('expected-statements.json').toString('utf8')) as Record<
  string,
  Record<string, { rootDigest: string; resources: { name: string; algorithm: string; digest: string }[] }>
>;
const key = { method: 'key' as const, publicKeyPem: read('signing-key.pub').toString('utf8') };
const signer = loadSigner(read('signing-key.pem').toString('utf8'));
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('the resources a statement must list (golden vectors)', () => {
  it.each(['image-manifest.json', 'modelpack-manifest.json'])('%s', (file) => {
    const sets = ociManifestResources(parseImageManifest(read(file)));
    const want = expected[file]!;
    expect(
      Object.fromEntries(sets.map((s) => [s.naming, { rootDigest: s.rootDigest, resources: s.resources }])),
    ).toEqual(want);
  });
});

describe('a statement the Go CLI writes (go-style-statement.json and its bundle)', () => {
  const verdict = verifyBundleSignature(read('go-style-statement.sig'), key);
  it('verifies and covers image-manifest.json', () => {
    expect(verdict.valid).toBe(true);
    if (!verdict.valid) return;
    expect(verdict.statement.subjectDigest.hex).toBe(expected['image-manifest.json']!.modelgate!.rootDigest);
    const sets = ociManifestResources(parseImageManifest(read('image-manifest.json')));
    expect(statementCoversManifest(verdict.statement, sets)).toEqual({ covered: true, naming: 'modelgate' });
  });
  it('does not cover the ModelPack manifest', () => {
    if (!verdict.valid) throw new Error('fixture does not verify');
    const sets = ociManifestResources(parseImageManifest(read('modelpack-manifest.json')));
    const v = statementCoversManifest(verdict.statement, sets);
    expect(v.covered).toBe(false);
  });
});

describe('statementCoversManifest', () => {
  const sets = ociManifestResources(parseImageManifest(read('modelpack-manifest.json')));
  const stmt = (
    resources: { name: string; digest: string }[],
    over: Partial<StatementResources> = {},
  ): StatementResources => ({
    predicateType: 'https://model_signing/signature/v1.0',
    serialization: { method: 'files', hashType: 'sha256' },
    resources,
    ...over,
  });
  const ours = expected['modelpack-manifest.json']!.modelgate!.resources;
  const theirs = expected['modelpack-manifest.json']!['model-signing']!.resources;

  it('accepts either naming in full', () => {
    expect(statementCoversManifest(stmt(ours), sets)).toEqual({ covered: true, naming: 'modelgate' });
    expect(statementCoversManifest(stmt(theirs), sets)).toEqual({ covered: true, naming: 'model-signing' });
  });
  it('refuses a mix of the two namings', () => {
    const mixed = [theirs[0]!, theirs[1]!, ours[1]!, ours[3]!];
    expect(statementCoversManifest(stmt(mixed), sets).covered).toBe(false);
  });
  it('refuses a missing config, an extra resource, a changed digest', () => {
    expect(statementCoversManifest(stmt(ours.slice(1)), sets)).toMatchObject({
      covered: false,
      reason: /not signed: config.json/,
    });
    expect(
      statementCoversManifest(stmt([...ours, { name: 'x', digest: 'f'.repeat(64) }]), sets),
    ).toMatchObject({
      reason: /signed but not in the manifest: x/,
    });
    const changed = ours.map((r, i) => (i === 2 ? { ...r, digest: 'f'.repeat(64) } : r));
    expect(statementCoversManifest(stmt(changed), sets)).toMatchObject({
      reason: /different digest for weights/,
    });
  });
  it('refuses another predicate or serialization', () => {
    expect(
      statementCoversManifest(stmt(ours, { predicateType: 'https://model_signing/Digests/v0.1' }), sets)
        .covered,
    ).toBe(false);
    expect(
      statementCoversManifest(stmt(ours, { serialization: { method: 'shards', hashType: 'sha256' } }), sets)
        .covered,
    ).toBe(false);
  });
});

describe('manifests no signature can cover', () => {
  const base = JSON.parse(read('image-manifest.json').toString('utf8')) as {
    layers: { annotations?: Record<string, string> }[];
  };
  const withTitle = (title: string) => {
    const m = structuredClone(base);
    m.layers[2]!.annotations = { 'org.opencontainers.image.title': title };
    return parseImageManifest(enc(m));
  };
  it.each([
    ['../etc/passwd', /not a relative path/],
    ['/abs/path', /absolute/],
    ['a/./b', /not a relative path/],
    ['a\\b', /backslash/],
    ['a\u0000b', /control/],
    ['model.safetensors', /like layer 0/],
    ['config.json', /like the config blob/],
  ])('a layer titled %j', (title, why) => {
    expect(() => ociManifestResources(withTitle(title))).toThrow(why);
    expect(() => ociManifestResources(withTitle(title))).toThrow(OciSigningError);
  });
  it('a manifest without layers', () => {
    const m = structuredClone(base) as { layers: unknown[] };
    m.layers = [];
    expect(() => ociManifestResources(parseImageManifest(enc(m)))).toThrow(/no layer/);
  });
});

describe('signOciManifest', () => {
  it('signs what it would verify, with the Go CLI serialization', () => {
    const s = signOciManifest(read('image-manifest.json'), signer, 'image-manifest');
    expect(s.subjectDigest).toBe(`sha256:${expected['image-manifest.json']!.modelgate!.rootDigest}`);
    expect(s.warnings).toEqual([]);
    const v = verifyBundleSignature(s.bundle, key);
    expect(v.valid).toBe(true);
    if (!v.valid) return;
    expect(v.statement.serialization).toEqual({ method: 'files', hashType: 'sha256', allowSymlinks: false });
    expect(v.statement.ignorePaths).toEqual([]);
    expect(
      statementCoversManifest(
        v.statement,
        ociManifestResources(parseImageManifest(read('image-manifest.json'))),
      ),
    ).toMatchObject({ covered: true });
  });
  it('warns when the Go CLI would name a layer differently', () => {
    const s = signOciManifest(read('modelpack-manifest.json'), signer, 'mp');
    expect(s.warnings.join()).toMatch(/layer_NNN/);
  });
});
