// One parse of an X.509 certificate into what RFC 5280 path validation reads. The structure comes from
// @peculiar/asn1-x509 (a maintained ASN.1 schema of RFC 5280); signatures are checked by node:crypto
// (OpenSSL) over the same bytes. The two parsers must see the same certificate: the DER must
// re-encode to itself (no BER leniency an attacker could use to make them disagree) and the
// extensions modelgate interprets must do the same.
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate as AsnCertificate,
  ExtendedKeyUsage,
  GeneralName as AsnGeneralName,
  KeyUsage,
  Name as AsnName,
  NameConstraints,
  PolicyConstraints,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_certificatePolicies,
  id_ce_extKeyUsage,
  id_ce_inhibitAnyPolicy,
  id_ce_keyUsage,
  id_ce_nameConstraints,
  id_ce_policyConstraints,
  id_ce_policyMappings,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { X509Certificate, type KeyObject } from 'node:crypto';

export class CertificateParseError extends Error {}

/** A distinguished name: RDNs in order, each a sorted list of canonical "oid=value" strings. */
export type CanonicalName = readonly (readonly string[])[];

export type GeneralName =
  | { form: 'email'; value: string }
  | { form: 'dns'; value: string }
  | { form: 'uri'; value: string }
  | { form: 'ip'; bytes: Uint8Array }
  | { form: 'dn'; name: CanonicalName; text: string }
  /** otherName, x400Address, ediPartyName, registeredID: not evaluated by name constraints. */
  | { form: 'other'; kind: string };

export interface GeneralSubtree {
  base: GeneralName;
}

export interface NameConstraintsValue {
  permitted: GeneralSubtree[];
  excluded: GeneralSubtree[];
}

export const KU_DIGITAL_SIGNATURE = 1;
export const KU_KEY_CERT_SIGN = 32;

/** AuthorityKeyIdentifier: which issuer certificate signed this one (RFC 5280 §4.2.1.1). */
export interface AuthorityKeyId {
  keyId?: Buffer;
  /** directoryName entries of authorityCertIssuer: the issuer's issuer. */
  issuerNames: CanonicalName[];
  serial?: Buffer;
}

export interface ParsedCertificate {
  der: Buffer;
  /** node:crypto's view, for signatures and public keys. */
  x509: X509Certificate;
  /** 1 or 3 (version 2 is refused at parse; version 1 carries no extensions). */
  version: number;
  /** The serial number's content octets (two's complement, never negative). */
  serial: Buffer;
  /** The certificate's signatureAlgorithm (outer and inner agree): OID and DER parameters. */
  signatureAlgorithm: { oid: string; parameters?: Buffer };
  subjectKeyId?: Buffer;
  authorityKeyId?: AuthorityKeyId;
  subject: CanonicalName;
  issuer: CanonicalName;
  /** Subject equals issuer (RFC 5280 "self-issued"). */
  selfIssued: boolean;
  notBefore: Date;
  notAfter: Date;
  basicConstraints?: { ca: boolean; pathLen?: number };
  /** KeyUsage flags (KU_* bits), when the extension is present. */
  keyUsage?: number;
  extKeyUsage?: string[];
  subjectAltNames: GeneralName[];
  /** Subject attributes used as names: CN values and emailAddress values. */
  subjectCommonNames: string[];
  subjectEmails: string[];
  nameConstraints?: NameConstraintsValue;
  /** policyConstraints requireExplicitPolicy (SkipCerts), when present. */
  requireExplicitPolicy?: number;
  /** Critical extensions this validator does not process: the path is refused (RFC 5280 §4.2). */
  unhandledCritical: string[];
  /** Human name for messages: the subject, else the SHA-256 fingerprint. */
  description: string;
}

const OID_CN = '2.5.4.3';
const OID_EMAIL_ADDRESS = '1.2.840.113549.1.9.1';

