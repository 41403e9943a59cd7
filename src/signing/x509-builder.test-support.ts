// Certificates built field by field for the differential path-validation test: node:crypto keys and
// signatures, @peculiar/asn1-x509 structures, so a test can make any shape RFC 5280 talks about —
// including the malformed ones no CA tool writes (negative serials, an inner signature algorithm
// that differs from the outer one, duplicate extensions, GeneralizedTime before 2050, v1 and v2).
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CertificatePolicies,
  CRLDistributionPoints,
  DistributionPoint,
  DistributionPointName,
  PolicyMapping,
  PolicyMappings,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  KeyIdentifier,
  KeyUsage,
  Name,
  NameConstraints,
  PolicyConstraints,
  PolicyInformation,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Time,
  Validity,
} from '@peculiar/asn1-x509';
import { createHash, generateKeyPairSync, sign, constants, type KeyObject } from 'node:crypto';

export type KeyKind = 'p256' | 'p384' | 'p521' | 'ed25519' | 'rsa';
export type SignatureKind =
  | 'ecdsa-sha256'
  | 'ecdsa-sha384'
  | 'ecdsa-sha512'
  | 'ecdsa-sha1'
  | 'ed25519'
  | 'rsa-sha256'
  | 'rsa-sha1'
  | 'rsa-md5'
  /** RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 (the usual parameters). */
  | 'rsa-pss-sha256'
  /** RSASSA-PSS, SHA-256 with MGF1-SHA-1 and salt 20 (consistent, but not what Go accepts). */
  | 'rsa-pss-sha256-mgf1sha1'
  /** RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 20 (OpenSSL verifies it; Go accepts only salt 32). */
  | 'rsa-pss-sha256-salt20';

export type StringEncoding = 'utf8' | 'printable' | 'ia5' | 'bmp' | 'teletex' | 'universal';
export interface Attribute {
  /** Attribute type OID; default CN. */
  type?: string;
  value: string;
  enc?: StringEncoding;
}
/** RDNs in order, each a set of attributes. */
export type NameSpec = Attribute[][];

export const OID = {
  cn: '2.5.4.3',
  o: '2.5.4.10',
  ou: '2.5.4.11',
  c: '2.5.4.6',
  email: '1.2.840.113549.1.9.1',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  anyEku: '2.5.29.37.0',
  anyPolicy: '2.5.29.32.0',
} as const;

export const cn = (value: string, enc: StringEncoding = 'utf8'): NameSpec => [[{ value, enc }]];

export type NameForm =
  | { email: string }
  | { dns: string }
  | { uri: string }
  /** "10.0.0.1" or, in a name constraint, "10.0.0.0/8". */
  | { ip: string }
  | { dn: NameSpec };

export interface ExtensionSpec {
  oid: string;
  critical: boolean;
  /** DER of extnValue's content. */
  value: Buffer;
}

export interface CertificateSpec {
  subject: NameSpec;
  /** Key of this certificate (a name in the key ring). */
  key: string;
  /** Certificate that signs this one (its key and, unless issuerName is set, its subject). */
  issuer: string | 'self';
  issuerName?: NameSpec;
  /** Sign with this key instead of the issuer's (a forged or cross-signed certificate). */
  signingKey?: string;
  version?: 1 | 2 | 3;
  serial?: Buffer;
  notBefore: Date;
  notAfter: Date;
  /** How the validity is encoded; 'auto' is RFC 5280 §4.1.2.5 (UTCTime through 2049). */
  timeEncoding?: 'auto' | 'generalized' | 'utc';
  signature?: SignatureKind;
  /** The TBS names this algorithm while the outer field and the real signature use `signature`. */
  innerSignature?: SignatureKind;
  extensions: ExtensionSpec[];
}

