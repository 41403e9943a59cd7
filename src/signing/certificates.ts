// X.509 chains for the model_signing "certificate" method: the bundle carries the leaf and its
// intermediates; the verifier supplies self-signed CA certificates as trust anchors. The path is built
// by signature, not by name (the model_signing test leaf has subject == issuer == its intermediate's
// name), every certificate must be valid at the verification time, and the leaf must allow code signing.
import { X509Certificate } from 'node:crypto';
import { TrustMaterialError } from './keys.ts';

const CODE_SIGNING_EKU = '1.3.6.1.5.5.7.3.3';
const MAX_DEPTH = 8;

export class ChainError extends Error {}

export function parseCertificatesPem(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new TrustMaterialError('no "-----BEGIN CERTIFICATE-----" block found');
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new TrustMaterialError(`certificate ${i + 1} cannot be parsed: ${(err as Error).message}`);
    }
  });
}

export function parseCertificateDer(der: Uint8Array, where: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw new ChainError(`${where} is not a valid X.509 certificate: ${(err as Error).message}`);
  }
}

function validAt(cert: X509Certificate, at: Date): boolean {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  return Number.isFinite(from) && Number.isFinite(to) && from <= at.getTime() && at.getTime() <= to;
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

export function isSelfSigned(cert: X509Certificate): boolean {
  return signedBy(cert, cert);
}

function describe(cert: X509Certificate): string {
  return cert.subject.replace(/\n/g, ', ') || cert.fingerprint256;
}

/**
 * Verify `chain` (leaf first, then intermediates, as in the bundle) up to one of `anchors` (self-signed
 * CA certificates; others are ignored, as OpenSSL does without partial-chain mode). Returns the leaf.
 */
export function verifyCertificateChain(
  chain: X509Certificate[],
  anchors: X509Certificate[],
  at: Date,
): X509Certificate {
  const leaf = chain[0];
  if (!leaf) throw new ChainError('the bundle holds no certificate');
  if (!validAt(leaf, at))
    throw new ChainError(
      `signing certificate (${describe(leaf)}) is not valid at ${at.toISOString()} (valid ${leaf.validFrom} to ${leaf.validTo})`,
    );
  const eku = leaf.keyUsage;
  if (!Array.isArray(eku) || !eku.includes(CODE_SIGNING_EKU))
    throw new ChainError(`signing certificate (${describe(leaf)}) lacks the codeSigning extended key usage`);
  const roots = anchors.filter((a) => a.ca && isSelfSigned(a));
  if (roots.length === 0) throw new ChainError('no self-signed CA certificate among the trust anchors');
  const intermediates = chain.slice(1);
  // Depth-first search over issuers, by signature.
  const search = (cert: X509Certificate, used: Set<X509Certificate>, depth: number): boolean => {
    for (const root of roots) if (signedBy(cert, root) && validAt(root, at)) return true;
    if (depth >= MAX_DEPTH) return false;
    for (const next of intermediates) {
      if (used.has(next) || !next.ca || !validAt(next, at) || !signedBy(cert, next)) continue;
      used.add(next);
      if (search(next, used, depth + 1)) return true;
      used.delete(next);
    }
    return false;
  };
  if (!search(leaf, new Set([leaf]), 0)) {
    throw new ChainError(
      `no trusted root: the certificate chain of ${describe(leaf)} does not lead to a given CA certificate valid at ${at.toISOString()}`,
    );
  }
  return leaf;
}

/** Node renders string values with special characters as JSON strings; unquote them. */
function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    const v: unknown = JSON.parse(value);
    return typeof v === 'string' ? v : value;
  } catch {
    return value;
  }
}

/** The leaf's identities: SAN email, URI and DNS names, then the subject CN. */
export function certificateIdentities(cert: X509Certificate): string[] {
  const out: string[] = [];
  const san = cert.subjectAltName ?? '';
  const re = /(DNS|email|URI|IP Address|DirName|othername|Registered ID):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/gy;
  for (let m = re.exec(san); m; m = re.exec(san)) {
    if (m[1] === 'DNS' || m[1] === 'email' || m[1] === 'URI') out.push(unquote(m[2] ?? ''));
    if (re.lastIndex >= san.length) break;
  }
  for (const line of cert.subject.split('\n')) {
    if (line.startsWith('CN=')) out.push(unquote(line.slice(3)));
  }
  return out;
}