const EXTENSION_NAMES: Record<string, string> = {
  [id_ce_basicConstraints]: 'basicConstraints',
  [id_ce_keyUsage]: 'keyUsage',
  [id_ce_extKeyUsage]: 'extendedKeyUsage',
  [id_ce_subjectAltName]: 'subjectAltName',
  [id_ce_nameConstraints]: 'nameConstraints',
  [id_ce_certificatePolicies]: 'certificatePolicies',
  [id_ce_policyConstraints]: 'policyConstraints',
  [id_ce_policyMappings]: 'policyMappings',
  [id_ce_inhibitAnyPolicy]: 'inhibitAnyPolicy',
  '2.5.29.14': 'subjectKeyIdentifier',
  '2.5.29.35': 'authorityKeyIdentifier',
  '2.5.29.31': 'cRLDistributionPoints',
  '1.3.6.1.5.5.7.1.1': 'authorityInfoAccess',
};

/**
 * Critical extensions modelgate recognises: those both OpenSSL's verifier and Go's crypto/x509 handle
 * (OpenSSL also takes Netscape cert type, RFC 3779 resources, OCSP no-check and proxy certificates;
 * Go does not, and neither does modelgate).
 * Certificate policies are recognised but not evaluated, as OpenSSL does by default: modelgate asks for
 * no particular policy.
 */
const HANDLED_CRITICAL = new Set([
  // cRLDistributionPoints: where revocation lists are; modelgate checks no revocation, as OpenSSL
  // without -crl_check and Go's crypto/x509 do not, and both accept the extension critical.
  '2.5.29.31',
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_extKeyUsage,
  id_ce_subjectAltName,
  id_ce_nameConstraints,
  id_ce_certificatePolicies,
  id_ce_policyConstraints,
  id_ce_policyMappings,
  id_ce_inhibitAnyPolicy,
]);

export const extensionName = (oid: string): string =>
  EXTENSION_NAMES[oid] ? `${EXTENSION_NAMES[oid]} (${oid})` : oid;

/**
 * Canonical attribute value, as OpenSSL's (x509_name_canon): strings trimmed of ASCII white space,
 * inner runs of it folded to one space, ASCII letters lower-cased, whatever the string type.
 */
function canonicalValue(value: { toString(): string; anyValue?: ArrayBuffer; ia5String?: string }): string {
  if (value.anyValue !== undefined) return `#${Buffer.from(value.anyValue).toString('hex')}`;
  const text = value.ia5String ?? value.toString();
  // OpenSSL's canonical form: ASCII white space only (a no-break or em space is a character).
  return text
    .replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '')
    .replace(/[ \t\n\v\f\r]+/g, ' ')
    .replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function canonicalName(name: AsnName): CanonicalName {
  return name.map((rdn) => rdn.map((ava) => `${ava.type}=${canonicalValue(ava.value)}`).sort());
}

export function namesEqual(a: CanonicalName, b: CanonicalName): boolean {
  return a.length === b.length && a.every((rdn, i) => rdnEqual(rdn, b[i] ?? []));
}

export function rdnEqual(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function attributeValues(name: AsnName, oid: string): string[] {
  const out: string[] = [];
  for (const rdn of name)
    for (const ava of rdn) if (ava.type === oid) out.push(ava.value.ia5String ?? ava.value.toString());
  return out;
}

function nameText(name: AsnName): string {
  return name
    .map((rdn) => rdn.map((ava) => `${ava.type}=${ava.value.ia5String ?? ava.value.toString()}`).join('+'))
    .join(', ');
}

/** The content octets of a DER TLV (for iPAddress, whose schema converter is lossy). */
function tlvContent(der: Uint8Array): Uint8Array {
  const first = der[1] ?? 0;
  if (first < 0x80) return der.subarray(2, 2 + first);
  const n = first & 0x7f;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + (der[2 + i] ?? 0);
  return der.subarray(2 + n, 2 + n + len);
}

/** Only printable ASCII: IA5String names with control or non-ASCII characters are refused. */
function ia5(value: string, what: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c > 0x7e)
      throw new CertificateParseError(
        `${what} ${JSON.stringify(value)} holds characters an IA5String name cannot carry`,
      );
  }
  return value;
}