const SIGNATURES: Record<SignatureKind, { oid: string; hash: string | null; params?: Buffer }> = {
  'ecdsa-sha256': { oid: '1.2.840.10045.4.3.2', hash: 'sha256' },
  'ecdsa-sha384': { oid: '1.2.840.10045.4.3.3', hash: 'sha384' },
  'ecdsa-sha512': { oid: '1.2.840.10045.4.3.4', hash: 'sha512' },
  'ecdsa-sha1': { oid: '1.2.840.10045.4.1', hash: 'sha1' },
  ed25519: { oid: '1.3.101.112', hash: null },
  'rsa-sha256': { oid: '1.2.840.113549.1.1.11', hash: 'sha256', params: Buffer.from('0500', 'hex') },
  'rsa-sha1': { oid: '1.2.840.113549.1.1.5', hash: 'sha1', params: Buffer.from('0500', 'hex') },
  'rsa-md5': { oid: '1.2.840.113549.1.1.4', hash: 'md5', params: Buffer.from('0500', 'hex') },
  'rsa-pss-sha256': {
    oid: '1.2.840.113549.1.1.10',
    hash: 'sha256',
    params: Buffer.from(
      '3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120',
      'hex',
    ),
  },
  'rsa-pss-sha256-salt20': {
    oid: '1.2.840.113549.1.1.10',
    hash: 'sha256',
    params: Buffer.from(
      '3034a00f300d06096086480165030402010500a11c301a06092a864886f70d010108300d06096086480165030402010500a203020114',
      'hex',
    ),
  },
  'rsa-pss-sha256-mgf1sha1': {
    oid: '1.2.840.113549.1.1.10',
    hash: 'sha256',
    // hashAlgorithm SHA-256, maskGenAlgorithm MGF1 with SHA-1 (the default), saltLength 20 (default).
    params: Buffer.from('3011a00f300d06096086480165030402010500', 'hex'),
  },
};

/** A signature kind that fits a key. */
export function defaultSignature(kind: KeyKind): SignatureKind {
  switch (kind) {
    case 'p256':
      return 'ecdsa-sha256';
    case 'p384':
      return 'ecdsa-sha384';
    case 'p521':
      return 'ecdsa-sha512';
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
      return 'rsa-sha256';
  }
}

export interface KeyPair {
  kind: KeyKind;
  privateKey: KeyObject;
  publicKey: KeyObject;
  spki: Buffer;
}

/**
 * Keys by name, for one chain. Keys come from pools shared between rings (the n-th key of a kind a
 * ring hands out is the pool's n-th), so chains of different cases reuse keys; within one ring two
 * names never share a key.
 */
export class KeyRing {
  private readonly keys = new Map<string, KeyPair>();
  constructor(private readonly pools: Map<KeyKind, KeyPair[]> = new Map()) {}

  private generate(kind: KeyKind): KeyPair {
    const pair =
      kind === 'rsa'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : kind === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('ec', {
              namedCurve: { p256: 'prime256v1', p384: 'secp384r1', p521: 'secp521r1' }[kind],
            });
    return {
      kind,
      privateKey: pair.privateKey,
      publicKey: pair.publicKey,
      spki: pair.publicKey.export({ type: 'spki', format: 'der' }),
    };
  }

  get(name: string, kind: KeyKind = 'p256'): KeyPair {
    const known = this.keys.get(name);
    if (known) {
      if (known.kind !== kind) throw new Error(`key ${name} is ${known.kind}, asked for ${kind}`);
      return known;
    }
    const pool = this.pools.get(kind) ?? [];
    this.pools.set(kind, pool);
    const n = [...this.keys.values()].filter((k) => k.kind === kind).length;
    while (pool.length <= n) pool.push(this.generate(kind));
    const pair = pool[n] as KeyPair;
    this.keys.set(name, pair);
    return pair;
  }
}

function attributeValue(a: Attribute): AttributeValue {
  switch (a.enc ?? 'utf8') {
    case 'utf8':
      return new AttributeValue({ utf8String: a.value });
    case 'printable':
      return new AttributeValue({ printableString: a.value });
    case 'ia5':
      return new AttributeValue({ ia5String: a.value });
    case 'bmp':
      return new AttributeValue({ bmpString: a.value });
    case 'teletex':
      return new AttributeValue({ teletexString: a.value });
    case 'universal':
      return new AttributeValue({ universalString: a.value });
  }
}

export function asnName(spec: NameSpec): Name {
  return new Name(
    spec.map(
      (rdn) =>
        new RelativeDistinguishedName(
          rdn.map((a) => new AttributeTypeAndValue({ type: a.type ?? OID.cn, value: attributeValue(a) })),
        ),
    ),
  );
}

function ipBytes(text: string): Buffer {
  const [addr = '', prefix] = text.split('/');
  const bytes = addr.includes(':')
    ? Buffer.from(
        addr
          .split(':')
          .flatMap((h) => [parseInt(h.padStart(4, '0').slice(0, 2), 16), parseInt(h.slice(-2), 16)]),
      )
    : Buffer.from(addr.split('.').map(Number));
  if (prefix === undefined) return bytes;
  const mask = Buffer.alloc(bytes.length);
  for (let i = 0; i < Number(prefix); i++) mask[i >> 3] = (mask[i >> 3] ?? 0) | (0x80 >> (i & 7));
  return Buffer.concat([bytes, mask]);
}

