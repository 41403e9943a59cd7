import { describe, expect, it } from 'vitest';
import { certificateExpiries, describeExpiry, expiringSoon } from './expiry.ts';
import { CLI_TESTS, KEYS, OMS, read, readText } from './fixtures.test-support.ts';

describe('certificateExpiries', () => {
  it('lists the CA certificates of a CA bundle and the chain of a certificate bundle', () => {
    const { expiries, unreadable } = certificateExpiries([
      { kind: 'ca-bundle', where: 'authority corp of P', policy: 'P', pem: readText(`${KEYS}ca-cert.pem`) },
      {
        kind: 'signature-bundle',
        where: 'bundle b',
        bundle: read(`${CLI_TESTS}v1.1.0-certificate/model.sig`),
      },
    ]);
    expect(unreadable).toEqual([]);
    expect(expiries.map((e) => [e.where, e.role, e.subject, e.policy])).toEqual([
      ['authority corp of P', 'CA certificate', 'CN=root-ca', 'P'],
      ['bundle b', 'signing certificate', 'CN=intermediate-ca', undefined],
      ['bundle b', 'intermediate certificate', 'CN=intermediate-ca', undefined],
    ]);
    expect(expiries[0]?.notAfter.toISOString()).toMatch(/^2035-04-30/);
  });
  it('leaves out key bundles and keyless ones (their certificate is checked at signing time)', () => {
    const { expiries, unreadable } = certificateExpiries([
      { kind: 'signature-bundle', where: 'k', bundle: read(`${CLI_TESTS}v1.1.0-elliptic-key/model.sig`) },
      { kind: 'signature-bundle', where: 's', bundle: read(`${CLI_TESTS}v1.1.0-sigstore/model.sig`) },
      { kind: 'signature-bundle', where: 'legacy', bundle: read(`${CLI_TESTS}v0.3.1-sigstore/model.sig`) },
    ]);
    expect({ expiries, unreadable }).toEqual({ expiries: [], unreadable: [] });
  });
  it('reports what it cannot read without throwing', () => {
    const { unreadable } = certificateExpiries([
      { kind: 'signature-bundle', where: 'empty', bundle: read(`${OMS}invalid/empty.bundle.json`) },
      {
        kind: 'ca-bundle',
        where: 'bad',
        pem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      },
    ]);
    expect(unreadable.map((u) => u.where)).toEqual(['empty', 'bad']);
  });
});

describe('expiringSoon and describeExpiry', () => {
  const { expiries } = certificateExpiries([
    { kind: 'signature-bundle', where: 'bundle b', bundle: read(`${CLI_TESTS}v1.1.0-certificate/model.sig`) },
  ]);
  const notAfter = expiries[0]?.notAfter.getTime() ?? 0;
  it('keeps what expires within the threshold, or already has, soonest first', () => {
    const day = 86_400_000;
    expect(expiringSoon(expiries, new Date(notAfter - 31 * day), 30 * day)).toEqual([]);
    expect(expiringSoon(expiries, new Date(notAfter - 29 * day), 30 * day)).toHaveLength(2);
    expect(expiringSoon(expiries, new Date(notAfter + day), 0)).toHaveLength(2);
  });
  it('says what, when, where and how to fix it', () => {
    const e = expiries[0];
    if (!e) throw new Error('no expiry');
    expect(describeExpiry(e, new Date(notAfter - 10 * 86_400_000 - 1000))).toMatch(
      /^signing certificate CN=intermediate-ca in bundle b expires on .* \(in 10 days\): pods .* stop starting then; renew the signing certificate .* re-sign the model/,
    );
    expect(describeExpiry(e, new Date(notAfter + 1))).toMatch(/expired on/);
  });
});
