// OMS v1.0 rules for signers and verifiers, and the corners found side by side with model_signing:
// listed files are checked even where an ignore path would skip them, non-UTF-8 names, empty models,
// symbolic links to directories, resource order and names, and the warnings `sign` gives.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walkModel } from '../hashing/walk.ts';
import { buildStatement, parseStatement } from './statement.ts';
import { loadSigner, signModel, signPayload, SignRefusedError } from './sign.ts';
import { verifyBundleSignature } from './verify-signature.ts';
import { verifyModel } from './verify-model.ts';
import { hashModel } from '../hashing/model.ts';

const tmp = mkdtempSync(join(tmpdir(), 'modelgate-oms-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function model(files: Record<string, string>): string {
  const root = join(tmp, `m${n++}`, 'model');
  mkdirSync(root, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  return root;
}

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = loadSigner(ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const trust = {
  method: 'key',
  publicKeyPem: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
} as const;

/** A bundle over a statement listing exactly `files` of `root` (as a model_signing 1.0 signer would). */
async function signListing(root: string, ignorePaths: string[]): Promise<Uint8Array> {
  const manifest = await hashModel(root, {
    method: 'files',
    hashType: 'sha256',
    ignorePaths,
    allowSymlinks: false,
    workers: 0,
  });
  const statement = buildStatement(manifest, { method: 'files', hashType: 'sha256', allowSymlinks: false });
  return signPayload(new TextEncoder().encode(JSON.stringify(statement)), signer);
}

describe('files the signature lists are checked even when an ignore path covers them', () => {
  it('a model_signing 1.0 bundle that signed .gitattributes and .git/ verifies, and tampering shows', async () => {
    const root = model({ 'w.bin': 'weights', '.gitattributes': '* -text', '.git/HEAD': 'ref: main' });
    const bundle = await signListing(root, []);
    expect((await verifyModel(root, bundle, trust)).reason).toBe('');
    // An unlisted file under the same ignored directory stays ignored.
    writeFileSync(join(root, '.git', 'index'), 'unlisted');
    expect((await verifyModel(root, bundle, trust)).reason).toBe('');
    writeFileSync(join(root, '.gitattributes'), '* text');
    expect((await verifyModel(root, bundle, trust)).changed).toEqual(['.gitattributes']);
    unlinkSync(join(root, '.git', 'HEAD'));
    const v = await verifyModel(root, bundle, trust);
    expect(v.missing).toEqual(['.git/HEAD']);
  });
  it('an operator --ignore-path does not excuse a listed file', async () => {
    const root = model({ 'w.bin': 'weights', 'cache/x': 'signed' });
    const bundle = await signListing(root, []);
    writeFileSync(join(root, 'cache', 'x'), 'changed');
    const v = await verifyModel(root, bundle, trust, { ignorePaths: ['cache'] });
    expect(v.changed).toEqual(['cache/x']);
  });
});

describe('file names that are not UTF-8', () => {
  const root = model({ 'w.bin': 'weights' });
  writeFileSync(Buffer.from(`${root}/bad-\xff.bin`, 'latin1'), 'x');
  it('sign refuses them with a clear error', async () => {
    await expect(signModel(root, signer, { workers: 0 })).rejects.toThrow(
      /file name "bad-\\xff\.bin" is not valid UTF-8.*rename it/,
    );
  });
  it('verify reports them as the reason, not a stack trace', async () => {
    const good = model({ 'w.bin': 'weights' });
    const { bundle } = await signModel(good, signer, { workers: 0 });
    writeFileSync(Buffer.from(`${good}/caf\xe9`, 'latin1'), 'x');
    const v = await verifyModel(good, bundle, trust);
    expect(v.verdict).toBe('invalid');
    expect(v.reason).toMatch(/file name "caf\\xe9" is not valid UTF-8/);
  });
  it('a real U+FFFD in a name is fine', async () => {
    const ok = model({ 'w\uFFFD.bin': 'x' });
    expect((await walkModel(ok, { ignorePaths: [], allowSymlinks: false })).files.map((f) => f.name)).toEqual(
      ['w\uFFFD.bin'],
    );
  });
});

describe('what sign refuses (OMS v1.0)', () => {
  it('a model with no regular file after exclusions (§6.1)', async () => {
    const root = model({ '.gitignore': 'x', 'only/skip': 'y' });
    await expect(signModel(root, signer, { ignorePaths: ['only'], workers: 0 })).rejects.toThrow(
      /nothing to sign: .* holds no regular file/,
    );
    const empty = join(tmp, 'empty-dir');
    mkdirSync(empty);
    await expect(signModel(empty, signer, { workers: 0 })).rejects.toBeInstanceOf(SignRefusedError);
  });
  it('a sharded model of empty files only (no resource at all, §5.2.1)', async () => {
    const root = model({ a: '', b: '' });
    await expect(signModel(root, signer, { method: 'shards', shardSize: 8, workers: 0 })).rejects.toThrow(
      /every file .* is empty/,
    );
  });
  it('a glob in an ignore path (§6.2.1)', async () => {
    const root = model({ a: 'a' });
    await expect(signModel(root, signer, { ignorePaths: ['*.bin'], workers: 0 })).rejects.toThrow(
      /glob character/,
    );
  });
  it('a symbolic link to a directory, which model_signing does not follow', async () => {
    const root = model({ a: 'a' });
    const outside = join(root, '..', 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'w.bin'), 'w');
    symlinkSync(outside, join(root, 'linked'));
    await expect(signModel(root, signer, { allowSymlinks: true, workers: 0 })).rejects.toThrow(
      /symbolic link to a directory: linked; model_signing does not follow/,
    );
  });
  it('a verifier refuses a statement that lists no resource', () => {
    const statement = buildStatement(
      {
        modelName: 'm',
        resources: [],
        rootDigest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
      { method: 'files', hashType: 'sha256', allowSymlinks: false },
    );
    expect(() => parseStatement(new TextEncoder().encode(JSON.stringify(statement)))).toThrow(
      /resources is empty/,
    );
  });
});

describe('what sign writes and warns about', () => {
  it('resources in code point order of their names, shards labelled with the hash name', async () => {
    const root = model({ 'tokenizer.json': '{}', 'tokenizer/vocab.json': '[]', 'w.bin': 'x'.repeat(100) });
    const signed = await signModel(root, signer, { method: 'shards', shardSize: 8, workers: 0 });
    const v = verifyBundleSignature(signed.bundle, trust);
    if (!v.valid) throw new Error(v.reason);
    const names = v.statement.resources.map((r) => r.name);
    expect(names.slice(0, 2)).toEqual(['tokenizer.json:0:2', 'tokenizer/vocab.json:0:2']);
    expect(names.filter((x) => x.startsWith('w.bin')).slice(0, 3)).toEqual([
      'w.bin:0:8',
      'w.bin:16:24',
      'w.bin:24:32',
    ]);
    const payload = JSON.parse(
      Buffer.from(
        JSON.parse(Buffer.from(signed.bundle).toString()).dsseEnvelope.payload,
        'base64',
      ).toString(),
    );
    expect(new Set(payload.predicate.resources.map((r: { algorithm: string }) => r.algorithm))).toEqual(
      new Set(['sha256']),
    );
    expect(payload.predicate.serialization.shard_size).toBe(8);
    expect((await verifyModel(root, signed.bundle, trust)).reason).toBe('');
    expect(signed.warnings.join('\n')).toMatch(/model_signing cannot verify this sharded bundle/);
  });
  it('a single-file model is named by its file name, and verifies', async () => {
    const root = model({ 'model.gguf': 'gguf' });
    const file = join(root, 'model.gguf');
    const signed = await signModel(file, signer, { workers: 0 });
    expect(signed.manifest.resources.map((r) => r.name)).toEqual(['model.gguf']);
    expect(signed.warnings.join('\n')).toMatch(/single-file model/);
    expect((await verifyModel(file, signed.bundle, trust)).reason).toBe('');
    writeFileSync(file, 'changed');
    expect((await verifyModel(file, signed.bundle, trust)).changed).toEqual(['model.gguf']);
  });
  it('warns for BLAKE2, BLAKE3, Ed25519 and links out of the model; not for the plain case', async () => {
    const root = model({ a: 'a' });
    expect((await signModel(root, signer, { workers: 0 })).warnings).toEqual([]);
    expect((await signModel(root, signer, { hashType: 'blake2b', workers: 0 })).warnings.join()).toMatch(
      /cannot verify BLAKE2/,
    );
    expect((await signModel(root, signer, { hashType: 'blake3', workers: 0 })).warnings.join()).toMatch(
      /verifies only SHA-256/,
    );
    const ed = loadSigner(
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
    expect((await signModel(root, ed, { workers: 0 })).warnings.join()).toMatch(/only ECDSA keys/);
    writeFileSync(join(root, '..', 'target'), 't');
    symlinkSync(join(root, '..', 'target'), join(root, 'link'));
    expect((await signModel(root, signer, { allowSymlinks: true, workers: 0 })).warnings.join()).toMatch(
      /symbolic link link leads outside the model directory/,
    );
  });
});
