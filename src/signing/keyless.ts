// Sigstore keyless verification (Fulcio certificate, Rekor inclusion, optional RFC 3161 timestamp)
// through @sigstore/verify 3.1 against an offline trusted root. It checks the certificate chain to a
// Fulcio CA at the signing time proven by the transparency log or TSA, the SCTs, the Rekor entry and the
// DSSE signature; the identity policy (exact or anchored regex) is applied here.
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type TrustMaterial as SigstoreTrustMaterial } from '@sigstore/verify';
import { createHash } from 'node:crypto';
import { TrustMaterialError } from './keys.ts';

export interface KeylessPolicy {
  issuer: string;
  subject?: string;
  subjectRegExp?: RegExp;
  verifier: Verifier;
}

const verifiers = new Map<string, Verifier>();

/** Build (once per distinct trusted root) the @sigstore/verify verifier. */
export function keylessVerifier(trustedRootJson: string): Verifier {
  const id = createHash('sha256').update(trustedRootJson).digest('hex');
  const cached = verifiers.get(id);
  if (cached) return cached;
  let material: SigstoreTrustMaterial;
  try {
    material = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(trustedRootJson)));
  } catch (err) {
    throw new TrustMaterialError(`trusted root is not a valid Sigstore trusted root JSON: ${(err as Error).message}`);
  }
  if (material.certificateAuthorities.length === 0) throw new TrustMaterialError('trusted root holds no certificate authority');
  const verifier = new Verifier(material);
  if (verifiers.size >= 16) verifiers.delete(verifiers.keys().next().value ?? '');
  verifiers.set(id, verifier);
  return verifier;
}

/** An identity regex is always anchored: "a@b.co" must not accept "a@b.com.evil". */
export function anchoredRegExp(source: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`, 'u');
  } catch (err) {
    throw new TrustMaterialError(`subject regular expression is invalid: ${(err as Error).message}`);
  }
}

export class KeylessError extends Error {}

/** Verify a keyless bundle; returns the signer identity "<subject> (issuer <issuer>)". */
export function verifyKeyless(bundleJson: Record<string, unknown>, policy: KeylessPolicy): string {
  let entity;
  try {
    entity = toSignedEntity(bundleFromJSON(bundleJson));
  } catch (err) {
    throw new KeylessError(`bundle is not a valid Sigstore bundle: ${(err as Error).message}`);
  }
  let identity;
  try {
    identity = policy.verifier.verify(entity).identity;
  } catch (err) {
    throw new KeylessError(`Sigstore verification failed: ${(err as Error).message}`);
  }
  const san = identity?.subjectAlternativeName;
  const issuer = identity?.extensions?.issuer;
  if (san === undefined || issuer === undefined) throw new KeylessError('the signing certificate carries no identity or issuer');
  if (issuer !== policy.issuer) throw new KeylessError(`issuer mismatch: certificate issued for "${issuer}", expected "${policy.issuer}"`);
  if (policy.subject !== undefined && san !== policy.subject) {
    throw new KeylessError(`identity mismatch: signed by "${san}", expected "${policy.subject}"`);
  }
  if (policy.subjectRegExp !== undefined && !policy.subjectRegExp.test(san)) {
    throw new KeylessError(`identity mismatch: signed by "${san}", which does not match ${policy.subjectRegExp.source}`);
  }
  return `${san} (issuer ${issuer})`;
}
