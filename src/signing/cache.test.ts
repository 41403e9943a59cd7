import { describe, expect, it } from 'vitest';
import { VerdictCache } from './cache.ts';
import { CLI_TESTS, KEYS, keyTrust, read, readText } from './fixtures.test-support.ts';

const bundle = read(`${CLI_TESTS}v1.1.0-elliptic-key/model.sig`);
const certBundle = read(`${CLI_TESTS}v1.1.0-certificate/model.sig`);

describe('VerdictCache', () => {
  it('returns the cached verdict for the same bundle and equal trust material', () => {
    const cache = new VerdictCache();
    const first = cache.verify(bundle, keyTrust);
    expect(first.valid).toBe(true);
    expect(
      cache.verify(Buffer.from(bundle), {
        method: 'key',
        publicKeyPem: readText(`${KEYS}signing-key-pub.pem`),
      }),
    ).toBe(first);
    expect(cache.size).toBe(1);
  });
  it('keys on the authority set: other trust, other verdict', () => {
    const cache = new VerdictCache();
    expect(cache.verify(bundle, keyTrust).valid).toBe(true);
    expect(
      cache.verify(bundle, { method: 'certificate', caCertificatesPem: readText(`${KEYS}ca-cert.pem`) })
        .valid,
    ).toBe(false);
    expect(cache.size).toBe(2);
  });
  it('expires entries and checks certificates at the current time', () => {
    let t = Date.parse('2030-01-01T00:00:00Z');
    const cache = new VerdictCache({ ttlMs: 1000, now: () => t });
    const trust = { method: 'certificate', caCertificatesPem: readText(`${KEYS}ca-cert.pem`) } as const;
    expect(cache.verify(certBundle, trust).valid).toBe(true);
    t = Date.parse('2040-01-01T00:00:00Z');
    const later = cache.verify(certBundle, trust);
    expect(later.valid ? '' : later.reason).toMatch(/not valid at 2040/);
  });
  it('is bounded', () => {
    const cache = new VerdictCache({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) cache.verify(Buffer.from(`junk ${i}`), keyTrust);
    expect(cache.size).toBe(3);
  });
});
