// RFC 5280 §6.1 certification path validation for the model_signing "certificate" method, with the
// choices OpenSSL's verifier makes by default (which the real model_signing runs): trust anchors are
// self-signed certificates (an intermediate alone is not one), and their own validity, CA flag, path
// length and name constraints count too. A self-signed leaf given as an anchor is its own path.
// Checked on every certificate: validity at the verification time, no critical extension left
// unprocessed. On CA certificates: basicConstraints cA, keyCertSign when key usage is present, path
// length. On the leaf and each non-self-issued intermediate: the name constraints of every CA above it
// (email, DNS, URI, IP, directory names; the leaf's subject emailAddress, and its CN when it is a host
// name and no DNS name is in subjectAltName, as OpenSSL does). On the leaf: digitalSignature when key
// usage is present, the codeSigning extended key usage.
// Not done: revocation (CRL/OCSP) and certificate-policy evaluation (no policy is required).
import { commonNameAsDnsName, describeName, nameViolation, type ConstraintSet } from './name-constraints.ts';
import {
  extensionName,
  isSelfSigned,
  KU_DIGITAL_SIGNATURE,
  KU_KEY_CERT_SIGN,
  namesEqual,
  signedBy,
  validAt,
  type GeneralName,
  type ParsedCertificate,
} from './x509.ts';

export class ChainError extends Error {}

export const CODE_SIGNING_EKU = '1.3.6.1.5.5.7.3.3';
/** Intermediates between the leaf and the anchor, at most. */
const MAX_INTERMEDIATES = 8;
/** Candidate paths tried, at most (a bundle may carry cross-signed intermediates). */
const MAX_CANDIDATES = 16;

export interface ValidatedPath {
  leaf: ParsedCertificate;
  /** Leaf first, then intermediates, up to (not including) the anchor. */
  path: ParsedCertificate[];
  anchor: ParsedCertificate;
  /** Name constraints in force on the leaf (for identity checks on names the path did not check). */
  constraints: ConstraintSet[];
}

const iso = (d: Date) => d.toISOString();

function roleOf(cert: ParsedCertificate, leaf: ParsedCertificate, anchor: ParsedCertificate): string {
  if (cert === leaf) return 'signing certificate';
  if (cert === anchor) return 'CA certificate';
  return 'intermediate certificate';
}

/** Names of `cert` that name constraints apply to. */
function constrainedNames(cert: ParsedCertificate, isLeaf: boolean): GeneralName[] {
  const names: GeneralName[] = [...cert.subjectAltNames];
  if (cert.subject.length > 0) {
    names.push({ form: 'dn', name: cert.subject, text: cert.description });
  }
  for (const email of cert.subjectEmails) names.push({ form: 'email', value: email });
  if (isLeaf && !cert.subjectAltNames.some((n) => n.form === 'dns')) {
    for (const cn of cert.subjectCommonNames) {
      const dns = commonNameAsDnsName(cn);
      if (dns !== undefined) names.push({ form: 'dns', value: dns });
    }
  }
  return names;
}

function constraintSet(cert: ParsedCertificate, role: string): ConstraintSet | undefined {
  if (!cert.nameConstraints) return undefined;
  return { issuer: `${role} (${cert.description})`, ...cert.nameConstraints };
}

/**
 * Check one candidate path: `path` is leaf first, then intermediates; `anchor` is the trusted
 * certificate that issued the last one (or the leaf itself, for a self-signed leaf given as anchor).
 */
function checkPath(path: ParsedCertificate[], anchor: ParsedCertificate, at: Date): ValidatedPath {
  const leaf = path[0] as ParsedCertificate;
  const leafIsAnchor = anchor === leaf;
  const all = leafIsAnchor ? [leaf] : [...path, anchor];
  const role = (c: ParsedCertificate) => roleOf(c, leaf, anchor);

  for (const cert of all) {
    if (!validAt(cert, at))
      throw new ChainError(
        `${role(cert)} (${cert.description}) is not valid at ${iso(at)} (valid ${iso(cert.notBefore)} to ${iso(cert.notAfter)})`,
      );
    if (cert.unhandledCritical.length > 0)
      throw new ChainError(
        `${role(cert)} (${cert.description}) has a critical extension modelgate does not process: ${cert.unhandledCritical.map(extensionName).join(', ')} (RFC 5280 §4.2: such a certificate must be refused)`,
      );
  }

  // CA certificates: the intermediates and the anchor (not a self-signed leaf anchor).
  const cas = leafIsAnchor ? [] : all.slice(1);
  for (const ca of cas) {
    if (ca.version < 3 || ca.basicConstraints?.ca !== true)
      throw new ChainError(
        `${role(ca)} (${ca.description}) issued a certificate on the path but is not a CA (basicConstraints cA is not set)`,
      );
    if (ca.keyUsage !== undefined && (ca.keyUsage & KU_KEY_CERT_SIGN) === 0)
      throw new ChainError(
        `${role(ca)} (${ca.description}) issued a certificate on the path but its key usage lacks keyCertSign`,
      );
  }

  // Path length: a CA's pathLenConstraint bounds the non-self-issued intermediates below it.
  for (let i = 1; i < cas.length + 1; i++) {
    const ca = all[i] as ParsedCertificate;
    const limit = ca.basicConstraints?.pathLen;
    if (limit === undefined) continue;
    const below = all.slice(1, i).filter((c) => !c.selfIssued).length;
    if (below > limit)
      throw new ChainError(
        `${role(ca)} (${ca.description}) allows ${limit} intermediate CA certificate${limit === 1 ? '' : 's'} below it (pathLenConstraint), the path has ${below}`,
      );
  }

  // Name constraints, from the anchor down; self-issued intermediates are exempt (RFC 5280 §6.1.3 b).
  const sets: ConstraintSet[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const cert = all[i] as ParsedCertificate;
    const isLeaf = i === 0;
    if (sets.length > 0 && (isLeaf || !cert.selfIssued)) {
      for (const name of constrainedNames(cert, isLeaf)) {
        const why = nameViolation(name, sets);
        if (why !== undefined)
          throw new ChainError(`${role(cert)} (${cert.description}) violates a name constraint: ${why}`);
      }
    }
    if (!isLeaf) {
      const set = constraintSet(cert, role(cert));
      if (set) sets.push(set);
    }
  }

  checkSigningUsage(leaf);
  return { leaf, path, anchor, constraints: sets };
}

