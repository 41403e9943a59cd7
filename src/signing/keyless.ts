// Sigstore keyless verification (Fulcio certificate, Rekor inclusion, optional RFC 3161 timestamp)
// through @sigstore/verify 3.1 against an offline trusted root. It checks the certificate chain to a
// Fulcio CA at the signing time proven by the transparency log or TSA, the SCTs, the Rekor entry and the
// DSSE signature; the identity policy (exact or anchored regex) is applied here.
// The @sigstore packages (CommonJS) load on first use, synchronously: they take ~75-130 ms to load,
// which key and certificate verification (the verifier init container's usual case) never needs.
import type * as SigstoreBundle from '@sigstore/bundle';
import type * as SigstoreSpecs from '@sigstore/protobuf-specs';
import type { TrustMaterial as SigstoreTrustMaterial, Verifier } from '@sigstore/verify';
import type * as SigstoreVerify from '@sigstore/verify';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { TrustMaterialError } from './keys.ts';
import { compileIdentityPattern, type IdentityPattern } from '../api/identity-pattern.ts';

interface Sigstore {
  bundle: typeof SigstoreBundle;
  specs: typeof SigstoreSpecs;
  verify: typeof SigstoreVerify;
}

let sigstoreModules: Sigstore | undefined;

function sigstore(): Sigstore {
  if (!sigstoreModules) {
    const require = createRequire(import.meta.url);
    sigstoreModules = {
      bundle: require('@sigstore/bundle') as typeof SigstoreBundle,
      specs: require('@sigstore/protobuf-specs') as typeof SigstoreSpecs,
      verify: require('@sigstore/verify') as typeof SigstoreVerify,
    };
  }
  return sigstoreModules;
}

/** Whether the @sigstore packages have been loaded (tests check they load only for keyless trust). */
export const sigstoreLoaded = (): boolean => sigstoreModules !== undefined;

export interface KeylessPolicy {
  issuer: string;
  subject?: string;
  subjectRegExp?: IdentityPattern;
  verifier: Verifier;
}

const verifiers = new Map<string, Verifier>();

/** Build (once per distinct trusted root) the @sigstore/verify verifier. */
export function keylessVerifier(trustedRootJson: string): Verifier {
  const id = createHash('sha256').update(trustedRootJson).digest('hex');
  const cached = verifiers.get(id);
  if (cached) return cached;
  const { specs, verify } = sigstore();
  let material: SigstoreTrustMaterial;
  try {
    material = verify.toTrustMaterial(specs.TrustedRoot.fromJSON(JSON.parse(trustedRootJson)));
  } catch (err) {
    throw new TrustMaterialError(
      `trusted root is not a valid Sigstore trusted root JSON: ${(err as Error).message}`,
    );
  }
  if (material.certificateAuthorities.length === 0)
    throw new TrustMaterialError('trusted root holds no certificate authority');
  const verifier = new verify.Verifier(material);
  if (verifiers.size >= 16) verifiers.delete(verifiers.keys().next().value ?? '');
  verifiers.set(id, verifier);
  return verifier;
}

/** Compile a keyless subjectRegExp; unusable patterns are trust-material errors. */
export function anchoredRegExp(source: string): IdentityPattern {
  try {
    return compileIdentityPattern(source);
  } catch (err) {
    throw new TrustMaterialError(`subject regular expression: ${(err as Error).message}`);
  }
}

export class KeylessError extends Error {}

/** Verify a keyless bundle; returns the signer identity "<subject> (issuer <issuer>)". */
export function verifyKeyless(bundleJson: Record<string, unknown>, policy: KeylessPolicy): string {
  const { bundle, verify } = sigstore();
  let entity;
  try {
    entity = verify.toSignedEntity(bundle.bundleFromJSON(bundleJson));
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
  if (san === undefined || issuer === undefined)
    throw new KeylessError('the signing certificate carries no identity or issuer');
  if (issuer !== policy.issuer)
    throw new KeylessError(
      `issuer mismatch: certificate issued for "${issuer}", expected "${policy.issuer}"`,
    );
  if (policy.subject !== undefined && san !== policy.subject) {
    throw new KeylessError(`identity mismatch: signed by "${san}", expected "${policy.subject}"`);
  }
  if (policy.subjectRegExp !== undefined && !policy.subjectRegExp.test(san)) {
    throw new KeylessError(
      `identity mismatch: signed by "${san}", which does not match ${policy.subjectRegExp.source}`,
    );
  }
  return `${san} (issuer ${issuer})`;
}
