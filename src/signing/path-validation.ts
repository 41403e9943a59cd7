// RFC 5280 §6.1 certification path validation for the model_signing "certificate" method, with the
// choices OpenSSL's verifier makes (which the real model_signing runs) where the RFC leaves a choice,
// and Go's crypto/x509 (what sigstore verifiers run) where OpenSSL's defaults are lenient. Trust
// anchors are self-issued certificates whose key identifiers name themselves (an intermediate alone is
// not one; the anchor's own signature is an input and not checked); their validity, CA role, path
// length and name constraints count. A self-signed leaf given as an anchor is its own path.
// Checked on every certificate: validity at the verification time, no critical extension left
// unprocessed. Below the anchor: a signature algorithm from Go's set (no MD5/SHA-1), an issuer that
// fits the authority key identifier. On CA certificates: basicConstraints cA, keyCertSign when key
// usage is present, path length; on intermediates, an EKU that allows code signing. On the path: a
// requireExplicitPolicy that takes effect refuses it (no policy is asked for). On the leaf and each
// non-self-issued intermediate: the name constraints of every CA above it (email, DNS, URI, IP,
// directory names; the leaf's subject emailAddress, and its CN when it is a host name and no DNS name
// is in subjectAltName, as OpenSSL does). On the leaf: digitalSignature when key usage is present, the
// codeSigning extended key usage. Where this differs from `openssl verify`, and why, is in
// path-validation.differential.test.ts and docs/signing.md.
// Not done: revocation (CRL/OCSP).
import { commonNameAsDnsName, describeName, nameViolation, type ConstraintSet } from './name-constraints.ts';
import {
  authorityKeyIdFits,
  extensionName,
  isSelfSigned,
  KU_DIGITAL_SIGNATURE,
  KU_KEY_CERT_SIGN,
  namesEqual,
  signatureAlgorithmProblem,
  signedBy,
  validAt,
  type GeneralName,
  type ParsedCertificate,
} from './x509.ts';

export class ChainError extends Error {}

export const CODE_SIGNING_EKU = '1.3.6.1.5.5.7.3.3';
export const ANY_EKU = '2.5.29.37.0';
/** Intermediates between the leaf and the anchor, at most (a bundle carries at most 16 certificates). */
const MAX_INTERMEDIATES = 15;
/** Candidate paths tried, at most (a bundle may carry cross-signed intermediates). */
const MAX_CANDIDATES = 16;
/**
 * Steps of the path search, at most: intermediates that share a name and key issue one another, so
 * the orderings of a bundle's certificates grow factorially (15 such took minutes). Go bounds its
 * search the same way (maxChainSignatureChecks).
 */
const MAX_SEARCH_STEPS = 1_000;

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
 * Why `ca` may not issue certificates, or undefined. Intermediates need a version 3 basicConstraints
 * with cA set (RFC 5280 §6.1.4 k). The anchor is judged as OpenSSL judges a trusted root (check_ca):
 * basicConstraints cA when present; without it, a version 1 root or a key usage with keyCertSign. In
 * both, a key usage without keyCertSign refuses (§6.1.4 n).
 */
function notACa(ca: ParsedCertificate, isAnchor: boolean): string | undefined {
  const bc = ca.basicConstraints;
  if (bc !== undefined && !bc.ca) return 'is not a CA (basicConstraints cA is not set)';
  if (bc === undefined) {
    if (!isAnchor)
      return 'is not a CA (basicConstraints cA is not set: it has no basicConstraints extension)';
    if (ca.version !== 1 && ca.keyUsage === undefined)
      return 'is not a CA (basicConstraints cA is not set, and no key usage allows keyCertSign)';
  }
  if (ca.keyUsage !== undefined && (ca.keyUsage & KU_KEY_CERT_SIGN) === 0)
    return 'its key usage lacks keyCertSign';
  return undefined;
}

/**
 * RFC 5280 §6.1 policy processing, the part that can refuse a path when no policy is asked for
 * (modelgate's user-initial-policy-set is anyPolicy and initial-explicit-policy is false): a CA's
 * policyConstraints requireExplicitPolicy, counted in non-self-issued certificates below it (§6.1.4 h,
 * i; wrap-up §6.1.5 a, b). The anchor is an input, not processed. Once an explicit policy is required,
 * the path is refused: modelgate names no acceptable policy, and OpenSSL (-policy_check, with no
 * -policy) refuses such a path too. `path` is leaf first.
 */