export function toGeneralName(g: AsnGeneralName): GeneralName {
  if (g.rfc822Name !== undefined) return { form: 'email', value: ia5(g.rfc822Name, 'email name') };
  if (g.dNSName !== undefined) return { form: 'dns', value: ia5(g.dNSName, 'DNS name') };
  if (g.uniformResourceIdentifier !== undefined)
    return { form: 'uri', value: ia5(g.uniformResourceIdentifier, 'URI name') };
  if (g.iPAddress !== undefined)
    return { form: 'ip', bytes: Uint8Array.from(tlvContent(new Uint8Array(AsnConvert.serialize(g)))) };
  if (g.directoryName !== undefined)
    return { form: 'dn', name: canonicalName(g.directoryName), text: nameText(g.directoryName) };
  if (g.otherName !== undefined) return { form: 'other', kind: `otherName ${g.otherName.typeId}` };
  if (g.x400Address !== undefined) return { form: 'other', kind: 'x400Address' };
  if (g.ediPartyName !== undefined) return { form: 'other', kind: 'ediPartyName' };
  if (g.registeredID !== undefined) return { form: 'other', kind: 'registeredID' };
  throw new CertificateParseError('empty GeneralName');
}

/** Parse an extension value and insist that it re-encodes to the same bytes (strict DER). */
function parseExtension<T>(raw: ArrayBuffer, type: new () => T, oid: string): T {
  let value: T;
  try {
    value = AsnConvert.parse(raw, type);
  } catch (err) {
    throw new CertificateParseError(
      `extension ${extensionName(oid)} cannot be parsed: ${(err as Error).message}`,
    );
  }
  let again: ArrayBuffer;
  try {
    again = AsnConvert.serialize(value);
  } catch (err) {
    throw new CertificateParseError(
      `extension ${extensionName(oid)} cannot be re-encoded: ${(err as Error).message}`,
    );
  }
  if (!Buffer.from(again).equals(Buffer.from(raw)))
    throw new CertificateParseError(`extension ${extensionName(oid)} is not DER-encoded`);
  return value;
}

function subtrees(
  list: readonly { base: AsnGeneralName; minimum: number; maximum?: number }[],
): GeneralSubtree[] {
  return list.map((s) => {
    // RFC 5280 §4.2.1.10: minimum MUST be 0 and maximum MUST be absent (OpenSSL refuses others too).
    if (s.minimum !== 0 || s.maximum !== undefined)
      throw new CertificateParseError(
        'a name constraint subtree sets minimum or maximum, which RFC 5280 forbids',
      );
    return { base: toGeneralName(s.base) };
  });
}

/** A SkipCerts INTEGER (0..MAX); values beyond any real path length are capped. */
function skipCerts(raw: ArrayBuffer, what: string): number {
  const bytes = new Uint8Array(raw);
  if (bytes.length === 0 || ((bytes[0] ?? 0) & 0x80) !== 0)
    throw new CertificateParseError(`policyConstraints ${what} is negative or empty`);
  let v = 0;
  for (const b of bytes) v = Math.min(v * 256 + b, 1_000);
  return v;
}

