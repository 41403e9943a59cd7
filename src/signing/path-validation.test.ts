// RFC 5280 path validation on chains that openssl builds in the test; `openssl verify` (what the real
// model_signing runs) must reach the same verdict on the same certificates.
import { afterAll, describe, expect, it } from 'vitest';
import { parseCertificatesPem, verifyCertificateChain } from './certificates.ts';
import { signPayload, loadSigner } from './sign.ts';
import { verifyBundleSignature } from './verify-signature.ts';
import { EXT, OpensslPki } from './openssl-pki.test-support.ts';
import { readText, KEYS } from './fixtures.test-support.ts';

const pki = new OpensslPki();
afterAll(() => pki.remove());

const parse = (...names: string[]) => names.flatMap((n) => parseCertificatesPem(pki.pem(n)));

/** modelgate's verdict: 'ok' or the failure message. */
function modelgate(leaf: string, trusted: string[], untrusted: string[], at = new Date()): string {
  try {
    verifyCertificateChain(parse(leaf, ...untrusted), parse(...trusted), at);
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  }
}

/** Both verifiers on the same chain: returns modelgate's verdict after checking OpenSSL agrees. */
function both(
  leaf: string,
  trusted: string[],
  untrusted: string[],
  options: { at?: Date; purpose?: string } = {},
): string {
  const ours = modelgate(leaf, trusted, untrusted, options.at);
  const theirs = pki.verify(leaf, trusted, untrusted, options);
  expect(
    { openssl: theirs.ok, modelgate: ours === 'ok' },
    `openssl: ${theirs.output}; modelgate: ${ours}`,
  ).toEqual({
    openssl: ours === 'ok',
    modelgate: ours === 'ok',
  });
  return ours;
}

pki.issue('root', '/CN=Test Root', { extensions: EXT.root });
pki.issue('int', '/CN=Test Intermediate', { issuer: 'root', extensions: EXT.intermediate() });
pki.issue('leaf', '/CN=model signer', {
  issuer: 'int',
  extensions: EXT.leaf('subjectAltName = email:signer@corp.example'),
});

describe('controls: chains both verifiers accept', () => {
  it('root → intermediate → code-signing leaf', () => {
    expect(both('leaf', ['root'], ['int'])).toBe('ok');
  });
  it('a self-signed leaf given as the trust anchor is its own path', () => {
    pki.issue('self', '/CN=self signer', {
      extensions: [...EXT.leaf('subjectAltName = email:self@corp.example')].filter(
        (l) => !l.startsWith('authorityKeyIdentifier'),
      ),
    });
    expect(both('self', ['self'], [])).toBe('ok');
    // …but not when it is not among the anchors.
    expect(both('self', ['root'], [])).toMatch(/no trusted root/);
  });
});

describe('name constraints', () => {
  pki.issue('nc-int', '/CN=Corp Intermediate', {
    issuer: 'root',
    extensions: EXT.intermediate(
      'nameConstraints = critical,permitted;email:corp.example,permitted;DNS:corp.example,permitted;URI:.corp.example,excluded;email:ceo@corp.example',
    ),
  });
  const leafWith = (name: string, san: string | undefined, subject = `/CN=${name}`) =>
    pki.issue(name, subject, {
      issuer: 'nc-int',
      extensions: EXT.leaf(...(san ? [`subjectAltName = ${san}`] : [])),
    });

  it('accepts names inside the permitted subtrees', () => {
    leafWith('nc-ok', 'email:signer@corp.example,DNS:build.corp.example,URI:https://ci.corp.example/release');
    expect(both('nc-ok', ['root'], ['nc-int'])).toBe('ok');
  });
  it.each([
    [
      'an email outside the permitted subtree',
      'nc-email',
      'email:attacker@evil.example',
      /email name "attacker@evil\.example" is outside the permitted subtrees/,
    ],
    [
      'an email of a subdomain of a host constraint',
      'nc-subemail',
      'email:a@x.corp.example',
      /outside the permitted/,
    ],
    [
      'one bad email among good ones',
      'nc-mixed',
      'email:signer@corp.example,email:attacker@evil.example',
      /attacker@evil\.example/,
    ],
    ['a DNS name outside', 'nc-dns', 'DNS:build.evil.example', /DNS name "build\.evil\.example" is outside/],
    [
      'a DNS name that only ends with the constraint',
      'nc-dns-suffix',
      'DNS:evilcorp.example',
      /DNS name "evilcorp\.example" is outside/,
    ],
    ['a URI outside', 'nc-uri', 'URI:https://ci.evil.example/release', /URI name .* is outside/],
    [
      'an excluded email',
      'nc-excluded',
      'email:ceo@corp.example',
      /in the excluded subtree "ceo@corp\.example"/,
    ],
  ])('refuses %s', (_what, name, san, reason) => {
    leafWith(name, san);
    expect(both(name, ['root'], ['nc-int'])).toMatch(reason);
  });
  it('checks the subject emailAddress and a host-name CN (no DNS SAN) as OpenSSL does', () => {
    leafWith('nc-subject-email', undefined, '/CN=x/emailAddress=attacker@evil.example');
    expect(both('nc-subject-email', ['root'], ['nc-int'])).toMatch(/attacker@evil\.example/);
    leafWith('nc-cn-dns', undefined, '/CN=build.evil.example');
    expect(both('nc-cn-dns', ['root'], ['nc-int'])).toMatch(/DNS name "build\.evil\.example"/);
  });
  it('applies the constraints of the root too', () => {
    pki.issue('nc-root', '/CN=Constrained Root', {
      extensions: [...EXT.root, 'nameConstraints = critical,permitted;email:corp.example'],
    });
    pki.issue('nc-root-int', '/CN=Under Constrained Root', {
      issuer: 'nc-root',
      extensions: EXT.intermediate(),
    });
    pki.issue('nc-root-leaf', '/CN=x', {
      issuer: 'nc-root-int',
      extensions: EXT.leaf('subjectAltName = email:attacker@evil.example'),
    });
    expect(both('nc-root-leaf', ['nc-root'], ['nc-root-int'])).toMatch(/outside the permitted subtrees/);
  });
  it('intersects the permitted subtrees of successive CAs (a lower CA cannot widen them)', () => {
    pki.issue('nc-widen', '/CN=Widening Intermediate', {
      issuer: 'nc-int',
      extensions: EXT.intermediate('nameConstraints = critical,permitted;email:evil.example'),
    });
    pki.issue('nc-widen-leaf', '/CN=y', {
      issuer: 'nc-widen',
      extensions: EXT.leaf('subjectAltName = email:attacker@evil.example'),
    });
    expect(both('nc-widen-leaf', ['root'], ['nc-int', 'nc-widen'])).toMatch(/Corp Intermediate/);
  });
});

