// Test PKI: a self-signed root, an intermediate and a code-signing leaf, made with @peculiar/x509 and
// node's WebCrypto, exported as PEM for node:crypto and model_signing.
import 'reflect-metadata';
import { webcrypto, KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface TestPki {
  rootPem: string;
  intermediatePem: string;
  leafPem: string;
  leafKeyPem: string;
  leafPublicKeyPem: string;
}

async function keyPair(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

export async function makePki(
  options: { leafEku?: string[]; notAfter?: Date; leafSubject?: string; leafEmail?: string } = {},
): Promise<TestPki> {
  const notBefore = new Date(Date.now() - 3600_000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 365 * 86400_000);
  const rootKeys = await keyPair();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=modelgate test root',
    notBefore,
    notAfter: new Date(Date.now() + 3650 * 86400_000),
    keys: rootKeys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 2, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const intKeys = await keyPair();
  const intermediate = await x509.X509CertificateGenerator.create({
    serialNumber: '02',
    subject: 'CN=modelgate test intermediate',
    issuer: root.subject,
    notBefore,
    notAfter: new Date(Date.now() + 3650 * 86400_000),
    publicKey: intKeys.publicKey,
    signingKey: rootKeys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const leafKeys = await keyPair();
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '03',
    subject: options.leafSubject ?? 'CN=model signer',
    issuer: intermediate.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: intKeys.privateKey,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(options.leafEku ?? [x509.ExtendedKeyUsage.codeSigning], false),
      new x509.SubjectAlternativeNameExtension([
        { type: 'email', value: options.leafEmail ?? 'signer@example.com' },
      ]),
    ],
  });
  const leafKeyPem = KeyObject.from(leafKeys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString();
  const leafPublicKeyPem = KeyObject.from(leafKeys.publicKey)
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return {
    rootPem: root.toString('pem'),
    intermediatePem: intermediate.toString('pem'),
    leafPem: leaf.toString('pem'),
    leafKeyPem,
    leafPublicKeyPem,
  };
}
