// The seam between the decision core and signature verification (src/signing implements it). The core
// receives a verifier function, so it stays pure and testable with a fake, and the webhook, the audit
// controller and `modelgate check` all plug in the same real one.

export type TrustMaterial =
  | { method: 'key'; publicKeyPem: string }
  | { method: 'certificate'; caCertificatesPem: string; identities?: string[] }
  | { method: 'keyless'; issuer: string; subject?: string; subjectRegExp?: string; trustedRootJson: string };

export interface SignedStatementView {
  subjectName: string;
  subjectDigest: { algorithm: string; hex: string };
  /** The predicate and resources signed (the verifier returns them; OCI evidence compares them with a manifest). */
  predicateType?: string;
  resources?: readonly { name: string; digest: string }[];
}

export type SignatureVerdictView =
  { valid: true; signer: string; statement: SignedStatementView } | { valid: false; reason: string };

export type BundleVerifier = (bundle: Uint8Array, trust: TrustMaterial) => SignatureVerdictView;

/**
 * Checks trust material when a policy compiles (keys parse as public keys, CA bundles hold CA
 * certificates, trusted roots load): the problem in words, or undefined when it is usable.
 */
export type TrustValidator = (trust: TrustMaterial) => string | undefined;
