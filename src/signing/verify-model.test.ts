import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyModel, type VerifyModelOptions } from './index.ts';
import type { TrustMaterial } from './trust.ts';
import {
  certTrust,
  CLI_TESTS,
  KINDS,
  keylessTrust,
  keyTrust,
  OMS,
  read,
  VERSIONS,
} from './fixtures.test-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'modelgate-verify-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
/** A writable copy of a fixture directory. */
function copyOf(dir: string): string {
  const to = join(tmp, `${n++}`, dir);
  cpSync(join(CLI_TESTS, dir), to, { recursive: true });
  chmodSync(to, 0o755);
  for (const f of ['signme-1', 'signme-2', 'ignore-me', 'model.sig']) {
    try {
      chmodSync(join(to, f), 0o644);
    } catch {
      /* not in every fixture */
    }
  }
  return to;
}

const inline: VerifyModelOptions = { workers: 0 };
async function check(dir: string, trust: TrustMaterial, options: VerifyModelOptions = {}, bundleDir = dir) {
  const model = dir.startsWith('/') ? dir : join(CLI_TESTS, dir);
  const bundlePath = join(bundleDir.startsWith('/') ? bundleDir : join(CLI_TESTS, bundleDir), 'model.sig');
  // Single-file fixtures: the model is signme-1, the bundle sits beside it.
  const single = /elliptic-key$/.test(dir) && /v0\.3\.1|v1\.0\.0/.test(dir);
  return verifyModel(single ? join(model, 'signme-1') : model, read(bundlePath), trust, {
    ...inline,
    bundlePath,
    ...options,
  });
}

describe('verifyModel on every model_signing release (SOURCES.md §1)', () => {
  const extraIgnore = new Set(['v1.0.1-certificate', 'v1.0.1-elliptic-key', 'v1.0.1-sigstore']);
  const cases = VERSIONS.flatMap((v) =>
    Object.entries(KINDS).map(([kind, trust]) => ({ dir: `${v}-${kind}`, trust })),
  ).filter((c) => c.dir !== 'v0.2.0-elliptic-key' && c.dir !== 'v0.2.0-sigstore');
  it.each(cases)('$dir is valid', async ({ dir, trust }) => {
    const r = await check(dir, trust, extraIgnore.has(dir) ? { ignorePaths: ['ignore-me'] } : {});
    expect(r.reason).toBe('');
    expect(r.verdict).toBe('valid');
  });
  it.each([...extraIgnore])('%s without the extra ignore path names the extra file', async (dir) => {
    const trust = KINDS[dir.replace(/^v1\.0\.1-/, '') as keyof typeof KINDS];
    const r = await check(dir, trust);
    expect(r.verdict).toBe('invalid');
    expect(r.extra).toEqual(['ignore-me']);
    expect(r.reason).toMatch(/extra file not covered by the signature: "ignore-me"/);
  });
  it('v1.1.0-certificate is valid with or without ignoring ignore-me (recorded in the signature)', async () => {
    expect((await check('v1.1.0-certificate', certTrust, { ignorePaths: ['ignore-me'] })).valid).toBe(true);
    expect((await check('v1.1.0-certificate', certTrust)).valid).toBe(true);
  });
  it('reports the pinned digest and checks it', async () => {
    const r = await check('v1.1.0-elliptic-key', keyTrust, {
      expectDigest: 'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4',
    });
    expect(r.valid).toBe(true);
    expect(r.digest).toBe('sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4');
    const bad = await check('v1.1.0-elliptic-key', keyTrust, { expectDigest: `sha256:${'0'.repeat(64)}` });
    expect(bad.reason).toMatch(/does not match the pinned digest/);
    expect((await check('v1.1.0-elliptic-key', keyTrust, { expectDigest: 'md5:abc' })).verdict).toBe(
      'unusable',
    );
  });
});

describe('OMS vectors paired with models (SOURCES.md §3)', () => {
  const model = join(CLI_TESTS, 'v1.1.0-elliptic-key');
  it.each([
    ['valid/key.bundle.json', keyTrust],
    ['valid/certificate.bundle.json', certTrust],
  ] as const)('%s verifies the v1.1.0-elliptic-key model', async (file, trust) => {
    const r = await verifyModel(model, read(OMS + file), trust, { ...inline, ignorePaths: ['model.sig'] });
    expect(r.reason).toBe('');
  });
  it('valid/sigstore.bundle.json verifies the v1.1.0-sigstore model', async () => {
    const r = await verifyModel(
      join(CLI_TESTS, 'v1.1.0-sigstore'),
      read(`${OMS}valid/sigstore.bundle.json`),
      keylessTrust,
      { ...inline, ignorePaths: ['model.sig'] },
    );
    expect(r.reason).toBe('');
  });
  it('valid/certificate.bundle.json against the v1.1.0-certificate model: signme-1 mismatch', async () => {
    const r = await verifyModel(
      join(CLI_TESTS, 'v1.1.0-certificate'),
      read(`${OMS}valid/certificate.bundle.json`),
      certTrust,
      { ...inline, ignorePaths: ['model.sig'] },
    );
    expect(r.changed).toEqual(['signme-1']);
  });
  it('wrong-predicate is rejected', async () => {
    const r = await verifyModel(
      model,
      read(`${OMS}invalid-payload/wrong-predicate.bundle.json`),
      keyTrust,
      inline,
    );
    expect(r.verdict).toBe('invalid');
  });
});

