import { existsSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyBundleSignature, type SignatureVerdict, type TrustMaterial } from './index.ts';
import {
  certTrust,
  CLI_TESTS,
  ID,
  ISSUER,
  KEYS,
  keylessTrust,
  KINDS,
  keyTrust,
  OMS,
  read,
  readText,
  TRUSTED_ROOT,
  VERSIONS,
} from './fixtures.test-support.ts';

const bundleOf = (dir: string) => read(`${CLI_TESTS}${dir}/model.sig`);
const reasonOf = (v: SignatureVerdict) => (v.valid ? 'valid' : v.reason);
const BOTH_FILES_DIGEST = '61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226';

describe('model_signing releases (SOURCES.md §1): signature and statement', () => {
  const cases = VERSIONS.flatMap((v) =>
    Object.entries(KINDS).map(([kind, trust]) => ({ dir: `${v}-${kind}`, trust })),
  ).filter((c) => existsSync(`${CLI_TESTS}${c.dir}/model.sig`));
  it('covers all 13 fixtures', () => expect(cases).toHaveLength(13));
  it.each(cases)('$dir verifies', ({ dir, trust }) => {
    const v = verifyBundleSignature(bundleOf(dir), trust);
    expect(reasonOf(v)).toBe('valid');
  });

  it('reads the v0.2 legacy predicate (files as subjects, buggy PAE)', () => {
    const v = verifyBundleSignature(bundleOf('v0.2.0-certificate'), certTrust);
    if (!v.valid) throw new Error(v.reason);
    expect(v.statement.predicateType).toBe('https://model_signing/Digests/v0.1');
    expect(v.statement.resources.map((r) => r.name)).toEqual(['signme-1', 'signme-2']);
    // Same root digest v1.0 records for the same two files.
    expect(v.statement.subjectDigest).toEqual({ algorithm: 'sha256', hex: BOTH_FILES_DIGEST });
  });

  it('reads single-file statements (resource ".") and recorded ignore paths', () => {
    const single = verifyBundleSignature(bundleOf('v1.0.0-elliptic-key'), keyTrust);
    if (!single.valid) throw new Error(single.reason);
    expect(single.statement.resources).toEqual([
      {
        name: '.',
        algorithm: 'sha256',
        digest: 'bc9a717db6064a32cbe9eae6fc40651dd6d36ef1757183f590eff2b1765d7ebc',
      },
    ]);
    expect(single.statement.subjectName).toBe('signme-1');
    const v11 = verifyBundleSignature(bundleOf('v1.1.0-certificate'), certTrust);
    if (!v11.valid) throw new Error(v11.reason);
    expect([...v11.statement.ignorePaths].sort()).toEqual([
      '.git',
      '.gitattributes',
      '.github',
      '.gitignore',
      'ignore-me',
      'model.sig',
    ]);
    expect(v11.statement.serialization).toEqual({
      method: 'files',
      hashType: 'sha256',
      allowSymlinks: false,
    });
    expect(v11.signer).toBe('intermediate-ca');
  });

  it('names the keyless signer with its issuer', () => {
    const v = verifyBundleSignature(bundleOf('v1.1.0-sigstore'), keylessTrust);
    expect(v.valid && v.signer).toBe(`${ID} (issuer ${ISSUER})`);
  });
});

describe('OMS spec test vectors (SOURCES.md §3)', () => {
  it.each([
    ['valid/key.bundle.json', keyTrust],
    ['valid/certificate.bundle.json', certTrust],
    ['valid/sigstore.bundle.json', keylessTrust],
  ] as const)('%s verifies', (file, trust) => {
    expect(reasonOf(verifyBundleSignature(read(OMS + file), trust))).toBe('valid');
  });
  it.each([
    ['invalid-payload/wrong-predicate.bundle.json', keyTrust, /signature does not verify/],
    ['invalid/empty.bundle.json', keyTrust, /bundle is empty/],
    ['invalid/missing-envelope.bundle.json', keyTrust, /dsseEnvelope/],
    ['invalid/missing-verification-material.bundle.json', keyTrust, /verificationMaterial/],
    ['invalid/missing-tlog-entries.bundle.json', keylessTrust, /transparency log/],
  ] as const)('%s is rejected', (file, trust, reason) => {
    expect(reasonOf(verifyBundleSignature(read(OMS + file), trust))).toMatch(reason);
  });
});

