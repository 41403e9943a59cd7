// The admission seam: is this bundle a valid model_signing signature under this trust material, and
// what does it sign? Synchronous, no I/O, never throws on bad input.
import {
  BUNDLE_V03_MEDIA_TYPE,
  BundleFormatError,
  IN_TOTO_PAYLOAD_TYPE,
  parseBundle,
  type ParsedBundle,
} from './bundle.ts';
import {
  certificateIdentities,
  ChainError,
  parseBundleCertificates,
  verifyCertificateChain,
  type ParsedCertificate,
} from './certificates.ts';
import { checkSigningUsage } from './path-validation.ts';
import { TrustMaterialError, verifyEnvelopeSignature } from './keys.ts';
import { KeylessError, verifyKeyless } from './keyless.ts';
import {
  decodeStatementJson,
  parseStatementJson,
  predicateTypeOfJson,
  PREDICATE_V02_DIGESTS,
  StatementError,
  type SignedStatement,
} from './statement.ts';
import { compileTrust, type CompiledTrust, type TrustMaterial } from './trust.ts';

export type SignatureVerdict =
  { valid: true; signer: string; statement: SignedStatement } | { valid: false; reason: string };

export interface VerifySignatureOptions {
  /** Time at which certificates must be valid (certificate method). Default: now. */
  now?: Date;
}

class VerdictError extends Error {}

const MATERIAL_NAMES = {
  publicKey: 'a public key',
  certificateChain: 'a certificate chain',
  certificate: 'a Sigstore (Fulcio) certificate',
} as const;

function mismatch(bundle: ParsedBundle, method: string): never {
  throw new VerdictError(
    `verification material mismatch: the bundle is signed with ${MATERIAL_NAMES[bundle.material.kind]}, but the trust material is for the "${method}" method`,
  );
}

function checkSignature(bundle: ParsedBundle, trust: CompiledTrust, now: Date, legacy: boolean): string {
  switch (trust.method) {
    case 'key': {
      const m = bundle.material;
      if (m.kind !== 'publicKey') mismatch(bundle, 'key');
      // The key in the bundle is never trusted; a hint only tells which key to use.
      if (m.hint !== undefined && m.hint !== trust.hint)
        throw new VerdictError(
          `public key mismatch: the bundle names key ${m.hint}, the trusted key is ${trust.hint}`,
        );
      if (!verifyEnvelopeSignature(bundle.envelope, trust.key, legacy))
        throw new VerdictError('signature does not verify with the trusted public key');
      return `key sha256:${trust.hint}`;
    }
    case 'certificate': {
      const m = bundle.material;
      if (m.kind !== 'certificateChain') mismatch(bundle, 'certificate');
      const validated = verifyCertificateChain(parseBundleCertificates(m.certificates), trust.anchors, now);
      const { identities: ids, refused } = certificateIdentities(validated);
      if (trust.identities.length > 0 && !ids.some((id) => trust.identities.includes(id))) {
        const outside = refused.filter((r) => trust.identities.includes(r.identity));
        throw new VerdictError(
          outside.length > 0
            ? `identity mismatch: the signing certificate's subject CN "${outside[0]?.identity}" is outside the name constraints of its CA (${outside[0]?.why}), so it is not trusted as that identity`
            : `identity mismatch: the signing certificate names ${ids.map((i) => `"${i}"`).join(', ') || 'no identity'}, expected one of ${trust.identities.map((i) => `"${i}"`).join(', ')}`,
        );
      }
      const leaf = validated.leaf;
      if (!verifyEnvelopeSignature(bundle.envelope, leaf.x509.publicKey, legacy))
        throw new VerdictError('signature does not verify with the signing certificate key');
      return ids[0] ?? leaf.description;
    }
    case 'keyless': {
      // Sigstore bundles v0.1/v0.2 carry the Fulcio certificate as a one-element chain.
      const legacyChain =
        bundle.material.kind === 'certificateChain' &&
        bundle.mediaType !== BUNDLE_V03_MEDIA_TYPE &&
        !bundle.mediaType.endsWith('version=0.3');
      if (bundle.material.kind !== 'certificate' && !legacyChain) mismatch(bundle, 'keyless');
      if (bundle.tlogEntryCount === 0) throw new VerdictError('keyless bundle has no transparency log entry');
      const signer = verifyKeyless(bundle.json, trust);
      // @sigstore/verify validates the Fulcio chain; the leaf's own extensions are checked here too.
      const m = bundle.material;
      const der =
        m.kind === 'certificate'
          ? m.certificate
          : m.kind === 'certificateChain'
            ? m.certificates[0]
            : undefined;
      if (der) checkSigningUsage(parseBundleCertificates([der])[0] as ParsedCertificate);
      return signer;
    }
  }
}

export function verifyBundleSignature(
  bundle: Uint8Array,
  trust: TrustMaterial,
  options: VerifySignatureOptions = {},
): SignatureVerdict {
  try {
    const compiled = compileTrust(trust);
    const parsed = parseBundle(bundle);
    if (parsed.envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      return {
        valid: false,
        reason: `DSSE payloadType "${parsed.envelope.payloadType}" is not ${IN_TOTO_PAYLOAD_TYPE}`,
      };
    }
    // The payload is decoded once, before the signature check: its predicate type picks the DSSE
    // encoding (v0.2 signers used a legacy one). What it says is believed only once the signature over
    // these exact bytes verifies, and a payload that is not JSON is reported only then.
    let json: unknown;
    let undecodable: StatementError | undefined;
    try {
      json = decodeStatementJson(parsed.envelope.payload);
    } catch (err) {
      if (!(err instanceof StatementError)) throw err;
      undecodable = err;
    }
    const signer = checkSignature(
      parsed,
      compiled,
      options.now ?? new Date(),
      predicateTypeOfJson(json) === PREDICATE_V02_DIGESTS,
    );
    if (undecodable) throw undecodable;
    const statement = parseStatementJson(json);
    return { valid: true, signer, statement };
  } catch (err) {
    if (err instanceof BundleFormatError) return { valid: false, reason: `malformed bundle: ${err.message}` };
    if (err instanceof StatementError) return { valid: false, reason: `malformed statement: ${err.message}` };
    if (err instanceof TrustMaterialError)
      return { valid: false, reason: `unusable trust material: ${err.message}` };
    if (err instanceof ChainError || err instanceof VerdictError || err instanceof KeylessError)
      return { valid: false, reason: err.message };
    return {
      valid: false,
      reason: `verification error: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}