/**
 * What a signing certificate itself must allow, whoever validated its path (the keyless method's
 * Fulcio chain is validated by @sigstore/verify): no unprocessed critical extension, digitalSignature
 * when key usage is present, the codeSigning extended key usage. Throws ChainError.
 */
export function checkSigningUsage(leaf: ParsedCertificate): void {
  if (leaf.unhandledCritical.length > 0)
    throw new ChainError(
      `signing certificate (${leaf.description}) has a critical extension modelgate does not process: ${leaf.unhandledCritical.map(extensionName).join(', ')} (RFC 5280 §4.2: such a certificate must be refused)`,
    );
  if (leaf.keyUsage !== undefined && (leaf.keyUsage & KU_DIGITAL_SIGNATURE) === 0)
    throw new ChainError(
      `signing certificate (${leaf.description}) has a key usage without digitalSignature, so it may not sign`,
    );
  if (!leaf.extKeyUsage?.includes(CODE_SIGNING_EKU))
    throw new ChainError(
      `signing certificate (${leaf.description}) lacks the codeSigning extended key usage`,
    );
}

/**
 * Validate the chain a bundle carries (leaf first, then untrusted intermediates in any order) up to
 * one of `anchors` at time `at`. Every path that names and signatures allow is tried (bounded); the
 * first that passes wins, otherwise the first one's failure is reported. Throws ChainError.
 */
export function validateCertificatePath(
  chain: readonly ParsedCertificate[],
  anchors: readonly ParsedCertificate[],
  at: Date,
): ValidatedPath {
  const leaf = chain[0];
  if (!leaf) throw new ChainError('the bundle holds no certificate');
  const roots = anchors.filter(isSelfSigned);
  if (roots.length === 0)
    throw new ChainError(
      'no self-signed CA certificate among the trust anchors: give the root CA certificate (an intermediate alone is not a trust anchor)',
    );
  const intermediates = chain.slice(1);
  const memo = new Map<string, boolean>();
  const issues = (cert: ParsedCertificate, ci: number, issuer: ParsedCertificate, ii: string) => {
    const key = `${ci}:${ii}`;
    let v = memo.get(key);
    if (v === undefined) {
      v = namesEqual(cert.issuer, issuer.subject) && signedBy(cert, issuer);
      memo.set(key, v);
    }
    return v;
  };

  const candidates: { path: ParsedCertificate[]; anchor: ParsedCertificate }[] = [];
  const leafAnchor = roots.find((r) => r.der.equals(leaf.der));
  if (leafAnchor) candidates.push({ path: [leaf], anchor: leaf });
  // Depth-first, anchors before intermediates at each step, so the shortest natural path comes first.
  const search = (path: ParsedCertificate[], ci: number, used: Set<number>): void => {
    const cert = path[path.length - 1] as ParsedCertificate;
    for (const [ri, root] of roots.entries()) {
      if (candidates.length >= MAX_CANDIDATES) return;
      if (!root.der.equals(cert.der) && issues(cert, ci, root, `r${ri}`))
        candidates.push({ path: [...path], anchor: root });
    }
    if (path.length > MAX_INTERMEDIATES) return;
    for (const [ii, next] of intermediates.entries()) {
      if (candidates.length >= MAX_CANDIDATES) return;
      if (used.has(ii) || next.der.equals(cert.der) || !issues(cert, ci, next, `i${ii}`)) continue;
      used.add(ii);
      path.push(next);
      search(path, ii, used);
      path.pop();
      used.delete(ii);
    }
  };
  search([leaf], -1, new Set());

  if (candidates.length === 0)
    throw new ChainError(
      `no trusted root: the certificate chain of ${leaf.description} does not lead to a given CA certificate (by issuer name and signature)`,
    );
  let first: ChainError | undefined;
  for (const { path, anchor } of candidates) {
    try {
      return checkPath(path, anchor, at);
    } catch (err) {
      if (!(err instanceof ChainError)) throw err;
      first ??= err;
    }
  }
  throw first as ChainError;
}

/** Why a name the leaf claims, and that the path did not check, lies outside the constraints in force. */
export function identityViolation(name: GeneralName, validated: ValidatedPath): string | undefined {
  const why = nameViolation(name, validated.constraints);
  return why === undefined ? undefined : `${describeName(name)}: ${why}`;
}