function checkExplicitPolicy(
  path: readonly ParsedCertificate[],
  role: (c: ParsedCertificate) => string,
): void {
  let explicit = path.length + 1;
  let by: ParsedCertificate | undefined;
  for (let k = path.length - 1; k >= 0; k--) {
    const cert = path[k] as ParsedCertificate;
    const before = explicit;
    if (k > 0) {
      if (!cert.selfIssued && explicit > 0) explicit--;
      if (cert.requireExplicitPolicy !== undefined && cert.requireExplicitPolicy < explicit)
        explicit = cert.requireExplicitPolicy;
    } else {
      if (explicit > 0) explicit--;
      if (cert.requireExplicitPolicy === 0) explicit = 0;
    }
    if (cert.requireExplicitPolicy !== undefined && explicit < before) by = cert;
  }
  if (explicit === 0) {
    const who = by ?? (path[path.length - 1] as ParsedCertificate);
    throw new ChainError(
      `${role(who)} (${who.description}) requires an explicit certificate policy on the path (policyConstraints requireExplicitPolicy), and modelgate accepts no particular policy, so the path is refused (RFC 5280 §6.1; OpenSSL refuses it too); sign with a CA whose policy constraints do not require an explicit policy`,
    );
  }
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

  // Signatures modelgate checked (every certificate below the anchor) use an accepted algorithm.
  for (const cert of leafIsAnchor ? [] : path) {
    const why = signatureAlgorithmProblem(cert);
    if (why !== undefined) throw new ChainError(`${role(cert)} (${cert.description}): ${why}`);
  }

  // CA certificates: the intermediates and the anchor (not a self-signed leaf anchor).
  const cas = leafIsAnchor ? [] : all.slice(1);
  for (const ca of cas) {
    const why = notACa(ca, ca === anchor);
    if (why !== undefined)
      throw new ChainError(`${role(ca)} (${ca.description}) issued a certificate on the path but ${why}`);
  }

  // Extended key usage nests: an intermediate that lists usages must allow code signing (or any
  // usage) for what it issues to sign code. Go's crypto/x509 (sigstore-go) and OpenSSL's purpose
  // checks both apply this; the anchor is exempt, as in OpenSSL (a trusted root is an input).
  for (const ca of leafIsAnchor ? [] : path.slice(1)) {
    const eku = ca.extKeyUsage;
    if (eku !== undefined && !eku.includes(CODE_SIGNING_EKU) && !eku.includes(ANY_EKU))
      throw new ChainError(
        `${role(ca)} (${ca.description}) limits its extended key usage to ${eku.join(', ') || 'nothing'}, without codeSigning, so certificates below it may not sign; re-issue it with codeSigning in its extended key usage or without the extension`,
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

  checkExplicitPolicy(leafIsAnchor ? [] : path, role);

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
      v =
        namesEqual(cert.issuer, issuer.subject) && authorityKeyIdFits(cert, issuer) && signedBy(cert, issuer);
      memo.set(key, v);
    }
    return v;
  };

  const candidates: { path: ParsedCertificate[]; anchor: ParsedCertificate }[] = [];
  const leafAnchor = roots.find((r) => r.der.equals(leaf.der));
  if (leafAnchor) candidates.push({ path: [leaf], anchor: leaf });
  // Depth-first, anchors before intermediates at each step, so the shortest natural path comes first.
  let steps = 0;
  const search = (path: ParsedCertificate[], ci: number, used: Set<number>): void => {
    if (++steps > MAX_SEARCH_STEPS) return;
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

  if (candidates.length === 0 && steps > MAX_SEARCH_STEPS)
    throw new ChainError(
      `no trusted root found within ${MAX_SEARCH_STEPS} path-building steps: the bundle's ${chain.length} certificates can be ordered in too many ways (intermediates that share a name and key, or cross-signed in circles); ship only the chain from the signing certificate up to the root`,
    );
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
