// Paths and trust material of the model-signing fixtures (test/fixtures/model-signing, see SOURCES.md).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TrustMaterial } from './trust.ts';

export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/model-signing/', import.meta.url));
export const CLI_TESTS = `${FIXTURES}model-transparency-cli-compat/scripts/tests/`;
export const OMS = `${FIXTURES}oms-spec-test-vectors/test-vectors/v1.0/`;
export const KEYS = `${CLI_TESTS}keys/certificate/`;

export const read = (path: string): Buffer => readFileSync(path);
export const readText = (path: string): string => readFileSync(path, 'utf8');

export const keyTrust: TrustMaterial = {
  method: 'key',
  publicKeyPem: readText(`${KEYS}signing-key-pub.pem`),
};
export const certTrust: TrustMaterial = {
  method: 'certificate',
  caCertificatesPem: readText(`${KEYS}ca-cert.pem`),
};
export const TRUSTED_ROOT = readText(`${FIXTURES}sigstore-trusted-root/trusted_root.json`);
export const ID = 'stefanb@us.ibm.com';
export const ISSUER = 'https://sigstore.verify.ibm.com/oauth2';
export const keylessTrust: TrustMaterial = {
  method: 'keyless',
  issuer: ISSUER,
  subject: ID,
  trustedRootJson: TRUSTED_ROOT,
};

export const VERSIONS = ['v0.2.0', 'v0.3.1', 'v1.0.0', 'v1.0.1', 'v1.1.0'] as const;
export const KINDS = { certificate: certTrust, 'elliptic-key': keyTrust, sigstore: keylessTrust } as const;