describe('path length, critical extensions, key usage, validity', () => {
  it('refuses a pathLenConstraint violation and accepts the same depth when allowed', () => {
    pki.issue('pl0', '/CN=PathLen0', {
      issuer: 'root',
      extensions: EXT.intermediate().map((l) =>
        l.startsWith('basicConstraints') ? 'basicConstraints = critical,CA:TRUE,pathlen:0' : l,
      ),
    });
    pki.issue('pl0-sub', '/CN=Below PathLen0', { issuer: 'pl0', extensions: EXT.intermediate() });
    pki.issue('pl0-leaf', '/CN=deep signer', { issuer: 'pl0-sub', extensions: EXT.leaf() });
    expect(both('pl0-leaf', ['root'], ['pl0', 'pl0-sub'])).toMatch(
      /PathLen0.* allows 0 intermediate CA certificates below it \(pathLenConstraint\), the path has 1/,
    );
    pki.issue('pl1', '/CN=PathLen1', {
      issuer: 'root',
      extensions: EXT.intermediate().map((l) =>
        l.startsWith('basicConstraints') ? 'basicConstraints = critical,CA:TRUE,pathlen:1' : l,
      ),
    });
    pki.issue('pl1-sub', '/CN=Below PathLen1', { issuer: 'pl1', extensions: EXT.intermediate() });
    pki.issue('pl1-leaf', '/CN=deep signer', { issuer: 'pl1-sub', extensions: EXT.leaf() });
    expect(both('pl1-leaf', ['root'], ['pl1', 'pl1-sub'])).toBe('ok');
  });
  it('refuses an unknown critical extension on the leaf and on an intermediate', () => {
    pki.issue('crit-leaf', '/CN=critical', {
      issuer: 'int',
      extensions: EXT.leaf('1.3.6.1.4.1.55555.1 = critical,ASN1:NULL'),
    });
    expect(both('crit-leaf', ['root'], ['int'])).toMatch(
      /signing certificate .* critical extension modelgate does not process: 1\.3\.6\.1\.4\.1\.55555\.1/,
    );
    pki.issue('crit-int', '/CN=Critical Intermediate', {
      issuer: 'root',
      extensions: EXT.intermediate('1.3.6.1.4.1.55555.2 = critical,ASN1:NULL'),
    });
    pki.issue('crit-int-leaf', '/CN=under critical', { issuer: 'crit-int', extensions: EXT.leaf() });
    expect(both('crit-int-leaf', ['root'], ['crit-int'])).toMatch(
      /intermediate certificate .* critical extension/,
    );
    // The same extension, not critical, is fine.
    pki.issue('noncrit-leaf', '/CN=noncritical', {
      issuer: 'int',
      extensions: EXT.leaf('1.3.6.1.4.1.55555.1 = ASN1:NULL'),
    });
    expect(both('noncrit-leaf', ['root'], ['int'])).toBe('ok');
  });
  it('refuses a leaf whose key usage lacks digitalSignature (OpenSSL: S/MIME signing purpose)', () => {
    const leaf = (ku: string) => [
      'basicConstraints = critical,CA:FALSE',
      `keyUsage = critical,${ku}`,
      'extendedKeyUsage = codeSigning,emailProtection',
    ];
    pki.issue('ku-bad', '/CN=encipher only', { issuer: 'int', extensions: leaf('keyEncipherment') });
    expect(both('ku-bad', ['root'], ['int'], { purpose: 'smimesign' })).toMatch(
      /key usage without digitalSignature/,
    );
    pki.issue('ku-good', '/CN=signer', { issuer: 'int', extensions: leaf('digitalSignature') });
    expect(both('ku-good', ['root'], ['int'], { purpose: 'smimesign' })).toBe('ok');
  });
  it('refuses an intermediate that is not a CA or may not sign certificates', () => {
    pki.issue('notca', '/CN=Not A CA', {
      issuer: 'root',
      extensions: ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,keyCertSign'],
    });
    pki.issue('notca-leaf', '/CN=under not-ca', { issuer: 'notca', extensions: EXT.leaf() });
    expect(both('notca-leaf', ['root'], ['notca'])).toMatch(/is not a CA/);
    pki.issue('nosign', '/CN=No CertSign', {
      issuer: 'root',
      extensions: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,digitalSignature'],
    });
    pki.issue('nosign-leaf', '/CN=under no-certsign', { issuer: 'nosign', extensions: EXT.leaf() });
    expect(both('nosign-leaf', ['root'], ['nosign'])).toMatch(/lacks keyCertSign/);
  });
  it('refuses an expired intermediate, and accepts the same chain while it is valid', () => {
    pki.issue('short-int', '/CN=Short-lived Intermediate', {
      issuer: 'root',
      extensions: EXT.intermediate(),
      days: 1,
    });
    pki.issue('short-leaf', '/CN=signer', { issuer: 'short-int', extensions: EXT.leaf() });
    const later = new Date(Date.now() + 3 * 86400_000);
    expect(both('short-leaf', ['root'], ['short-int'], { at: later })).toMatch(
      /intermediate certificate \(CN=Short-lived Intermediate\) is not valid at/,
    );
    expect(both('short-leaf', ['root'], ['short-int'])).toBe('ok');
  });
  it('refuses an intermediate as the only anchor (no partial chains), as OpenSSL does', () => {
    expect(both('leaf', ['int'], [])).toMatch(/no self-signed CA/);
  });
});

