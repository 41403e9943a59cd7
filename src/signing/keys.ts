// Public keys and DSSE signature checks with node:crypto. model_signing signs with ECDSA using the
// curve's own hash (P-256/SHA-256, P-384/SHA-384, P-521/SHA-512); Ed25519 is accepted as well.
import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { legacyV02PreAuthEncoding, preAuthEncoding } from './dsse.ts';
import type { DsseEnvelope } from './bundle.ts';

export class TrustMaterialError extends Error {}

const CURVE_HASH: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

/** The digest used with this key, or null for Ed25519 (which hashes internally). Throws for other keys. */
export function signatureDigestFor(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ec' && curve !== undefined && CURVE_HASH[curve])
    return CURVE_HASH[curve] ?? null;
  throw new TrustMaterialError(
    `unsupported key type ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` (${curve})` : ''}: expected ECDSA P-256/P-384/P-521 or Ed25519`,
  );
}

/**
 * Parse a PEM public key. Text before the PEM block is tolerated (certtool writes a description
 * there, as in the model_signing test keys).
 */
export function parsePublicKeyPem(pem: string): KeyObject {
  const begin = pem.indexOf('-----BEGIN PUBLIC KEY-----');
  if (begin < 0) {
    const hint = /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)
      ? ': this is a private key; verify with the public key that belongs to it (openssl pkey -in <key> -pubout)'
      : /-----BEGIN CERTIFICATE-----/.test(pem)
        ? ': this is a certificate; certificate-chain signatures are verified against their CA (--ca, or a policy authority of kind certificate), not with a key'
        : ": give the signer's public key in PEM (SubjectPublicKeyInfo)";
    throw new TrustMaterialError(`no "-----BEGIN PUBLIC KEY-----" block in the public key${hint}`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem.slice(begin), format: 'pem' });
  } catch (err) {
    throw new TrustMaterialError(`cannot parse the public key: ${(err as Error).message}`);
  }
  signatureDigestFor(key);
  return key;
}

/** model_signing's `publicKey.hint`: SHA-256 hex of the key's SubjectPublicKeyInfo PEM. */
export function publicKeyHint(key: KeyObject): string {
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'pem' }))
    .digest('hex');
}

/**
 * True when one of the envelope's signatures verifies under `key` over the DSSE encoding of the exact
 * payload bytes. `legacyV02` selects model_signing 0.2's encoding, which that version always signed
 * with SHA-256 whatever the curve.
 */
export function verifyEnvelopeSignature(envelope: DsseEnvelope, key: KeyObject, legacyV02: boolean): boolean {
  const standard = {
    digest: signatureDigestFor(key),
    data: preAuthEncoding(envelope.payloadType, envelope.payload),
  };
  // A v0.2 statement signed by another tool may use the standard encoding: both are tried for it.
  const candidates = legacyV02
    ? [
        {
          digest: key.asymmetricKeyType === 'ec' ? 'sha256' : standard.digest,
          data: legacyV02PreAuthEncoding(envelope.payloadType, envelope.payload),
        },
        standard,
      ]
    : [standard];
  return envelope.signatures.some(({ sig }) =>
    candidates.some(({ digest, data }) => {
      try {
        return cryptoVerify(digest, data, key, sig);
      } catch {
        return false;
      }
    }),
  );
}