describe('tampered models (SOURCES.md §1 negative cases)', () => {
  it('content changed ("signme-1\\r\\n"): digest mismatch signme-1', async () => {
    const d = copyOf('v1.1.0-elliptic-key');
    writeFileSync(join(d, 'signme-1'), 'signme-1\r\n');
    const r = await check(d, keyTrust);
    expect(r.changed).toEqual(['signme-1']);
    expect(r.reason).toMatch(/digest mismatch: "signme-1"/);
  });
  it('new file extra.bin: extra (valid when unsigned files are ignored)', async () => {
    const d = copyOf('v1.1.0-elliptic-key');
    writeFileSync(join(d, 'extra.bin'), 'x');
    expect((await check(d, keyTrust)).extra).toEqual(['extra.bin']);
    expect((await check(d, keyTrust, { ignoreUnsignedFiles: true })).valid).toBe(true);
  });
  it('signme-2 deleted: missing', async () => {
    const d = copyOf('v1.1.0-elliptic-key');
    unlinkSync(join(d, 'signme-2'));
    const r = await check(d, keyTrust);
    expect(r.missing).toEqual(['signme-2']);
    expect(r.reason).toMatch(/missing file: "signme-2"/);
  });
  it('signme-2 renamed to signme-3: missing and extra', async () => {
    const d = copyOf('v1.1.0-elliptic-key');
    renameSync(join(d, 'signme-2'), join(d, 'signme-3'));
    const r = await check(d, keyTrust);
    expect([r.missing, r.extra]).toEqual([['signme-2'], ['signme-3']]);
  });
  it('.git/HEAD and .gitignore at the top level: still valid', async () => {
    const d = copyOf('v1.1.0-elliptic-key');
    mkdirSync(join(d, '.git'));
    writeFileSync(join(d, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(d, '.gitignore'), '*.tmp\n');
    expect((await check(d, keyTrust)).valid).toBe(true);
  });
  it('a path the servers read must be covered: not under an ignore path, not unlisted (H65)', async () => {
    // v1.1.0-certificate records "ignore-me" in the signed statement: the file there is accepted unchecked.
    const ok = await check('v1.1.0-certificate', certTrust, { readPaths: ['', 'signme-1', 'signme-2'] });
    expect(ok.reason).toBe('');
    const ignored = await check('v1.1.0-certificate', certTrust, { readPaths: ['signme-1', 'ignore-me'] });
    expect(ignored.verdict).toBe('invalid');
    expect(ignored.reason).toMatch(
      /servers read "ignore-me" of the model, which its signature does not cover/,
    );
    const d = copyOf('v1.1.0-elliptic-key');
    mkdirSync(join(d, '.git'));
    writeFileSync(join(d, '.git', 'evil.gguf'), 'GGUF');
    expect((await check(d, keyTrust)).valid).toBe(true);
    const git = await check(d, keyTrust, { readPaths: ['.git/evil.gguf'] });
    expect(git.verdict).toBe('invalid');
    expect(git.reason).toContain('(.git)');
    expect((await check(d, keyTrust, { readPaths: ['nothing-here'] })).reason).toContain('lists no file');
  });
  it('sub/.git: extra (git ignores are top-level only)', async () => {
    const d = copyOf('v1.1.0-elliptic-key');
    mkdirSync(join(d, 'sub'));
    writeFileSync(join(d, 'sub', '.git'), 'gitdir: ../x\n');
    expect((await check(d, keyTrust)).extra).toEqual(['sub/.git']);
  });
  it('symlink link -> signme-1: refused by default', async () => {
    const d = copyOf('v1.1.0-elliptic-key');
    symlinkSync('signme-1', join(d, 'link'));
    const r = await check(d, keyTrust);
    expect(r.verdict).toBe('invalid');
    expect(r.reason).toMatch(/symbolic link not allowed: link/);
    // Allowed, it is followed, and then it is an unsigned extra file.
    expect((await check(d, keyTrust, { allowSymlinks: true })).extra).toEqual(['link']);
  });
  it('v1.1.0-sigstore bundle against the v1.1.0-elliptic-key model: signme-1 mismatch', async () => {
    const r = await check('v1.1.0-elliptic-key', keylessTrust, {}, 'v1.1.0-sigstore');
    expect(r.changed).toEqual(['signme-1']);
  });
  it('a missing model is unusable input, not a crash', async () => {
    const r = await verifyModel(
      join(tmp, 'nope'),
      read(join(CLI_TESTS, 'v1.1.0-elliptic-key', 'model.sig')),
      keyTrust,
      inline,
    );
    expect(r.verdict).toBe('unusable');
  });
});