export function asnGeneralName(n: NameForm): GeneralName {
  if ('email' in n) return new GeneralName({ rfc822Name: n.email });
  if ('dns' in n) return new GeneralName({ dNSName: n.dns });
  if ('uri' in n) return new GeneralName({ uniformResourceIdentifier: n.uri });
  if ('ip' in n) {
    // The schema's iPAddress converter reads text; give it the raw octets through an [7] IMPLICIT TLV.
    const raw = ipBytes(n.ip);
    return AsnConvert.parse(Buffer.concat([Buffer.from([0x87, raw.length]), raw]), GeneralName);
  }
  return new GeneralName({ directoryName: asnName(n.dn) });
}

const der = (value: unknown): Buffer => Buffer.from(AsnConvert.serialize(value));
const ext = (oid: string, critical: boolean, value: unknown): ExtensionSpec => ({
  oid,
  critical,
  value: der(value),
});

/** Extension builders. */
export const X = {
  basicConstraints: (ca: boolean, pathLen?: number, critical = true): ExtensionSpec => {
    const bc = new BasicConstraints({ cA: ca });
    if (pathLen !== undefined) bc.pathLenConstraint = pathLen;
    return ext('2.5.29.19', critical, bc);
  },
  keyUsage: (flags: number, critical = true): ExtensionSpec =>
    ext('2.5.29.15', critical, new KeyUsage(flags)),
  extKeyUsage: (oids: string[], critical = false): ExtensionSpec =>
    ext('2.5.29.37', critical, new ExtendedKeyUsage(oids)),
  subjectAltName: (names: NameForm[], critical = false): ExtensionSpec =>
    ext('2.5.29.17', critical, new SubjectAlternativeName(names.map(asnGeneralName))),
  issuerAltName: (names: NameForm[], critical = false): ExtensionSpec =>
    ext('2.5.29.18', critical, new SubjectAlternativeName(names.map(asnGeneralName))),
  nameConstraints: (c: { permitted?: NameForm[]; excluded?: NameForm[] }, critical = true): ExtensionSpec => {
    const subtrees = (list: NameForm[] | undefined) =>
      list === undefined
        ? undefined
        : new GeneralSubtrees(list.map((base) => new GeneralSubtree({ base: asnGeneralName(base) })));
    const nc = new NameConstraints({});
    const permitted = subtrees(c.permitted);
    const excluded = subtrees(c.excluded);
    if (permitted) nc.permittedSubtrees = permitted;
    if (excluded) nc.excludedSubtrees = excluded;
    return ext('2.5.29.30', critical, nc);
  },
  subjectKeyId: (id: Buffer, critical = false): ExtensionSpec =>
    ext('2.5.29.14', critical, new KeyIdentifier(new Uint8Array(id))),
  authorityKeyId: (id: Buffer, critical = false): ExtensionSpec =>
    ext(
      '2.5.29.35',
      critical,
      new AuthorityKeyIdentifier({ keyIdentifier: new KeyIdentifier(new Uint8Array(id)) }),
    ),
  certificatePolicies: (oids: string[], critical = false): ExtensionSpec =>
    ext(
      '2.5.29.32',
      critical,
      new CertificatePolicies(oids.map((policyIdentifier) => new PolicyInformation({ policyIdentifier }))),
    ),
  policyConstraints: (requireExplicitPolicy: number, critical = true): ExtensionSpec => {
    const pc = new PolicyConstraints({});
    pc.requireExplicitPolicy = new Uint8Array([requireExplicitPolicy]).buffer;
    return ext('2.5.29.36', critical, pc);
  },
  crlDistributionPoints: (uri: string, critical = false): ExtensionSpec =>
    ext(
      '2.5.29.31',
      critical,
      new CRLDistributionPoints([
        new DistributionPoint({
          distributionPoint: new DistributionPointName({
            fullName: [asnGeneralName({ uri })],
          }),
        }),
      ]),
    ),
  policyMappings: (issuerPolicy: string, subjectPolicy: string, critical = true): ExtensionSpec =>
    ext(
      '2.5.29.33',
      critical,
      new PolicyMappings([
        Object.assign(new PolicyMapping(), {
          issuerDomainPolicy: issuerPolicy,
          subjectDomainPolicy: subjectPolicy,
        }),
      ]),
    ),
  /** An extension nobody processes, DER NULL. */
  unknown: (oid: string, critical: boolean): ExtensionSpec => ({
    oid,
    critical,
    value: Buffer.from('0500', 'hex'),
  }),
  /** A known extension by OID with a raw value. */
  raw: (oid: string, critical: boolean, value: Buffer): ExtensionSpec => ({ oid, critical, value }),
};

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING. */
const keyIds = new WeakMap<KeyPair, Buffer>();
export function keyIdentifier(pair: KeyPair): Buffer {
  const known = keyIds.get(pair);
  if (known) return known;
  const spki = AsnConvert.parse(pair.spki, SubjectPublicKeyInfo);
  const id = createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();
  keyIds.set(pair, id);
  return id;
}