describe('tamper and trust cases (SOURCES.md §1)', () => {
  it('rejects a key bundle verified with the certificate method, and the reverse', () => {
    expect(reasonOf(verifyBundleSignature(bundleOf('v1.1.0-elliptic-key'), certTrust))).toMatch(
      /material mismatch/,
    );
    expect(reasonOf(verifyBundleSignature(bundleOf('v1.1.0-certificate'), keyTrust))).toMatch(
      /material mismatch/,
    );
    expect(reasonOf(verifyBundleSignature(bundleOf('v1.1.0-sigstore'), certTrust))).toMatch(
      /material mismatch/,
    );
  });
  it('rejects the leaf or the intermediate as the only anchor (no self-signed root)', () => {
    for (const anchor of ['signing-key-cert.pem', 'int-ca-cert.pem']) {
      const trust = { method: 'certificate', caCertificatesPem: readText(KEYS + anchor) } as const;
      expect(reasonOf(verifyBundleSignature(bundleOf('v1.1.0-certificate'), trust))).toMatch(
        /no self-signed CA|no trusted root/,
      );
    }
  });
  it('checks certificate validity at the verification time', () => {
    expect(
      reasonOf(
        verifyBundleSignature(bundleOf('v1.1.0-certificate'), certTrust, {
          now: new Date('2036-01-01T00:00:00Z'),
        }),
      ),
    ).toMatch(/not valid at 2036/);
    expect(
      reasonOf(
        verifyBundleSignature(bundleOf('v1.1.0-certificate'), certTrust, {
          now: new Date('2025-01-01T00:00:00Z'),
        }),
      ),
    ).toMatch(/not valid at 2025/);
  });
  it('matches certificate identities exactly', () => {
    const ok: TrustMaterial = {
      method: 'certificate',
      caCertificatesPem: readText(`${KEYS}ca-cert.pem`),
      identities: ['intermediate-ca'],
    };
    expect(reasonOf(verifyBundleSignature(bundleOf('v1.1.0-certificate'), ok))).toBe('valid');
    expect(
      reasonOf(
        verifyBundleSignature(bundleOf('v1.1.0-certificate'), { ...ok, identities: ['intermediate-c'] }),
      ),
    ).toMatch(/identity mismatch/);
  });
  it('rejects a near-miss identity, exact or regex (anchored), and a wrong issuer', () => {
    const b = bundleOf('v1.1.0-sigstore');
    const base = { method: 'keyless', issuer: ISSUER, trustedRootJson: TRUSTED_ROOT } as const;
    expect(reasonOf(verifyBundleSignature(b, { ...base, subject: 'stefanb@us.ibm.co' }))).toMatch(
      /identity mismatch/,
    );
    expect(reasonOf(verifyBundleSignature(b, { ...base, subjectRegExp: 'stefanb@us\\.ibm\\.co' }))).toMatch(
      /identity mismatch/,
    );
    expect(reasonOf(verifyBundleSignature(b, { ...base, subjectRegExp: 'tefanb@us\\.ibm\\.com' }))).toMatch(
      /identity mismatch/,
    );
    expect(reasonOf(verifyBundleSignature(b, { ...base, subjectRegExp: '[a-z]+@us\\.ibm\\.com' }))).toBe(
      'valid',
    );
    expect(
      reasonOf(verifyBundleSignature(b, { ...base, subject: ID, issuer: 'https://accounts.google.com' })),
    ).toMatch(/issuer mismatch/);
  });
  it('rejects every key fixture under a different EC key', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-384' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const trust = { method: 'key', publicKeyPem: other } as const;
    for (const v of ['v0.3.1', 'v1.0.0', 'v1.0.1'])
      expect(reasonOf(verifyBundleSignature(bundleOf(`${v}-elliptic-key`), trust))).toMatch(
        /signature does not verify/,
      );
    expect(reasonOf(verifyBundleSignature(bundleOf('v1.1.0-elliptic-key'), trust))).toMatch(
      /public key mismatch/,
    );
  });
  it('rejects a re-serialised or altered payload', () => {
    const json = JSON.parse(bundleOf('v1.1.0-elliptic-key').toString('utf8'));
    const payload = Buffer.from(json.dsseEnvelope.payload, 'base64');
    const reserialised = JSON.stringify(JSON.parse(payload.toString('utf8')));
    json.dsseEnvelope.payload = Buffer.from(reserialised).toString('base64');
    expect(reasonOf(verifyBundleSignature(Buffer.from(JSON.stringify(json)), keyTrust))).toMatch(
      /signature does not verify/,
    );
  });
  it('reports unusable trust material without throwing', () => {
    expect(
      reasonOf(
        verifyBundleSignature(bundleOf('v1.1.0-elliptic-key'), { method: 'key', publicKeyPem: 'nope' }),
      ),
    ).toMatch(/unusable trust material/);
    expect(
      reasonOf(
        verifyBundleSignature(bundleOf('v1.1.0-sigstore'), {
          method: 'keyless',
          issuer: ISSUER,
          subjectRegExp: '(',
          trustedRootJson: TRUSTED_ROOT,
        }),
      ),
    ).toMatch(/unusable trust material/);
    expect(
      reasonOf(
        verifyBundleSignature(bundleOf('v1.1.0-sigstore'), {
          method: 'keyless',
          issuer: ISSUER,
          subject: ID,
          trustedRootJson: '{}',
        }),
      ),
    ).toMatch(/unusable trust material/);
  });
  it('says which PEM was given when it is not a public key', () => {
    const privatePem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const bundle = bundleOf('v1.1.0-elliptic-key');
    expect(reasonOf(verifyBundleSignature(bundle, { method: 'key', publicKeyPem: privatePem }))).toMatch(
      /this is a private key; verify with the public key/,
    );
    expect(
      reasonOf(
        verifyBundleSignature(bundle, { method: 'key', publicKeyPem: readText(`${KEYS}ca-cert.pem`) }),
      ),
    ).toMatch(/this is a certificate; .*--ca/);
  });
  it('never throws on arbitrary bytes, and rejects any change to the signed payload or signature', () => {
    const good = JSON.parse(bundleOf('v1.1.0-elliptic-key').toString('utf8'));
    const payload = Buffer.from(good.dsseEnvelope.payload, 'base64');
    const sig = Buffer.from(good.dsseEnvelope.signatures[0].sig, 'base64');
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (junk, inPayload, at, xor) => {
          expect(verifyBundleSignature(junk, keyTrust).valid).toBe(false);
          const target = Buffer.from(inPayload ? payload : sig);
          const i = at % target.length;
          target[i] = (target[i] ?? 0) ^ xor;
          const mutated = structuredClone(good);
          if (inPayload) mutated.dsseEnvelope.payload = target.toString('base64');
          else mutated.dsseEnvelope.signatures[0].sig = target.toString('base64');
          expect(verifyBundleSignature(Buffer.from(JSON.stringify(mutated)), keyTrust).valid).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});
