// The @sigstore packages take ~100 ms to load: key and certificate verification must not load them.
// (Its own file: vitest gives each test file fresh modules, so nothing else has loaded them here.)
import { describe, expect, it } from 'vitest';
import { certTrust, CLI_TESTS, keylessTrust, keyTrust, read } from './fixtures.test-support.ts';
import { sigstoreLoaded } from './keyless.ts';
import { verifyBundleSignature } from './verify-signature.ts';

describe('loading the Sigstore libraries', () => {
  it('waits for the first keyless bundle', () => {
    expect(verifyBundleSignature(read(`${CLI_TESTS}v1.1.0-elliptic-key/model.sig`), keyTrust).valid).toBe(
      true,
    );
    expect(verifyBundleSignature(read(`${CLI_TESTS}v1.1.0-certificate/model.sig`), certTrust).valid).toBe(
      true,
    );
    expect(sigstoreLoaded()).toBe(false);
    expect(verifyBundleSignature(read(`${CLI_TESTS}v1.1.0-sigstore/model.sig`), keylessTrust).valid).toBe(
      true,
    );
    expect(sigstoreLoaded()).toBe(true);
  });
});
