import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSigner, signModel, verifyBundleSignature, verifyModel, type TrustMaterial } from './index.ts';
import { makePki, type TestPki } from './pki.test-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'modelgate-sign-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const model = join(tmp, 'model');
mkdirSync(join(model, 'sub'), { recursive: true });
writeFileSync(join(model, 'weights.bin'), Buffer.alloc(100, 7));
writeFileSync(join(model, 'sub', 'config.json'), '{"a":1}');
writeFileSync(join(model, 'empty'), '');

const keyPems = (type: 'ec' | 'ed25519', namedCurve?: string) => {
  const { privateKey, publicKey } =
    type === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: namedCurve ?? 'P-256' })
      : generateKeyPairSync('ed25519');
  return {
    priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
};

describe('signModel with a key', () => {
  it.each([
    ['P-256', 'ec', 'P-256'],
    ['P-384', 'ec', 'P-384'],
    ['P-521', 'ec', 'P-521'],
    ['Ed25519', 'ed25519', undefined],
  ] as const)('%s round-trips', async (_name, type, curve) => {
    const { priv, pub } = keyPems(type, curve);
    const bundlePath = join(model, 'model.sig');
    const { bundle, digest } = await signModel(model, loadSigner(priv), { bundlePath, workers: 0 });
    writeFileSync(bundlePath, bundle);
    const r = await verifyModel(
      model,
      bundle,
      { method: 'key', publicKeyPem: pub },
      { bundlePath, workers: 0 },
    );
    expect(r.reason).toBe('');
    expect(r.digest).toBe(digest);
  });

  it.each(['sha256', 'blake2b', 'blake3'] as const)('hash %s, files and shards', async (hashType) => {
    const { priv, pub } = keyPems('ec');
    for (const method of ['files', 'shards'] as const) {
      const { bundle } = await signModel(model, loadSigner(priv), {
        hashType,
        method,
        shardSize: 64,
        workers: 0,
      });
      const r = await verifyModel(model, bundle, { method: 'key', publicKeyPem: pub }, { workers: 0 });
      expect(r.reason).toBe('');
      // BLAKE3 is never sharded, as in model_signing.
      expect(r.statement?.serialization).toMatchObject({
        method: hashType === 'blake3' ? 'files' : method,
        hashType,
      });
    }
  });

  it('writes what model_signing 1.1 writes: hint, empty tlog, keyid "", recorded ignore paths', async () => {
    const { priv, pub } = keyPems('ec');
    const { bundle } = await signModel(model, loadSigner(priv), {
      bundlePath: join(model, 'model.sig'),
      ignorePaths: ['sub'],
      workers: 0,
    });
    const json = JSON.parse(Buffer.from(bundle).toString('utf8'));
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(json.verificationMaterial.tlogEntries).toEqual([]);
    expect(json.dsseEnvelope.signatures[0].keyid).toBe('');
    const v = verifyBundleSignature(bundle, { method: 'key', publicKeyPem: pub });
    if (!v.valid) throw new Error(v.reason);
    expect(v.statement.ignorePaths.sort()).toEqual([
      '.git',
      '.gitattributes',
      '.github',
      '.gitignore',
      'model.sig',
      'sub',
    ]);
    expect(v.statement.resources.map((r) => r.name)).toEqual(['empty', 'weights.bin']);
  });

  it('refuses a key that model_signing cannot use', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => loadSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toThrow(
      /unsupported key type rsa/,
    );
  });
});

describe('signModel with a certificate chain', () => {
  let pki: TestPki;
  beforeAll(async () => {
    pki = await makePki();
  });

  it('verifies against the root, with identities', async () => {
    const signer = loadSigner(pki.leafKeyPem, pki.leafPem + pki.intermediatePem);
    const { bundle } = await signModel(model, signer, { workers: 0 });
    const trust: TrustMaterial = {
      method: 'certificate',
      caCertificatesPem: pki.rootPem,
      identities: ['signer@example.com'],
    };
    const r = await verifyModel(model, bundle, trust, { workers: 0 });
    expect(r.reason).toBe('');
    expect(r.signer).toBe('signer@example.com');
    expect(
      (await verifyModel(model, bundle, { ...trust, identities: ['other@example.com'] }, { workers: 0 }))
        .reason,
    ).toMatch(/identity mismatch/);
    expect(
      (
        await verifyModel(
          model,
          bundle,
          { method: 'certificate', caCertificatesPem: pki.intermediatePem },
          { workers: 0 },
        )
      ).reason,
    ).toMatch(/no self-signed CA/);
  });

  it('rejects a chain that does not match the private key', async () => {
    const other = await makePki();
    expect(() => loadSigner(pki.leafKeyPem, other.leafPem)).toThrow(/not for this private key/);
  });

  it('rejects a leaf without the codeSigning EKU', async () => {
    const serverPki = await makePki({ leafEku: ['1.3.6.1.5.5.7.3.1'] });
    const { bundle } = await signModel(
      model,
      loadSigner(serverPki.leafKeyPem, serverPki.leafPem + serverPki.intermediatePem),
      { workers: 0 },
    );
    const r = verifyBundleSignature(bundle, { method: 'certificate', caCertificatesPem: serverPki.rootPem });
    expect(r.valid ? 'valid' : r.reason).toMatch(/codeSigning/);
  });
});
