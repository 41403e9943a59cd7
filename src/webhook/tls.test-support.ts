// Test CA and serving certificates, generated in-process (ECDSA P-256) with @peculiar/x509.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';

type KeyPair = webcrypto.CryptoKeyPair;
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface TestCa {
  certPem: string;
  issue(
    commonName: string,
    opts?: { notAfterDays?: number },
  ): Promise<{ certPem: string; keyPem: string; serial: string }>;
}

const pem = (der: ArrayBuffer, label: string) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END ${label}-----\n`;

let serialCounter = 1;

export async function createTestCa(name = 'modelgate test CA'): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const now = new Date(Date.now() - 60_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: now,
    notAfter: new Date(now.getTime() + 86_400_000),
    keys: keys as KeyPair,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return {
    certPem: ca.toString('pem') + '\n',
    async issue(commonName, opts = {}) {
      const leafKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
      const serial = (++serialCounter).toString(16).padStart(2, '0');
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial,
        subject: `CN=${commonName}`,
        issuer: ca.subject,
        notBefore: now,
        notAfter: new Date(now.getTime() + (opts.notAfterDays ?? 1) * 86_400_000),
        signingKey: (keys as KeyPair).privateKey,
        publicKey: (leafKeys as KeyPair).publicKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.SubjectAlternativeNameExtension([
            { type: 'dns', value: commonName },
            { type: 'ip', value: '127.0.0.1' },
          ]),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        ],
      });
      const keyDer = await webcrypto.subtle.exportKey('pkcs8', (leafKeys as KeyPair).privateKey);
      return {
        certPem: cert.toString('pem') + '\n',
        keyPem: pem(keyDer, 'PRIVATE KEY'),
        serial: cert.serialNumber,
      };
    },
  };
}