/** Parse DER bytes (`where` names the certificate in errors). Throws CertificateParseError. */
export function parseCertificate(der: Uint8Array, where: string): ParsedCertificate {
  const bytes = Buffer.from(der);
  let x509: X509Certificate;
  let asn: AsnCertificate;
  try {
    x509 = new X509Certificate(bytes);
    asn = AsnConvert.parse(bytes, AsnCertificate);
  } catch (err) {
    throw new CertificateParseError(`${where} is not a valid X.509 certificate: ${(err as Error).message}`);
  }
  const fail = (msg: string): never => {
    throw new CertificateParseError(`${where}: ${msg}`);
  };
  try {
    if (!Buffer.from(AsnConvert.serialize(asn)).equals(bytes))
      fail('the certificate is not DER-encoded (RFC 5280 requires DER); re-issue it with a standard tool');
  } catch (err) {
    if (err instanceof CertificateParseError) throw err;
    fail(`the certificate cannot be re-encoded: ${(err as Error).message}`);
  }
  const tbs = asn.tbsCertificate;
  if (
    !Buffer.from(AsnConvert.serialize(tbs.signature)).equals(
      Buffer.from(AsnConvert.serialize(asn.signatureAlgorithm)),
    )
  )
    fail('the signature algorithm inside the certificate differs from the one outside (RFC 5280 §4.1.1.2)');

  // RFC 5280 §4.1.2.1: extensions need version 3; version 2 (unique identifiers) is obsolete and
  // refused by the parser model_signing loads certificates with (pyca/cryptography).
  const version = tbs.version + 1;
  if (version === 2)
    fail('it is an X.509 version 2 certificate; re-issue it as version 3 (RFC 5280 §4.1.2.1)');
  if (version === 1 && (tbs.extensions?.length ?? 0) > 0)
    fail(
      'it is an X.509 version 1 certificate that carries extensions, which only version 3 may (RFC 5280 §4.1.2.1); re-issue it as version 3',
    );
  const serial = Buffer.from(tbs.serialNumber);
  // RFC 5280 §4.1.2.2: the serial number is a positive integer (Go's crypto/x509 refuses negative ones).
  if (((serial[0] ?? 0) & 0x80) !== 0)
    fail(
      'its serial number is negative, which RFC 5280 §4.1.2.2 forbids; re-issue it with a positive serial',
    );
  const algorithm = asn.signatureAlgorithm;
  const cert: ParsedCertificate = {
    der: bytes,
    x509,
    version,
    serial,
    signatureAlgorithm: {
      oid: algorithm.algorithm,
      ...(algorithm.parameters ? { parameters: Buffer.from(algorithm.parameters) } : {}),
    },
    subject: canonicalName(tbs.subject),
    issuer: canonicalName(tbs.issuer),
    selfIssued: false,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    subjectAltNames: [],
    subjectCommonNames: attributeValues(tbs.subject, OID_CN),
    subjectEmails: attributeValues(tbs.subject, OID_EMAIL_ADDRESS),
    unhandledCritical: [],
    description: (x509.subject ?? '').replace(/\n/g, ', ') || x509.fingerprint256,
  };
  cert.selfIssued = namesEqual(cert.subject, cert.issuer);

  const seen = new Set<string>();
  for (const ext of tbs.extensions ?? []) {
    const oid = ext.extnID;
    // RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension.
    if (seen.has(oid)) fail(`extension ${extensionName(oid)} appears twice`);
    seen.add(oid);
    const raw = ext.extnValue.buffer;
    try {
      switch (oid) {
        case id_ce_basicConstraints: {
          const bc = parseExtension(raw, BasicConstraints, oid);
          cert.basicConstraints = { ca: bc.cA };
          if (bc.pathLenConstraint !== undefined) cert.basicConstraints.pathLen = bc.pathLenConstraint;
          break;
        }
        case id_ce_keyUsage:
          cert.keyUsage = parseExtension(raw, KeyUsage, oid).toNumber();
          break;
        case id_ce_extKeyUsage:
          cert.extKeyUsage = [...parseExtension(raw, ExtendedKeyUsage, oid)];
          break;
        case id_ce_subjectAltName:
          cert.subjectAltNames = parseExtension(raw, SubjectAlternativeName, oid).map(toGeneralName);
          break;
        case id_ce_subjectKeyIdentifier:
          cert.subjectKeyId = Buffer.from(parseExtension(raw, SubjectKeyIdentifier, oid).buffer);
          if (ext.critical) cert.unhandledCritical.push(oid);
          break;
        case id_ce_authorityKeyIdentifier: {
          const aki = parseExtension(raw, AuthorityKeyIdentifier, oid);
          cert.authorityKeyId = {
            issuerNames: (aki.authorityCertIssuer ?? []).flatMap((g) =>
              g.directoryName ? [canonicalName(g.directoryName)] : [],
            ),
          };
          if (aki.keyIdentifier) cert.authorityKeyId.keyId = Buffer.from(aki.keyIdentifier.buffer);
          if (aki.authorityCertSerialNumber)
            cert.authorityKeyId.serial = Buffer.from(aki.authorityCertSerialNumber);
          // RFC 5280 §4.2.1.1: conforming CAs mark it non-critical; OpenSSL refuses it critical too.
          if (ext.critical) cert.unhandledCritical.push(oid);
          break;
        }
        case id_ce_policyConstraints: {
          const pc = parseExtension(raw, PolicyConstraints, oid);
          if (pc.requireExplicitPolicy !== undefined)
            cert.requireExplicitPolicy = skipCerts(pc.requireExplicitPolicy, 'requireExplicitPolicy');
          break;
        }
        case id_ce_nameConstraints: {
          const nc = parseExtension(raw, NameConstraints, oid);
          cert.nameConstraints = {
            permitted: subtrees(nc.permittedSubtrees ?? []),
            excluded: subtrees(nc.excludedSubtrees ?? []),
          };
          break;
        }
        default:
          if (ext.critical && !HANDLED_CRITICAL.has(oid)) cert.unhandledCritical.push(oid);
      }
    } catch (err) {
      if (err instanceof CertificateParseError) fail(err.message);
      throw err;
    }
  }
  // Cross-check what node:crypto (OpenSSL) read from the same bytes: what this parse calls a CA
  // (basicConstraints cA, keyCertSign if key usage is present) OpenSSL must call one too.
  const ca =
    cert.basicConstraints?.ca === true &&
    (cert.keyUsage === undefined || (cert.keyUsage & KU_KEY_CERT_SIGN) !== 0);
  if (ca && !x509.ca) fail('the two certificate parsers disagree on the CA flag');
  return cert;
}