function algorithm(kind: SignatureKind): AlgorithmIdentifier {
  const s = SIGNATURES[kind];
  const id = new AlgorithmIdentifier({ algorithm: s.oid });
  if (s.params) id.parameters = new Uint8Array(s.params).buffer;
  return id;
}

function time(d: Date, encoding: CertificateSpec['timeEncoding']): Time {
  const useGeneral = encoding === 'generalized' || (encoding !== 'utc' && d.getUTCFullYear() >= 2050);
  return useGeneral ? new Time({ generalTime: d }) : new Time({ utcTime: d });
}

function signBytes(kind: SignatureKind, data: Buffer, key: KeyPair): Buffer {
  const s = SIGNATURES[kind];
  if (kind.startsWith('rsa-pss'))
    return sign(s.hash, data, {
      key: key.privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: kind === 'rsa-pss-sha256' ? 32 : 20,
      ...(kind === 'rsa-pss-sha256-salt20' ? { mgf1HashAlgorithm: 'sha256' } : {}),
      ...(kind === 'rsa-pss-sha256-mgf1sha1' ? { mgf1HashAlgorithm: 'sha1' } : {}),
    } as Parameters<typeof sign>[2]);
  return sign(s.hash, data, key.privateKey);
}

/** Build the DER certificate described by `spec`; `lookup` gives other certificates' specs by name. */
export function buildCertificate(
  spec: CertificateSpec,
  ring: KeyRing,
  keyKinds: Record<string, KeyKind>,
  lookup: (name: string) => CertificateSpec,
  /** An RDN appended to every non-empty name, so chains of different cases can share one store. */
  namespace?: Attribute,
): Buffer {
  const scoped = (n: NameSpec): NameSpec => (namespace && n.length > 0 ? [...n, [namespace]] : n);
  const subjectKey = ring.get(spec.key, keyKinds[spec.key]);
  const issuerSpec = spec.issuer === 'self' ? spec : lookup(spec.issuer);
  const signerName = spec.signingKey ?? issuerSpec.key;
  const signer = ring.get(signerName, keyKinds[signerName]);
  const outer = spec.signature ?? defaultSignature(signer.kind);
  const inner = spec.innerSignature ?? outer;
  const version = spec.version ?? 3;
  const tbs = new TBSCertificate({
    version: version - 1,
    serialNumber: new Uint8Array(spec.serial ?? Buffer.from([0x01])).buffer,
    signature: algorithm(inner),
    issuer: asnName(scoped(spec.issuerName ?? issuerSpec.subject)),
    validity: new Validity({ notBefore: spec.notBefore, notAfter: spec.notAfter }),
    subject: asnName(scoped(spec.subject)),
    subjectPublicKeyInfo: AsnConvert.parse(subjectKey.spki, SubjectPublicKeyInfo),
  });
  tbs.validity.notBefore = time(spec.notBefore, spec.timeEncoding);
  tbs.validity.notAfter = time(spec.notAfter, spec.timeEncoding);
  // Key-identifier markers (SKI/AKI "of" a named key) become real identifiers now that keys exist.
  const extensions = spec.extensions.map((e) => {
    if (e.oid !== 'ski-of' && e.oid !== 'aki-of') return e;
    const named = e.value.toString();
    const id = keyIdentifier(ring.get(named, keyKinds[named]));
    return e.oid === 'ski-of' ? X.subjectKeyId(id, e.critical) : X.authorityKeyId(id, e.critical);
  });
  if (extensions.length > 0)
    tbs.extensions = new Extensions(
      extensions.map(
        (e) =>
          new Extension({
            extnID: e.oid,
            critical: e.critical,
            extnValue: new OctetString(new Uint8Array(e.value)),
          }),
      ),
    );
  const tbsDer = der(tbs);
  const cert = new Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: algorithm(outer),
    signatureValue: new Uint8Array(signBytes(outer, tbsDer, signer)).buffer,
  });
  return der(cert);
}

export const toPem = (d: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${(d.toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END CERTIFICATE-----\n`;
