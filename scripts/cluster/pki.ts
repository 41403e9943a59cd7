// Certificates for the local control plane: one CA, serving certs, client certs.
// ECDSA P-256 keeps generation instant; every component accepts PKCS#8 PEM keys.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto);

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;
const tenYears = 10 * 365 * 24 * 3600 * 1000;

export interface KeyAndCert {
  /** PEM "PRIVATE KEY" (PKCS#8). */
  keyPem: string;
  /** PEM "CERTIFICATE". */
  certPem: string;
}

export interface CertificateAuthority extends KeyAndCert {
  keys: CryptoKeyPair;
  cert: x509.X509Certificate;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function randomSerial(): string {
  // Positive, 16 bytes: the first nibble stays below 8 so DER never reads it as negative.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

export async function createCertificateAuthority(commonName: string): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + tenYears),
    keys,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { keys, cert, keyPem: await privateKeyPem(keys.privateKey), certPem: cert.toString('pem') };
}

export interface IssueOptions {
  commonName: string;
  /** Organizations become Kubernetes groups for client certificates (e.g. system:masters). */
  organizations?: string[];
  /** DNS names and IP addresses for a serving certificate. */
  hosts?: string[];
  usage: 'server' | 'client' | 'both';
}

const ipPattern = /^(\d{1,3}\.){3}\d{1,3}$|:/;

/** Issues a leaf certificate signed by the CA. */
export async function issueCertificate(ca: CertificateAuthority, options: IssueOptions): Promise<KeyAndCert> {
  const keys = await generateKeys();
  const subject = [`CN=${options.commonName}`, ...(options.organizations ?? []).map((o) => `O=${o}`)].join(
    ', ',
  );
  const ekus: string[] = [];
  if (options.usage !== 'client') ekus.push(x509.ExtendedKeyUsage.serverAuth);
  if (options.usage !== 'server') ekus.push(x509.ExtendedKeyUsage.clientAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension(ekus, false),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  const hosts = options.hosts ?? [];
  if (hosts.length > 0) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => ({ type: ipPattern.test(h) ? ('ip' as const) : ('dns' as const), value: h })),
      ),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + tenYears),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm,
    extensions,
  });
  return { keyPem: await privateKeyPem(keys.privateKey), certPem: cert.toString('pem') };
}

/** Loads a CA written by createCertificateAuthority back from its PEM files. */
export async function loadCertificateAuthority(
  certPem: string,
  keyPem: string,
): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const privateKey = await webcrypto.subtle.importKey(
    'pkcs8',
    x509.PemConverter.decodeFirst(keyPem),
    ecdsa,
    true,
    ['sign'],
  );
  const publicKey = await cert.publicKey.export(ecdsa, ['verify'], webcrypto);
  return { keys: { privateKey, publicKey }, cert, keyPem, certPem };
}

/** A key pair for signing and verifying service-account tokens (PKCS#8 + SPKI PEM). */
export async function createServiceAccountKey(): Promise<{ privateKeyPem: string; publicKeyPem: string }> {
  const keys = await generateKeys();
  const spki = await webcrypto.subtle.exportKey('spki', keys.publicKey);
  return {
    privateKeyPem: await privateKeyPem(keys.privateKey),
    publicKeyPem: x509.PemConverter.encode(spki, 'PUBLIC KEY'),
  };
}