const publicKeys = new WeakMap<ParsedCertificate, KeyObject>();
/** The certificate's public key (node:crypto builds a new KeyObject on every read of x509.publicKey). */
export function publicKeyOf(cert: ParsedCertificate): KeyObject {
  let key = publicKeys.get(cert);
  if (!key) {
    key = cert.x509.publicKey;
    publicKeys.set(cert, key);
  }
  return key;
}

/** Whether `cert` verifies under `issuer`'s public key (node:crypto over the exact TBS bytes). */
export function signedBy(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return cert.x509.verify(publicKeyOf(issuer));
  } catch {
    return false;
  }
}

/**
 * Whether `issuer`'s identifiers fit the AuthorityKeyIdentifier of `cert`, as OpenSSL's
 * X509_check_akid decides when it builds a path: a key identifier must equal the issuer's subject key
 * identifier (when it has one), a serial number the issuer's serial, a directory name the issuer's
 * issuer. A certificate without the extension fits any issuer.
 */
export function authorityKeyIdFits(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const aki = cert.authorityKeyId;
  if (!aki) return true;
  if (aki.keyId && issuer.subjectKeyId && !aki.keyId.equals(issuer.subjectKeyId)) return false;
  if (aki.serial && !aki.serial.equals(issuer.serial)) return false;
  if (aki.issuerNames.length > 0 && !aki.issuerNames.some((n) => namesEqual(n, issuer.issuer))) return false;
  return true;
}

/**
 * A root: self-issued with an AuthorityKeyIdentifier that names itself (OpenSSL's "self-signed" test,
 * which reads identifiers and does not check the signature). A trust anchor's own signature is not
 * part of the path (RFC 5280 §6.1.1 d: the anchor is an input); OpenSSL and Go never check it either.
 */
export function isSelfSigned(cert: ParsedCertificate): boolean {
  return cert.selfIssued && authorityKeyIdFits(cert, cert) && signatureFitsKey(cert, cert);
}

const SIGNATURE_KEY_TYPES: Record<string, readonly string[]> = {
  '1.2.840.10045': ['ec'],
  '1.3.101.112': ['ed25519'],
  '1.3.101.113': ['ed448'],
  '1.2.840.113549.1.1.10': ['rsa', 'rsa-pss'],
  '1.2.840.113549.1.1': ['rsa'],
  '1.2.840.10040': ['dsa'],
};

/** Whether `cert`'s signature algorithm is one `issuer`'s key type makes (OpenSSL's check_sig_alg_match). */
export function signatureFitsKey(cert: ParsedCertificate, issuer: ParsedCertificate): boolean {
  const oid = cert.signatureAlgorithm.oid;
  const family = Object.keys(SIGNATURE_KEY_TYPES)
    .filter((prefix) => oid === prefix || oid.startsWith(`${prefix}.`))
    .sort((a, b) => b.length - a.length)[0];
  const type = publicKeyOf(issuer).asymmetricKeyType;
  return family !== undefined && type !== undefined && (SIGNATURE_KEY_TYPES[family] ?? []).includes(type);
}

