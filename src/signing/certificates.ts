// X.509 for the model_signing "certificate" method: the bundle carries the leaf and its
// intermediates; the verifier supplies trust anchors (self-signed CA certificates, or a self-signed
// leaf). Parsing is in x509.ts, RFC 5280 path validation in path-validation.ts; this module turns PEM
// and bundle bytes into parsed certificates and names the signer.
import { TrustMaterialError } from './keys.ts';
import { commonNameAsDnsName, uriHost } from './name-constraints.ts';
import {
  ChainError,
  identityViolation,
  validateCertificatePath,
  type ValidatedPath,
} from './path-validation.ts';
import { CertificateParseError, parseCertificate, type GeneralName, type ParsedCertificate } from './x509.ts';

export { ChainError, type ValidatedPath } from './path-validation.ts';
export type { ParsedCertificate } from './x509.ts';

/** Certificates a bundle may carry, at most (leaf and intermediates). */
export const MAX_BUNDLE_CERTIFICATES = 16;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/g;

/** Parse every PEM certificate in `pem`. Throws TrustMaterialError naming the certificate at fault. */
export function parseCertificatesPem(pem: string): ParsedCertificate[] {
  const blocks = [...pem.matchAll(PEM_CERTIFICATE)];
  if (blocks.length === 0) throw new TrustMaterialError('no "-----BEGIN CERTIFICATE-----" block found');
  return blocks.map((m, i) => {
    const body = (m[1] ?? '').replace(/\s+/g, '');
    const der = Buffer.from(body, 'base64');
    if (der.length === 0 || der.toString('base64') !== body)
      throw new TrustMaterialError(`certificate ${i + 1} cannot be parsed: its PEM body is not valid base64`);
    try {
      return parseCertificate(der, `certificate ${i + 1}`);
    } catch (err) {
      if (err instanceof CertificateParseError) throw new TrustMaterialError(err.message);
      throw err;
    }
  });
}

/** Parse the DER certificates of a bundle (leaf first). Throws ChainError. */
export function parseBundleCertificates(certificates: readonly Uint8Array[]): ParsedCertificate[] {
  if (certificates.length > MAX_BUNDLE_CERTIFICATES)
    throw new ChainError(
      `the bundle carries ${certificates.length} certificates, more than the ${MAX_BUNDLE_CERTIFICATES} a signing chain needs`,
    );
  return certificates.map((der, i) => {
    try {
      return parseCertificate(der, i === 0 ? 'the signing certificate' : `bundle certificate ${i}`);
    } catch (err) {
      if (err instanceof CertificateParseError) throw new ChainError(err.message);
      throw err;
    }
  });
}

/** Validate the bundle's chain up to the anchors at `at` (RFC 5280). Throws ChainError. */
export function verifyCertificateChain(
  chain: readonly ParsedCertificate[],
  anchors: readonly ParsedCertificate[],
  at: Date,
): ValidatedPath {
  return validateCertificatePath(chain, anchors, at);
}

/** How a subject CN could be read as a name that constraints govern. */
function commonNameForms(cn: string): GeneralName[] {
  const forms: GeneralName[] = [];
  const dns = commonNameAsDnsName(cn);
  if (dns !== undefined) forms.push({ form: 'dns', value: dns });
  if (cn.includes('@')) forms.push({ form: 'email', value: cn });
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(cn) || uriHost(cn) !== undefined)
    forms.push({ form: 'uri', value: cn });
  return forms;
}

export interface LeafIdentities {
  /** SAN email, URI and DNS names, then the subject CNs that no name constraint rules out. */
  identities: string[];
  /** Subject CNs left out because, read as an email, DNS name or URI, a name constraint forbids them. */
  refused: { identity: string; why: string }[];
}

/**
 * The identities the leaf of a validated path vouches for. SAN names were checked against the name
 * constraints by path validation; a subject CN is not a typed name, so it counts only when it obeys
 * the constraints of every form it could be taken for (an identity check must never trust a name a
 * CA above the leaf was not allowed to certify).
 */
export function certificateIdentities(validated: ValidatedPath): LeafIdentities {
  const leaf = validated.leaf;
  const identities: string[] = [];
  for (const n of leaf.subjectAltNames)
    if (n.form === 'email' || n.form === 'uri' || n.form === 'dns') identities.push(n.value);
  const refused: LeafIdentities['refused'] = [];
  for (const cn of leaf.subjectCommonNames) {
    const why = commonNameForms(cn)
      .map((form) => identityViolation(form, validated))
      .find((v) => v !== undefined);
    if (why === undefined) identities.push(cn);
    else refused.push({ identity: cn, why });
  }
  return { identities, refused };
}
