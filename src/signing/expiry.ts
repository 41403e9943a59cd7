// What expires when, among the certificates modelgate checks at every pod start: the CA certificates
// of policies' certificate authorities, and the chains inside the signature bundles it can see
// (inline or ConfigMap bundles of the modelgate.io/models annotation). The verifier validates the
// whole path at the time the pod starts (OMS v1.0 §8.2, RFC 5280), so an expired signing certificate,
// intermediate or root stops every pod of the model until it is re-signed. Pure: no clock, no I/O.
import { X509Certificate } from 'node:crypto';
import { BundleFormatError, parseBundle } from './bundle.ts';

export type ExpirySource =
  | {
      kind: 'ca-bundle';
      /** Where the certificates come from, for messages ("authority corp-pki of ClusterModelPolicy/prod"). */
      where: string;
      /** The policy id whose condition reports it. */
      policy?: string;
      pem: string;
    }
  | { kind: 'signature-bundle'; where: string; policy?: string; bundle: Uint8Array };

export interface CertificateExpiry {
  where: string;
  policy?: string;
  role: 'CA certificate' | 'signing certificate' | 'intermediate certificate';
  subject: string;
  notAfter: Date;
  /** SHA-256 fingerprint: the same certificate seen in two places is one certificate. */
  fingerprint: string;
}

export interface ExpiryScan {
  expiries: CertificateExpiry[];
  /** Sources that could not be read (reported elsewhere by the checks that use them). */
  unreadable: { where: string; reason: string }[];
}

const PEM = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function describe(cert: X509Certificate): string {
  return (cert.subject ?? '').replace(/\n/g, ', ') || cert.fingerprint256;
}

/** Every certificate of every source with its notAfter. Keyless bundles are left out: their short-lived Fulcio certificate is checked at signing time, proven by the transparency log. */
export function certificateExpiries(sources: readonly ExpirySource[]): ExpiryScan {
  const expiries: CertificateExpiry[] = [];
  const unreadable: ExpiryScan['unreadable'] = [];
  const add = (source: ExpirySource, role: CertificateExpiry['role'], cert: X509Certificate) => {
    const notAfter = new Date(cert.validTo);
    if (!Number.isFinite(notAfter.getTime())) {
      unreadable.push({
        where: source.where,
        reason: `certificate ${describe(cert)} has no readable notAfter`,
      });
      return;
    }
    expiries.push({
      where: source.where,
      ...(source.policy !== undefined ? { policy: source.policy } : {}),
      role,
      subject: describe(cert),
      notAfter,
      fingerprint: cert.fingerprint256,
    });
  };
  for (const source of sources) {
    try {
      if (source.kind === 'ca-bundle') {
        for (const block of source.pem.match(PEM) ?? [])
          add(source, 'CA certificate', new X509Certificate(block));
        continue;
      }
      const parsed = parseBundle(source.bundle);
      if (parsed.material.kind !== 'certificateChain') continue;
      // Sigstore bundles v0.1/v0.2 put a keyless Fulcio certificate in a one-element chain.
      if (parsed.tlogEntryCount > 0) continue;
      parsed.material.certificates.forEach((der, i) =>
        add(source, i === 0 ? 'signing certificate' : 'intermediate certificate', new X509Certificate(der)),
      );
    } catch (err) {
      unreadable.push({
        where: source.where,
        reason:
          err instanceof BundleFormatError ? `malformed bundle: ${err.message}` : (err as Error).message,
      });
    }
  }
  return { expiries, unreadable };
}

/** Those that expire within `thresholdMs` of `now`, or already have; soonest first. */
export function expiringSoon(
  expiries: readonly CertificateExpiry[],
  now: Date,
  thresholdMs: number,
): CertificateExpiry[] {
  return expiries
    .filter((e) => e.notAfter.getTime() - now.getTime() <= thresholdMs)
    .sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
}

/** One line for an Event or a condition: what expires, when, where, and how to fix it. */
export function describeExpiry(e: CertificateExpiry, now: Date): string {
  const ms = e.notAfter.getTime() - now.getTime();
  const when =
    ms < 0
      ? `expired on ${e.notAfter.toISOString()}`
      : `expires on ${e.notAfter.toISOString()} (in ${Math.floor(ms / 86_400_000)} days)`;
  const fix =
    e.role === 'CA certificate'
      ? "renew the CA certificate, add the new one to the authority's caBundle next to the old, and re-sign models whose chains lead to it"
      : 'renew the signing certificate (or intermediate) and re-sign the model (modelgate sign --certificate-chain; see docs/signing.md#when-a-certificate-expires), then update the bundle';
  return `${e.role} ${e.subject} in ${e.where} ${when}: pods whose models need it stop starting then; ${fix}`;
}