/** RSASSA-PSS parameters Go's crypto/x509 accepts: MGF1 with the message hash, salt of the hash's length. */
const PSS_PARAMETERS = new Set(
  (
    [
      ['01', 32],
      ['02', 48],
      ['03', 64],
    ] as const
  ).map(([h, salt]) =>
    [
      '3034a00f300d06096086480165030402',
      h,
      '0500a11c301a06092a864886f70d010108300d06096086480165030402',
      h,
      '0500a2030201',
      salt.toString(16),
    ].join(''),
  ),
);
const SIGNATURE_ALGORITHMS: Record<
  string,
  { name: string; parameters: 'absent' | 'null-or-absent' | 'pss' }
> = {
  '1.2.840.10045.4.3.2': { name: 'ECDSA with SHA-256', parameters: 'absent' },
  '1.2.840.10045.4.3.3': { name: 'ECDSA with SHA-384', parameters: 'absent' },
  '1.2.840.10045.4.3.4': { name: 'ECDSA with SHA-512', parameters: 'absent' },
  '1.3.101.112': { name: 'Ed25519', parameters: 'absent' },
  '1.2.840.113549.1.1.11': { name: 'RSA with SHA-256', parameters: 'null-or-absent' },
  '1.2.840.113549.1.1.12': { name: 'RSA with SHA-384', parameters: 'null-or-absent' },
  '1.2.840.113549.1.1.13': { name: 'RSA with SHA-512', parameters: 'null-or-absent' },
  '1.2.840.113549.1.1.10': { name: 'RSASSA-PSS', parameters: 'pss' },
};
const WEAK_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'RSA with MD5',
  '1.2.840.113549.1.1.5': 'RSA with SHA-1',
  '1.2.840.10045.4.1': 'ECDSA with SHA-1',
  '1.2.840.10040.4.3': 'DSA with SHA-1',
  '1.2.840.113549.1.1.2': 'RSA with MD2',
  '1.2.840.113549.1.1.3': 'RSA with MD4',
};

/**
 * Why the algorithm `cert` is signed with is not acceptable, or undefined. The set is Go's
 * crypto/x509 (what sigstore verifiers run): ECDSA and RSA with SHA-2, RSASSA-PSS with MGF1 over the
 * same hash and a salt of the hash's length, Ed25519. MD5 and SHA-1 are refused (collisions are
 * practical; OpenSSL accepts them unless a security level is set).
 */
export function signatureAlgorithmProblem(cert: ParsedCertificate): string | undefined {
  const { oid, parameters } = cert.signatureAlgorithm;
  const weak = WEAK_ALGORITHMS[oid];
  if (weak)
    return `it is signed with ${weak}, which is broken (collisions can be forged); re-issue it with SHA-256 or better`;
  const known = SIGNATURE_ALGORITHMS[oid];
  if (!known)
    return `it is signed with an algorithm modelgate does not accept (${oid}); use ECDSA, RSA or RSASSA-PSS with SHA-2, or Ed25519`;
  const hex = parameters?.toString('hex');
  const fits =
    known.parameters === 'absent'
      ? hex === undefined
      : known.parameters === 'null-or-absent'
        ? hex === undefined || hex === '0500'
        : hex !== undefined && PSS_PARAMETERS.has(hex);
  if (!fits)
    return known.parameters === 'pss'
      ? 'it is signed with RSASSA-PSS parameters other than MGF1 over the message hash with a salt of the hash length (SHA-256/384/512); re-issue it with standard PSS parameters'
      : `its ${known.name} signature algorithm carries parameters it must not have (RFC 5758, RFC 8410)`;
  return undefined;
}

export function validAt(cert: ParsedCertificate, at: Date): boolean {
  const t = at.getTime();
  return cert.notBefore.getTime() <= t && t <= cert.notAfter.getTime();
}
