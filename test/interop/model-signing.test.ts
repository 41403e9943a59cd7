// Interop with the real OpenSSF model_signing (PyPI, pinned in scripts/venv-model-signing.sh): it signs
// random models that modelgate verifies, and it verifies what modelgate signs. Key and certificate
// methods; files and shards (shards and other hashes only through its Python API: its CLI has no flag).
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  loadSigner,
  signModel,
  verifyBundleSignature,
  verifyModel,
  type TrustMaterial,
} from '../../src/signing/index.ts';
import { makePki, type TestPki } from '../../src/signing/pki.test-support.ts';
import { compareCodePoints } from '../../src/hashing/manifest.ts';

const VERSION = process.env.MODEL_SIGNING_VERSION ?? '1.1.1';
const VENV_BIN = join(
  process.env.MODELGATE_CACHE ?? join(homedir(), '.cache', 'modelgate'),
  'venv',
  `model-signing-${VERSION}`,
  'bin',
);
const API = fileURLToPath(new URL('./model_signing_api.py', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'modelgate-interop-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function modelSigningCli(args: string[]): { status: number; output: string } {
  const r = spawnSync(join(VENV_BIN, 'model_signing'), args, { encoding: 'utf8', cwd: tmp });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}
function modelSigningApi(args: Record<string, unknown>): { status: number; output: string } {
  const r = spawnSync(join(VENV_BIN, 'python'), [API, JSON.stringify(args)], { encoding: 'utf8', cwd: tmp });
  return { status: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

let seed = Number(process.env.INTEROP_SEED ?? Date.now() % 1_000_000);
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};

/** A random model with names whose order differs between plain string sort and path-part sort. */
let models = 0;
function randomModel(shardSize = 4096): string {
  const root = join(tmp, `model-${models++}`);
  const names = [
    'a-b',
    'a.b',
    'a/b',
    'a/c/d.bin',
    'a b.bin',
    'Z',
    '_x',
    'ä.bin',
    'deep/1/2/3/w.safetensors',
    'empty',
  ];
  for (let i = 0; i < 3 + rand(6); i++) names.push(`dir${rand(3)}/f${i}.bin`);
  const sizes = [0, 1, shardSize - 1, shardSize, shardSize + 1, 3 * shardSize];
  for (const name of new Set(names)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    const size = name === 'empty' ? 0 : rand(2) ? (sizes[rand(sizes.length)] ?? 0) : rand(5 * shardSize);
    writeFileSync(join(root, name), randomBytes(size));
  }
  return root;
}

/** Changes a file's content: flips its first byte, or gives an empty file one byte (random sizes include 0). */
function flipByte(path: string): void {
  const b = readFileSync(path);
  if (b.length === 0) return writeFileSync(path, Buffer.of(0));
  b[0] = (b[0] ?? 0) ^ 1;
  writeFileSync(path, b);
}

let pki: TestPki;
const keys = { priv: '', pub: '' };
const trustKey = (): TrustMaterial => ({ method: 'key', publicKeyPem: readFileSync(keys.pub, 'utf8') });
const trustCa = (): TrustMaterial => ({ method: 'certificate', caCertificatesPem: pki.rootPem });

beforeAll(async () => {
  if (!existsSync(join(VENV_BIN, 'model_signing')))
    throw new Error(
      `model_signing ${VERSION} not found in ${VENV_BIN}: run scripts/venv-model-signing.sh first`,
    );
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  keys.priv = join(tmp, 'key.pem');
  keys.pub = join(tmp, 'key.pub');
  writeFileSync(keys.priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(keys.pub, publicKey.export({ type: 'spki', format: 'pem' }));
  pki = await makePki();
  for (const [name, pem] of Object.entries({
    'root.pem': pki.rootPem,
    'int.pem': pki.intermediatePem,
    'leaf.pem': pki.leafPem,
    'leaf-key.pem': pki.leafKeyPem,
  }))
    writeFileSync(join(tmp, name), pem);
  console.log(
    `interop seed ${seed}, model_signing ${execFileSync(join(VENV_BIN, 'python'), ['-c', 'import importlib.metadata as m; print(m.version("model-signing"))'], { encoding: 'utf8' }).trim()}`,
  );
});

describe('model_signing signs, modelgate verifies', () => {
  it('CLI, key method, files (bundle inside the model)', async () => {
    const model = randomModel();
    const sig = join(model, 'model.sig');
    const r = modelSigningCli(['sign', 'key', model, '--private_key', keys.priv, '--signature', sig]);
    expect(r.output).toMatch(/Signing succeeded/);
    const v = await verifyModel(model, readFileSync(sig), trustKey(), { bundlePath: sig });
    expect(v.reason).toBe('');
    flipByte(join(model, 'a/b'));
    expect((await verifyModel(model, readFileSync(sig), trustKey(), { bundlePath: sig })).changed).toEqual([
      'a/b',
    ]);
  });

  it('CLI, certificate method, files', async () => {
    const model = randomModel();
    const sig = join(tmp, `cert-${models}.sig`);
    const r = modelSigningCli([
      'sign',
      'certificate',
      model,
      '--private_key',
      join(tmp, 'leaf-key.pem'),
      '--signing_certificate',
      join(tmp, 'leaf.pem'),
      '--certificate_chain',
      join(tmp, 'int.pem'),
      '--signature',
      sig,
    ]);
    expect(r.output).toMatch(/Signing succeeded/);
    const v = await verifyModel(model, readFileSync(sig), trustCa(), { bundlePath: sig });
    expect(v.reason).toBe('');
    expect(v.signer).toBe('signer@example.com');
  });

  it.each([
    ['sha256', 'files'],
    ['blake2', 'files'],
    ['blake3', 'files'],
    ['sha256', 'shards'],
    ['blake2', 'shards'],
    ['blake3', 'shards'],
  ] as const)('API, key method, %s %s', async (hash, method) => {
    const shardSize = 1024 + rand(8192);
    const model = randomModel(shardSize);
    const sig = join(tmp, `api-${models}.sig`);
    const r = modelSigningApi({
      action: 'sign',
      model,
      signature: sig,
      method,
      hash,
      shard_size: shardSize,
      private_key: keys.priv,
    });
    expect(r.output).toBe('');
    const v = await verifyModel(model, readFileSync(sig), trustKey());
    expect(v.reason).toBe('');
    expect(v.statement?.serialization.hashType).toBe(hash === 'blake2' ? 'blake2b' : hash);
    rmSync(join(model, 'Z'));
    expect((await verifyModel(model, readFileSync(sig), trustKey())).verdict).toBe('invalid');
  });

  it('API, certificate method, shards', async () => {
    const model = randomModel(2048);
    const sig = join(tmp, `api-cert-${models}.sig`);
    const r = modelSigningApi({
      action: 'sign',
      model,
      signature: sig,
      method: 'shards',
      shard_size: 2048,
      private_key: join(tmp, 'leaf-key.pem'),
      signing_certificate: join(tmp, 'leaf.pem'),
      certificate_chain: [join(tmp, 'int.pem')],
    });
    expect(r.output).toBe('');
    expect((await verifyModel(model, readFileSync(sig), trustCa())).reason).toBe('');
  });

  it('modelgate builds the same resources (OMS order and labels aside) and each tool verifies the other', async () => {
    for (const method of ['files', 'shards'] as const) {
      const model = randomModel(1000);
      const sig = join(tmp, `same-${models}.sig`);
      expect(
        modelSigningApi({
          action: 'sign',
          model,
          signature: sig,
          method,
          shard_size: 1000,
          private_key: keys.priv,
        }).output,
      ).toBe('');
      const theirs = verifyBundleSignature(readFileSync(sig), trustKey());
      if (!theirs.valid) throw new Error(theirs.reason);
      const ours = await signModel(model, loadSigner(readFileSync(keys.priv, 'utf8')), {
        method,
        shardSize: 1000,
      });
      const mine = verifyBundleSignature(ours.bundle, trustKey());
      if (!mine.valid) throw new Error(mine.reason);
      // model_signing orders by path component and shard offset, OMS v1.0 §5.2.1 by code points; the
      // same names and digests either way.
      const byName = (rs: readonly { name: string; digest: string }[]) =>
        rs.map((r) => `${r.name} ${r.digest}`).sort();
      expect(byName(mine.statement.resources)).toEqual(byName(theirs.statement.resources));
      expect(mine.statement.resources.map((r) => r.name)).toEqual(
        [...theirs.statement.resources.map((r) => r.name)].sort(compareCodePoints),
      );
      expect((await verifyModel(model, ours.bundle, trustKey())).reason).toBe('');
    }
  });
});

describe('modelgate signs, model_signing verifies', () => {
  it('key method, files: model_signing verify key (CLI) accepts, and rejects a tampered copy', async () => {
    const model = randomModel();
    const sig = join(model, 'model.sig');
    const { bundle } = await signModel(model, loadSigner(readFileSync(keys.priv, 'utf8')), {
      bundlePath: sig,
    });
    writeFileSync(sig, bundle);
    const ok = modelSigningCli(['verify', 'key', model, '--signature', sig, '--public_key', keys.pub]);
    expect(ok.output).toMatch(/Verification succeeded/);
    expect(ok.status).toBe(0);
    flipByte(join(model, 'a-b'));
    expect(
      modelSigningCli(['verify', 'key', model, '--signature', sig, '--public_key', keys.pub]).status,
    ).toBe(1);
  });

  it('certificate method, files: model_signing verify certificate (CLI) accepts', async () => {
    const model = randomModel();
    const sig = join(tmp, `mg-cert-${models}.sig`);
    const { bundle } = await signModel(
      model,
      loadSigner(pki.leafKeyPem, pki.leafPem + pki.intermediatePem),
      {},
    );
    writeFileSync(sig, bundle);
    const r = modelSigningCli([
      'verify',
      'certificate',
      model,
      '--signature',
      sig,
      '--certificate_chain',
      join(tmp, 'root.pem'),
    ]);
    expect(r.output).toMatch(/Verification succeeded/);
  });

  it.each([
    ['blake3', 'shards'],
    ['blake3', 'files'],
  ] as const)('key method, %s %s: model_signing (API) accepts', async (hashType, method) => {
    const model = randomModel(4096);
    const sig = join(tmp, `mg-api-${models}.sig`);
    const { bundle } = await signModel(model, loadSigner(readFileSync(keys.priv, 'utf8')), {
      method,
      hashType,
      shardSize: 4096,
    });
    writeFileSync(sig, bundle);
    expect(modelSigningApi({ action: 'verify', model, signature: sig, public_key: keys.pub }).output).toBe(
      '',
    );
    flipByte(join(model, 'a.b'));
    expect(modelSigningApi({ action: 'verify', model, signature: sig, public_key: keys.pub }).status).toBe(1);
  });

  it('blake2b: model_signing 1.1.1 rejects it for our bundles exactly as for its own (upstream limitation)', async () => {
    // model_signing writes hash_type "blake2b" but its verifier only knows "blake2" (1.1.1).
    const model = randomModel(4096);
    const theirs = join(tmp, `ms-blake2-${models}.sig`);
    const ours = join(tmp, `mg-blake2-${models}.sig`);
    expect(
      modelSigningApi({
        action: 'sign',
        model,
        signature: theirs,
        method: 'files',
        hash: 'blake2',
        private_key: keys.priv,
      }).output,
    ).toBe('');
    writeFileSync(
      ours,
      (
        await signModel(model, loadSigner(readFileSync(keys.priv, 'utf8')), {
          method: 'files',
          hashType: 'blake2b',
        })
      ).bundle,
    );
    const a = modelSigningApi({ action: 'verify', model, signature: theirs, public_key: keys.pub });
    const b = modelSigningApi({ action: 'verify', model, signature: ours, public_key: keys.pub });
    expect(b).toEqual(a);
    // And both verify with modelgate.
    expect((await verifyModel(model, readFileSync(theirs), trustKey())).reason).toBe('');
    expect((await verifyModel(model, readFileSync(ours), trustKey())).reason).toBe('');
  });

  it('certificate method, files: model_signing (API) accepts', async () => {
    const model = randomModel(2048);
    const sig = join(tmp, `mg-api-cert-${models}.sig`);
    const { bundle } = await signModel(
      model,
      loadSigner(pki.leafKeyPem, pki.leafPem + pki.intermediatePem),
      {},
    );
    writeFileSync(sig, bundle);
    expect(
      modelSigningApi({ action: 'verify', model, signature: sig, ca: [join(tmp, 'root.pem')] }).output,
    ).toBe('');
  });
});

describe('interop corners (issue 14)', () => {
  it('a bundle that signed .gitattributes and .git/ (model_signing 1.0.x, or --no-ignore-git-paths) verifies, and tampering with them shows', async () => {
    const model = randomModel();
    writeFileSync(join(model, '.gitattributes'), '*.bin filter=lfs');
    mkdirSync(join(model, '.git'));
    writeFileSync(join(model, '.git', 'HEAD'), 'ref: refs/heads/main');
    const sig = join(tmp, `git-${models}.sig`);
    expect(
      modelSigningApi({
        action: 'sign',
        model,
        signature: sig,
        private_key: keys.priv,
        ignore_git_paths: false,
      }).output,
    ).toBe('');
    const theirs = verifyBundleSignature(readFileSync(sig), trustKey());
    if (!theirs.valid) throw new Error(theirs.reason);
    expect(theirs.statement.resources.map((r) => r.name)).toEqual(
      expect.arrayContaining(['.gitattributes', '.git/HEAD']),
    );
    expect((await verifyModel(model, readFileSync(sig), trustKey())).reason).toBe('');
    writeFileSync(join(model, '.git', 'index'), 'not signed, and under .git: ignored');
    expect((await verifyModel(model, readFileSync(sig), trustKey())).reason).toBe('');
    writeFileSync(join(model, '.gitattributes'), '*.bin -text');
    expect((await verifyModel(model, readFileSync(sig), trustKey())).changed).toEqual(['.gitattributes']);
  });

  it('what sign warns about, model_signing indeed cannot verify; the plain case it can', async () => {
    const ecSigner = loadSigner(readFileSync(keys.priv, 'utf8'));
    const cliVerify = (model: string, sig: string, pub = keys.pub) =>
      modelSigningCli(['verify', 'key', model, '--signature', sig, '--public_key', pub]).status;
    const apiVerify = (model: string, sig: string) =>
      modelSigningApi({ action: 'verify', model, signature: sig, public_key: keys.pub }).status;
    const cases: [string, () => Promise<number>][] = [
      [
        'plain',
        async () => {
          const model = randomModel();
          const s = await signModel(model, ecSigner, {});
          expect(s.warnings).toEqual([]);
          writeFileSync(join(tmp, 'plain.sig'), s.bundle);
          return cliVerify(model, join(tmp, 'plain.sig'));
        },
      ],
      [
        'shards',
        async () => {
          const model = randomModel();
          const s = await signModel(model, ecSigner, { method: 'shards', shardSize: 4096 });
          expect(s.warnings.join()).toMatch(/sharded/);
          writeFileSync(join(tmp, 'shards.sig'), s.bundle);
          return apiVerify(model, join(tmp, 'shards.sig'));
        },
      ],
      [
        'blake3',
        async () => {
          const model = randomModel();
          const s = await signModel(model, ecSigner, { hashType: 'blake3' });
          expect(s.warnings.join()).toMatch(/SHA-256/);
          writeFileSync(join(tmp, 'blake3.sig'), s.bundle);
          return cliVerify(model, join(tmp, 'blake3.sig'));
        },
      ],
      [
        'single file',
        async () => {
          const model = join(randomModel(), 'a.b');
          const s = await signModel(model, ecSigner, {});
          expect(s.warnings.join()).toMatch(/single-file/);
          writeFileSync(join(tmp, 'single.sig'), s.bundle);
          return cliVerify(model, join(tmp, 'single.sig'));
        },
      ],
      [
        'Ed25519',
        async () => {
          const model = randomModel();
          const ed = generateKeyPairSync('ed25519');
          const pub = join(tmp, 'ed.pub');
          writeFileSync(pub, ed.publicKey.export({ type: 'spki', format: 'pem' }));
          const s = await signModel(
            model,
            loadSigner(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
            {},
          );
          expect(s.warnings.join()).toMatch(/ECDSA/);
          writeFileSync(join(tmp, 'ed.sig'), s.bundle);
          return cliVerify(model, join(tmp, 'ed.sig'), pub);
        },
      ],
    ];
    const results: Record<string, number> = {};
    for (const [name, run] of cases) results[name] = await run();
    expect(results).toEqual({ plain: 0, shards: 1, blake3: 1, 'single file': 1, Ed25519: 1 });
  });

  it('a symbolic link to a directory: model_signing leaves its files out, modelgate sign refuses and verify sees them', async () => {
    const model = randomModel();
    const outside = join(tmp, `outside-${models}`);
    mkdirSync(outside);
    writeFileSync(join(outside, 'w.bin'), randomBytes(100));
    symlinkSync(outside, join(model, 'linked'));
    const sig = join(tmp, `symdir-${models}.sig`);
    const r = modelSigningCli([
      'sign',
      'key',
      model,
      '--private_key',
      keys.priv,
      '--signature',
      sig,
      '--allow_symlinks',
    ]);
    expect(r.output).toMatch(/Signing succeeded/);
    const theirs = verifyBundleSignature(readFileSync(sig), trustKey());
    if (!theirs.valid) throw new Error(theirs.reason);
    expect(theirs.statement.resources.some((x) => x.name.startsWith('linked/'))).toBe(false);
    const v = await verifyModel(model, readFileSync(sig), trustKey(), { allowSymlinks: true });
    expect(v.extra).toEqual(['linked/w.bin']);
    await expect(
      signModel(model, loadSigner(readFileSync(keys.priv, 'utf8')), { allowSymlinks: true }),
    ).rejects.toThrow(/symbolic link to a directory: linked/);
  });

  it('a file name that is not UTF-8: modelgate refuses with a clear error', async () => {
    const model = randomModel();
    writeFileSync(Buffer.from(`${model}/w-\xe9.bin`, 'latin1'), 'x');
    await expect(signModel(model, loadSigner(readFileSync(keys.priv, 'utf8')), {})).rejects.toThrow(
      /file name "w-\\xe9\.bin" is not valid UTF-8/,
    );
    const theirs = modelSigningCli([
      'sign',
      'key',
      model,
      '--private_key',
      keys.priv,
      '--signature',
      join(tmp, 'nonutf8.sig'),
    ]);
    console.log(
      `model_signing on a non-UTF-8 name: exit ${theirs.status}: ${theirs.output.trim().split('\n').pop()}`,
    );
  });
});