describe('in a bundle: --identity never trusts a name outside the name constraints', () => {
  const bundleFor = (leaf: string, chain: string[]) =>
    signPayload(
      new TextEncoder().encode('{}'),
      loadSigner(pki.keyPem(leaf), [leaf, ...chain].map((n) => pki.pem(n)).join('')),
    );
  it('a SAN outside the constraints: the chain is refused', () => {
    const v = verifyBundleSignature(bundleFor('nc-email', ['nc-int']), {
      method: 'certificate',
      caCertificatesPem: pki.pem('root'),
      identities: ['attacker@evil.example'],
    });
    expect(v.valid ? 'valid' : v.reason).toMatch(/violates a name constraint/);
  });
  it('a subject CN that reads as an email outside the constraints is no identity (OpenSSL accepts the chain)', () => {
    pki.issue('nc-cn-email', '/CN=attacker@evil.example', {
      issuer: 'nc-int',
      extensions: EXT.leaf('subjectAltName = email:signer@corp.example'),
    });
    expect(both('nc-cn-email', ['root'], ['nc-int'])).toBe('ok');
    const trust = { method: 'certificate', caCertificatesPem: pki.pem('root') } as const;
    const refused = verifyBundleSignature(bundleFor('nc-cn-email', ['nc-int']), {
      ...trust,
      identities: ['attacker@evil.example'],
    });
    // The payload is no model_signing statement: reaching the statement check means the identity passed.
    expect(refused.valid ? 'valid' : refused.reason).toMatch(
      /subject CN "attacker@evil\.example" is outside the name constraints/,
    );
    const allowed = verifyBundleSignature(bundleFor('nc-cn-email', ['nc-int']), {
      ...trust,
      identities: ['signer@corp.example'],
    });
    expect(allowed.valid ? 'valid' : allowed.reason).toMatch(/malformed statement/);
  });
});

describe('the model_signing fixture chain', () => {
  it('validates (leaf with subject = issuer = its intermediate, CA:TRUE, digitalSignature)', () => {
    const chain = parseCertificatesPem(
      readText(`${KEYS}signing-key-cert.pem`) + readText(`${KEYS}int-ca-cert.pem`),
    );
    const anchors = parseCertificatesPem(readText(`${KEYS}ca-cert.pem`));
    const v = verifyCertificateChain(chain, anchors, new Date('2026-01-01T00:00:00Z'));
    expect(v.path.map((c) => c.description)).toEqual(['CN=intermediate-ca', 'CN=intermediate-ca']);
  });
});
