// Key and certificate generation for the webhook's self-managed TLS: an ECDSA P-256 CA and a serving
// certificate for the webhook Service's DNS names. Validity comes from the caller's clock.
import 'reflect-metadata';
import { randomBytes, webcrypto, X509Certificate, createPrivateKey } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
type KeyPair = webcrypto.CryptoKeyPair;

export interface IssuedPair {
  certPem: string;
  keyPem: string;
}

const toPem = (der: ArrayBuffer, label: string) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '')}\n-----END ${label}-----\n`;

const serial = () => {
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f; // positive
  return b.toString('hex');
};

/**
 * Backdated a little (clocks of API server and controller rarely agree exactly): 5 minutes, or a tenth
 * of a short validity, so renewal at "a third of the lifetime left" still means what it says.
 */
const skew = (validityMs: number) => Math.min(5 * 60_000, Math.floor(validityMs / 10));

export async function issueCa(
  now: number,
  validityMs: number,
  commonName = 'modelgate-webhook-ca',
): Promise<IssuedPair> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName} ${new Date(now).toISOString().slice(0, 10)}`,
    notBefore: new Date(now - skew(validityMs)),
    notAfter: new Date(now + validityMs),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: cert.toString('pem') + '\n',
    keyPem: toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
  };
}

export async function issueServingCert(
  ca: IssuedPair,
  dnsNames: string[],
  now: number,
  validityMs: number,
): Promise<IssuedPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await webcrypto.subtle.importKey(
    'pkcs8',
    Buffer.from(ca.keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'),
    ALG,
    false,
    ['sign'],
  );
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const caNotAfter = caCert.notAfter.getTime();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${dnsNames[0] ?? 'modelgate-webhook'}`,
    issuer: caCert.subject,
    notBefore: new Date(now - skew(validityMs)),
    // Never outlive the issuing CA.
    notAfter: new Date(Math.min(now + validityMs, caNotAfter)),
    signingKey: caKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        dnsNames.map((value) => ({
          type: /^[\d.]+$|:/.test(value) ? ('ip' as const) : ('dns' as const),
          value,
        })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return {
    certPem: cert.toString('pem') + '\n',
    keyPem: toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY'),
  };
}

export interface CertInfo {
  pem: string;
  cert: X509Certificate;
  notBefore: number;
  notAfter: number;
}

/** Every certificate in a PEM bundle (unparseable blocks are skipped). */
export function parseBundle(pem: string | undefined): CertInfo[] {
  const out: CertInfo[] = [];
  for (const block of (pem ?? '').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ??
    []) {
    try {
      const cert = new X509Certificate(block);
      out.push({
        pem: block + '\n',
        cert,
        notBefore: Date.parse(cert.validFrom),
        notAfter: Date.parse(cert.validTo),
      });
    } catch {
      // ignore a damaged block; the reconciler issues a fresh certificate
    }
  }
  return out;
}

export function keyMatches(cert: X509Certificate, keyPem: string | undefined): boolean {
  if (!keyPem) return false;
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Does `leaf` carry every DNS name (or IP) in `names`? */
export function coversNames(leaf: X509Certificate, names: string[]): boolean {
  const san = leaf.subjectAltName ?? '';
  const have = new Set(san.split(/,\s*/).map((s) => s.replace(/^(DNS|IP Address):/, '')));
  return names.every((n) => have.has(n));
}

export function issuedBy(leaf: X509Certificate, ca: X509Certificate): boolean {
  try {
    return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
  } catch {
    return false;
  }
}
