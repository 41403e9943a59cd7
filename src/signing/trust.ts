// Trust material as the policy core hands it over, compiled once (keys parsed, anchors loaded,
// regexes anchored, Sigstore verifiers built) and then only read.
import type { KeyObject } from 'node:crypto';
import { parseCertificatesPem, type ParsedCertificate } from './certificates.ts';
import { parsePublicKeyPem, publicKeyHint, TrustMaterialError } from './keys.ts';
import { isSelfSigned } from './x509.ts';
import { anchoredRegExp, keylessVerifier, type KeylessPolicy } from './keyless.ts';

export type TrustMaterial =
  | { method: 'key'; publicKeyPem: string }
  /** identities: exact match on the leaf's SAN (email/URI/DNS) or subject CN; empty or absent = any. */
  | { method: 'certificate'; caCertificatesPem: string; identities?: string[] }
  | { method: 'keyless'; issuer: string; subject?: string; subjectRegExp?: string; trustedRootJson: string };

export type CompiledTrust =
  | { method: 'key'; key: KeyObject; hint: string }
  | { method: 'certificate'; anchors: ParsedCertificate[]; identities: string[] }
  | ({ method: 'keyless' } & KeylessPolicy);

const compiled = new WeakMap<TrustMaterial, CompiledTrust>();

/** Compile trust material; throws TrustMaterialError when it is unusable. Cached per object. */
export function compileTrust(trust: TrustMaterial): CompiledTrust {
  const hit = compiled.get(trust);
  if (hit) return hit;
  const result = compileUncached(trust);
  compiled.set(trust, result);
  return result;
}

function compileUncached(trust: TrustMaterial): CompiledTrust {
  if (typeof trust !== 'object' || trust === null) throw new TrustMaterialError('trust material is missing');
  switch (trust.method) {
    case 'key': {
      if (typeof trust.publicKeyPem !== 'string') throw new TrustMaterialError('publicKeyPem is missing');
      const key = parsePublicKeyPem(trust.publicKeyPem);
      return { method: 'key', key, hint: publicKeyHint(key) };
    }
    case 'certificate': {
      if (typeof trust.caCertificatesPem !== 'string')
        throw new TrustMaterialError('caCertificatesPem is missing');
      const identities = trust.identities ?? [];
      if (!Array.isArray(identities) || !identities.every((i) => typeof i === 'string'))
        throw new TrustMaterialError('identities must be a list of strings');
      const anchors = parseCertificatesPem(trust.caCertificatesPem);
      if (!anchors.some(isSelfSigned))
        throw new TrustMaterialError(
          'no self-signed CA certificate in the CA bundle: give the root CA certificate (an intermediate alone is not a trust anchor)',
        );
      return { method: 'certificate', anchors, identities };
    }
    case 'keyless': {
      if (typeof trust.issuer !== 'string' || trust.issuer === '')
        throw new TrustMaterialError('keyless trust needs an issuer');
      if (typeof trust.trustedRootJson !== 'string')
        throw new TrustMaterialError('keyless trust needs a trusted root JSON');
      if (
        (trust.subject === undefined || trust.subject === '') &&
        (trust.subjectRegExp === undefined || trust.subjectRegExp === '')
      ) {
        throw new TrustMaterialError('keyless trust needs a subject or a subject regular expression');
      }
      const policy: CompiledTrust = {
        method: 'keyless',
        issuer: trust.issuer,
        verifier: keylessVerifier(trust.trustedRootJson),
      };
      if (trust.subject) policy.subject = trust.subject;
      if (trust.subjectRegExp) policy.subjectRegExp = anchoredRegExp(trust.subjectRegExp);
      return policy;
    }
    default:
      throw new TrustMaterialError(
        `unknown trust method "${String((trust as { method?: unknown }).method)}"`,
      );
  }
}

/**
 * What is wrong with trust material, in words, or undefined when it compiles: the policy compiler's
 * check (src/policy TrustValidator), so a policy with a key that is not a key is not Ready.
 */
export function trustProblem(trust: TrustMaterial): string | undefined {
  try {
    compileTrust(trust);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
