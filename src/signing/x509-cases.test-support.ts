// The chains of the differential path-validation test: a well-formed chain of every depth (0–3
// intermediates) and named mutations along each dimension RFC 5280 path validation cares about,
// applied one at a time and in seeded random combinations. Pure: specs only, no keys, no I/O.
import {
  cn,
  OID,
  X,
  type CertificateSpec,
  type ExtensionSpec,
  type KeyKind,
  type NameForm,
  type NameSpec,
  type SignatureKind,
  type StringEncoding,
} from './x509-builder.test-support.ts';

export type Role = 'root' | 'i1' | 'i2' | 'i3' | 'leaf';

export interface ChainCase {
  id: string;
  specs: Record<string, CertificateSpec>;
  keyKinds: Record<string, KeyKind>;
  leaf: string;
  trusted: string[];
  untrusted: string[];
  at: Date;
}

export const T0 = new Date('2025-01-01T00:00:00Z');
export const T1 = new Date('2035-01-01T00:00:00Z');
/** The verification time of every case unless a mutation moves it. */
export const AT = new Date('2026-06-01T12:00:00Z');
const DAY = 86_400_000;

const KU = { ds: 1, nr: 2, ke: 4, certSign: 32, crlSign: 64 } as const;

/** Key identifiers are filled in by the test once keys exist: a marker extension names the key. */
export const SKI_OF = (key: string): ExtensionSpec => ({
  oid: 'ski-of',
  critical: false,
  value: Buffer.from(key),
});
export const AKI_OF = (key: string): ExtensionSpec => ({
  oid: 'aki-of',
  critical: false,
  value: Buffer.from(key),
});

const caExtensions = (key: string, issuerKey: string | undefined): ExtensionSpec[] => [
  X.basicConstraints(true),
  X.keyUsage(KU.certSign | KU.crlSign),
  SKI_OF(key),
  ...(issuerKey ? [AKI_OF(issuerKey)] : []),
];

/** root → i1 → … → i{depth} → leaf, all P-256, valid T0..T1, a code-signing leaf with an email SAN. */
export function baseChain(depth: number, id: string): ChainCase {
  const specs: Record<string, CertificateSpec> = {};
  specs.root = {
    subject: [[{ type: OID.o, value: 'Corp', enc: 'printable' }], [{ value: 'Corp Root' }]],
    key: 'root',
    issuer: 'self',
    notBefore: T0,
    notAfter: T1,
    extensions: caExtensions('root', undefined),
  };
  let above = 'root';
  const untrusted: string[] = [];
  for (let i = 1; i <= depth; i++) {
    const name = `i${i}`;
    specs[name] = {
      subject: [[{ type: OID.o, value: 'Corp', enc: 'printable' }], [{ value: `Corp Intermediate ${i}` }]],
      key: name,
      issuer: above,
      serial: Buffer.from([0x10 + i]),
      notBefore: T0,
      notAfter: T1,
      extensions: caExtensions(name, above),
    };
    untrusted.push(name);
    above = name;
  }
  specs.leaf = {
    subject: [[{ type: OID.o, value: 'Corp', enc: 'printable' }], [{ value: 'model signer' }]],
    key: 'leaf',
    issuer: above,
    serial: Buffer.from([0x42]),
    notBefore: T0,
    notAfter: T1,
    extensions: [
      X.basicConstraints(false),
      X.keyUsage(KU.ds),
      X.extKeyUsage([OID.codeSigning]),
      X.subjectAltName([{ email: 'signer@corp.example' }]),
      AKI_OF(above),
    ],
  };
  return { id, specs, keyKinds: {}, leaf: 'leaf', trusted: ['root'], untrusted, at: AT };
}

type Mutation = (c: ChainCase) => void;
interface NamedMutation {
  name: string;
  /** Roles the mutation needs (the case is skipped at depths that lack them). */
  needs: Role[];
  apply: Mutation;
}

const roles = (c: ChainCase): Role[] =>
  (['root', 'i1', 'i2', 'i3', 'leaf'] as Role[]).filter((r) => c.specs[r] !== undefined);
/** The CA just above the leaf. */
const bottomCa = (c: ChainCase): string => c.specs.leaf?.issuer as string;

const spec = (c: ChainCase, r: string): CertificateSpec => {
  const s = c.specs[r];
  if (!s) throw new Error(`no ${r} in ${c.id}`);
  return s;
};
const withoutExt = (s: CertificateSpec, oid: string) => {
  s.extensions = s.extensions.filter((e) => e.oid !== oid);
};
const setExt = (s: CertificateSpec, e: ExtensionSpec) => {
  const i = s.extensions.findIndex((x) => x.oid === e.oid);
  if (i >= 0) s.extensions[i] = e;
  else s.extensions.push(e);
};
const OIDS = {
  bc: '2.5.29.19',
  ku: '2.5.29.15',
  eku: '2.5.29.37',
  san: '2.5.29.17',
  nc: '2.5.29.30',
  aki: '2.5.29.35',
  ski: '2.5.29.14',
  cp: '2.5.29.32',
  pc: '2.5.29.36',
  aia: '1.3.6.1.5.5.7.1.1',
  crldp: '2.5.29.31',
  ian: '2.5.29.18',
} as const;

/** The leaf's SAN set to `names` (critical when the subject is empty, RFC 5280 §4.2.1.6). */
const leafNames = (c: ChainCase, names: NameForm[], subject?: NameSpec) => {
  const leaf = spec(c, 'leaf');
  if (subject) leaf.subject = subject;
  if (names.length === 0) withoutExt(leaf, OIDS.san);
  else setExt(leaf, X.subjectAltName(names, leaf.subject.length === 0));
};

const CA_ROLES: Role[] = ['root', 'i1', 'i2', 'i3'];
const perCa = (name: string, apply: (c: ChainCase, r: Role) => void): NamedMutation[] =>
  CA_ROLES.map((r) => ({ name: `${name}@${r}`, needs: [r], apply: (c) => apply(c, r) }));
const perCert = (name: string, apply: (c: ChainCase, r: Role) => void): NamedMutation[] =>
  [...CA_ROLES, 'leaf' as Role].map((r) => ({ name: `${name}@${r}`, needs: [r], apply: (c) => apply(c, r) }));
const one = (name: string, apply: Mutation, needs: Role[] = []): NamedMutation => ({ name, needs, apply });

/** Name-constraint scenarios: the constraint (on a CA) and the leaf names it is judged on. */
const NC_SCENARIOS: {
  name: string;
  nc: { permitted?: NameForm[]; excluded?: NameForm[] };
  leaf: NameForm[];
  subject?: NameSpec;
}[] = [
  {
    name: 'email-in',
    nc: { permitted: [{ email: 'corp.example' }] },
    leaf: [{ email: 'signer@corp.example' }],
  },
  { name: 'email-out', nc: { permitted: [{ email: 'corp.example' }] }, leaf: [{ email: 'a@evil.example' }] },
  {
    name: 'email-subdomain',
    nc: { permitted: [{ email: 'corp.example' }] },
    leaf: [{ email: 'a@x.corp.example' }],
  },
  {
    name: 'email-dot-subdomain',
    nc: { permitted: [{ email: '.corp.example' }] },
    leaf: [{ email: 'a@x.corp.example' }],
  },
  {
    name: 'email-mailbox',
    nc: { permitted: [{ email: 'ci@corp.example' }] },
    leaf: [{ email: 'ci@corp.example' }],
  },
  {
    name: 'email-mailbox-other',
    nc: { permitted: [{ email: 'ci@corp.example' }] },
    leaf: [{ email: 'cd@corp.example' }],
  },
  {
    name: 'email-case',
    nc: { permitted: [{ email: 'Corp.Example' }] },
    leaf: [{ email: 'signer@CORP.example' }],
  },
  {
    name: 'email-excluded',
    nc: { excluded: [{ email: 'ceo@corp.example' }] },
    leaf: [{ email: 'ceo@corp.example' }],
  },
  {
    name: 'email-excluded-host',
    nc: { excluded: [{ email: 'evil.example' }] },
    leaf: [{ email: 'x@evil.example' }],
  },
  {
    name: 'email-one-bad',
    nc: { permitted: [{ email: 'corp.example' }] },
    leaf: [{ email: 'signer@corp.example' }, { email: 'x@evil.example' }],
  },
  { name: 'dns-in', nc: { permitted: [{ dns: 'corp.example' }] }, leaf: [{ dns: 'build.corp.example' }] },
  { name: 'dns-out', nc: { permitted: [{ dns: 'corp.example' }] }, leaf: [{ dns: 'build.evil.example' }] },
  { name: 'dns-suffix', nc: { permitted: [{ dns: 'corp.example' }] }, leaf: [{ dns: 'evilcorp.example' }] },
  { name: 'dns-dot-base', nc: { permitted: [{ dns: '.corp.example' }] }, leaf: [{ dns: 'corp.example' }] },
  { name: 'dns-excluded', nc: { excluded: [{ dns: 'evil.example' }] }, leaf: [{ dns: 'a.evil.example' }] },
  {
    name: 'dns-excluded-case',
    nc: { excluded: [{ dns: 'evil.example' }] },
    leaf: [{ dns: 'A.EVIL.example' }],
  },
  {
    name: 'dns-cn-only-in',
    nc: { permitted: [{ dns: 'corp.example' }] },
    leaf: [],
    subject: cn('build.corp.example'),
  },
  {
    name: 'dns-cn-only-out',
    nc: { permitted: [{ dns: 'corp.example' }] },
    leaf: [],
    subject: cn('build.evil.example'),
  },
  {
    name: 'dns-cn-with-san',
    nc: { permitted: [{ dns: 'corp.example' }] },
    leaf: [{ dns: 'a.corp.example' }],
    subject: cn('build.evil.example'),
  },
  {
    name: 'uri-spiffe-in',
    nc: { permitted: [{ uri: 'corp.example' }] },
    leaf: [{ uri: 'spiffe://corp.example/ns/ml/sa/signer' }],
  },
  {
    name: 'uri-spiffe-out',
    nc: { permitted: [{ uri: 'corp.example' }] },
    leaf: [{ uri: 'spiffe://evil.example/ns/ml/sa/signer' }],
  },
  {
    name: 'uri-https-in',
    nc: { permitted: [{ uri: '.corp.example' }] },
    leaf: [{ uri: 'https://ci.corp.example/release' }],
  },
  {
    name: 'uri-https-out',
    nc: { permitted: [{ uri: '.corp.example' }] },
    leaf: [{ uri: 'https://ci.evil.example/release' }],
  },
  {
    name: 'uri-port',
    nc: { permitted: [{ uri: 'corp.example' }] },
    leaf: [{ uri: 'https://corp.example:8443/x' }],
  },
  {
    name: 'uri-excluded',
    nc: { excluded: [{ uri: 'evil.example' }] },
    leaf: [{ uri: 'https://evil.example/x' }],
  },
  {
    name: 'uri-userinfo-excluded',
    nc: { excluded: [{ uri: 'evil.example' }] },
    leaf: [{ uri: 'https://corp.example@evil.example/' }],
  },
  {
    name: 'uri-no-authority',
    nc: { permitted: [{ uri: 'corp.example' }] },
    leaf: [{ uri: 'urn:corp.example:x' }],
  },
  {
    name: 'dn-in',
    nc: { permitted: [{ dn: [[{ type: OID.o, value: 'Corp', enc: 'printable' }]] }] },
    leaf: [{ email: 'signer@corp.example' }],
  },
  {
    name: 'dn-out',
    nc: { permitted: [{ dn: [[{ type: OID.o, value: 'Other', enc: 'printable' }]] }] },
    leaf: [{ email: 'signer@corp.example' }],
  },
  {
    name: 'dn-excluded',
    nc: { excluded: [{ dn: [[{ type: OID.o, value: 'Corp', enc: 'printable' }]] }] },
    leaf: [{ email: 'signer@corp.example' }],
  },
  {
    name: 'dn-san-out',
    nc: { permitted: [{ dn: [[{ type: OID.o, value: 'Corp', enc: 'printable' }]] }] },
    leaf: [{ dn: [[{ type: OID.o, value: 'Other' }]] }],
  },
  { name: 'ip-in', nc: { permitted: [{ ip: '10.0.0.0/8' }] }, leaf: [{ ip: '10.1.2.3' }] },
  { name: 'ip-out', nc: { permitted: [{ ip: '10.0.0.0/8' }] }, leaf: [{ ip: '11.1.2.3' }] },
  { name: 'ip-excluded', nc: { excluded: [{ ip: '10.0.0.0/8' }] }, leaf: [{ ip: '10.1.2.3' }] },
  {
    name: 'ip-v6-under-v4',
    nc: { permitted: [{ ip: '10.0.0.0/8' }] },
    leaf: [{ ip: '2001:db8:0:0:0:0:0:1' }],
  },
  {
    name: 'dns-trailing-dot-excluded',
    nc: { excluded: [{ dns: 'evil.example' }] },
    leaf: [{ dns: 'a.evil.example.' }],
  },
  {
    name: 'dns-wildcard-excluded',
    nc: { excluded: [{ dns: 'evil.example' }] },
    leaf: [{ dns: '*.evil.example' }],
  },
  {
    name: 'dns-wildcard-permitted',
    nc: { permitted: [{ dns: 'corp.example' }] },
    leaf: [{ dns: '*.corp.example' }],
  },
  {
    name: 'dns-cn-with-email-san',
    nc: { permitted: [{ dns: 'corp.example' }] },
    leaf: [{ email: 'a@corp.example' }],
    subject: cn('build.evil.example'),
  },
  {
    name: 'uri-ip-literal-excluded',
    nc: { excluded: [{ uri: 'evil.example' }] },
    leaf: [{ uri: 'https://[2001:db8::1]/x' }],
  },
  {
    name: 'uri-upper-case-host',
    nc: { permitted: [{ uri: 'corp.example' }] },
    leaf: [{ uri: 'HTTPS://CORP.EXAMPLE/x' }],
  },
  {
    name: 'uri-spiffe-trust-domain-suffix',
    nc: { permitted: [{ uri: 'corp.example' }] },
    leaf: [{ uri: 'spiffe://evilcorp.example/ns/a' }],
  },
  {
    name: 'ip-v4-mapped-excluded',
    nc: { excluded: [{ ip: '10.0.0.0/8' }] },
    leaf: [{ ip: '0:0:0:0:0:ffff:a00:1' }],
  },
  {
    name: 'ip-v6-in',
    nc: { permitted: [{ ip: '2001:db8:0:0:0:0:0:0/32' }] },
    leaf: [{ ip: '2001:db8:0:0:0:0:0:1' }],
  },
  {
    name: 'dn-case',
    nc: { permitted: [{ dn: [[{ type: OID.o, value: 'corp' }]] }] },
    leaf: [{ email: 'signer@corp.example' }],
  },
  {
    name: 'email-and-dns-mixed',
    nc: { permitted: [{ email: 'corp.example' }, { dns: 'corp.example' }] },
    leaf: [{ email: 'a@corp.example' }, { dns: 'x.evil.example' }],
  },
  {
    name: 'uri-query-after-host',
    nc: { permitted: [{ uri: 'corp.example' }] },
    leaf: [{ uri: 'https://corp.example?.evil.example' }],
  },
  {
    name: 'uri-fragment-excluded',
    nc: { excluded: [{ uri: 'evil.example' }] },
    leaf: [{ uri: 'https://evil.example#@corp.example' }],
  },
  {
    name: 'uri-percent-host-excluded',
    nc: { excluded: [{ uri: 'evil.example' }] },
    leaf: [{ uri: 'https://%65vil.example/x' }],
  },
  {
    name: 'uri-trailing-dot-excluded',
    nc: { excluded: [{ uri: 'evil.example' }] },
    leaf: [{ uri: 'https://evil.example./x' }],
  },
  { name: 'dns-empty-permitted', nc: { permitted: [{ dns: 'corp.example' }] }, leaf: [{ dns: '' }] },
  { name: 'dns-empty-excluded', nc: { excluded: [{ dns: 'evil.example' }] }, leaf: [{ dns: '' }] },
  {
    name: 'empty-permitted-list',
    nc: { permitted: [], excluded: [{ dns: 'evil.example' }] },
    leaf: [{ email: 'a@evil.example' }],
  },
  {
    name: 'email-quoted-at',
    nc: { excluded: [{ email: 'evil.example' }] },
    leaf: [{ email: '"a@corp.example"@evil.example' }],
  },
  {
    name: 'other-form-free',
    nc: { permitted: [{ dns: 'corp.example' }] },
    leaf: [{ email: 'a@evil.example' }],
  },
  {
    name: 'empty-subject-in',
    nc: { permitted: [{ email: 'corp.example' }] },
    leaf: [{ email: 'a@corp.example' }],
    subject: [],
  },
  {
    name: 'empty-subject-out',
    nc: { permitted: [{ email: 'corp.example' }] },
    leaf: [{ email: 'a@evil.example' }],
    subject: [],
  },
  {
    name: 'subject-email-out',
    nc: { permitted: [{ email: 'corp.example' }] },
    leaf: [{ email: 'a@corp.example' }],
    subject: [[{ type: OID.email, value: 'x@evil.example', enc: 'ia5' }]],
  },
];

function mutations(): NamedMutation[] {
  const m: NamedMutation[] = [];
  // basicConstraints
  m.push(...perCa('bc-absent', (c, r) => withoutExt(spec(c, r), OIDS.bc)));
  m.push(...perCa('bc-ca-false', (c, r) => setExt(spec(c, r), X.basicConstraints(false))));
  m.push(
    ...perCa('bc-noncritical', (c, r) => setExt(spec(c, r), X.basicConstraints(true, undefined, false))),
  );
  for (const n of [0, 1, 2])
    m.push(...perCa(`pathlen-${n}`, (c, r) => setExt(spec(c, r), X.basicConstraints(true, n))));
  m.push(one('leaf-ca-true', (c) => setExt(spec(c, 'leaf'), X.basicConstraints(true))));
  m.push(one('leaf-bc-absent', (c) => withoutExt(spec(c, 'leaf'), OIDS.bc)));
  m.push(one('leaf-pathlen-no-ca', (c) => setExt(spec(c, 'leaf'), X.basicConstraints(false, 0))));
  // keyUsage
  m.push(...perCa('ku-absent', (c, r) => withoutExt(spec(c, r), OIDS.ku)));
  m.push(...perCa('ku-no-certsign', (c, r) => setExt(spec(c, r), X.keyUsage(KU.ds | KU.crlSign))));
  m.push(...perCa('ku-noncritical', (c, r) => setExt(spec(c, r), X.keyUsage(KU.certSign, false))));
  m.push(one('leaf-ku-absent', (c) => withoutExt(spec(c, 'leaf'), OIDS.ku)));
  m.push(one('leaf-ku-keyencipherment', (c) => setExt(spec(c, 'leaf'), X.keyUsage(KU.ke))));
  m.push(one('leaf-ku-nonrepudiation', (c) => setExt(spec(c, 'leaf'), X.keyUsage(KU.nr))));
  m.push(one('leaf-ku-certsign', (c) => setExt(spec(c, 'leaf'), X.keyUsage(KU.certSign))));
  m.push(one('leaf-ku-noncritical', (c) => setExt(spec(c, 'leaf'), X.keyUsage(KU.ds, false))));
  // extendedKeyUsage
  m.push(one('leaf-eku-absent', (c) => withoutExt(spec(c, 'leaf'), OIDS.eku)));
  m.push(one('leaf-eku-serverauth', (c) => setExt(spec(c, 'leaf'), X.extKeyUsage([OID.serverAuth]))));
  m.push(one('leaf-eku-any', (c) => setExt(spec(c, 'leaf'), X.extKeyUsage([OID.anyEku]))));
  m.push(
    one('leaf-eku-both', (c) => setExt(spec(c, 'leaf'), X.extKeyUsage([OID.serverAuth, OID.codeSigning]))),
  );
  m.push(one('leaf-eku-critical', (c) => setExt(spec(c, 'leaf'), X.extKeyUsage([OID.codeSigning], true))));
  m.push(...perCa('eku-serverauth', (c, r) => setExt(spec(c, r), X.extKeyUsage([OID.serverAuth]))));
  m.push(...perCa('eku-codesigning', (c, r) => setExt(spec(c, r), X.extKeyUsage([OID.codeSigning]))));
  m.push(...perCa('eku-any', (c, r) => setExt(spec(c, r), X.extKeyUsage([OID.anyEku]))));
  // name constraints, on every CA
  for (const s of NC_SCENARIOS)
    m.push(
      ...perCa(`nc-${s.name}`, (c, r) => {
        setExt(spec(c, r), X.nameConstraints(s.nc));
        leafNames(c, s.leaf, s.subject);
      }),
    );
  m.push(
    ...perCa('nc-noncritical-out', (c, r) => {
      setExt(spec(c, r), X.nameConstraints({ permitted: [{ email: 'corp.example' }] }, false));
      leafNames(c, [{ email: 'a@evil.example' }]);
    }),
  );
  m.push(
    one(
      'nc-constrains-lower-ca-subject',
      (c) => {
        setExt(
          spec(c, 'root'),
          X.nameConstraints({ permitted: [{ dn: [[{ type: OID.o, value: 'Corp', enc: 'printable' }]] }] }),
        );
        spec(c, 'i1').subject = [
          [{ type: OID.o, value: 'Other', enc: 'printable' }],
          [{ value: 'Intermediate elsewhere' }],
        ];
        const below = Object.values(c.specs).find((s) => s.issuer === 'i1');
        if (below) below.issuerName = spec(c, 'i1').subject;
      },
      ['i1'],
    ),
  );
  // validity
  const shift = (s: CertificateSpec, nb: Date, na: Date) => {
    s.notBefore = nb;
    s.notAfter = na;
  };
  m.push(...perCert('expired', (c, r) => shift(spec(c, r), T0, new Date(AT.getTime() - DAY))));
  m.push(...perCert('not-yet-valid', (c, r) => shift(spec(c, r), new Date(AT.getTime() + DAY), T1)));
  m.push(...perCert('inverted', (c, r) => shift(spec(c, r), T1, T0)));
  m.push(...perCert('ends-at-time', (c, r) => shift(spec(c, r), T0, AT)));
  m.push(...perCert('ends-second-before', (c, r) => shift(spec(c, r), T0, new Date(AT.getTime() - 1000))));
  m.push(...perCert('starts-at-time', (c, r) => shift(spec(c, r), AT, T1)));
  m.push(...perCert('generalized-before-2050', (c, r) => (spec(c, r).timeEncoding = 'generalized')));
  m.push(...perCert('until-2050', (c, r) => shift(spec(c, r), T0, new Date('2050-06-01T00:00:00Z'))));
  m.push(
    ...perCert('utc-2050-read-as-1950', (c, r) => {
      shift(spec(c, r), T0, new Date('2050-06-01T00:00:00Z'));
      spec(c, r).timeEncoding = 'utc';
    }),
  );
  m.push(one('time-after-all', (c) => (c.at = new Date(T1.getTime() + DAY))));
  // signature algorithms and key types
  const KEY_KINDS: KeyKind[] = ['p384', 'p521', 'ed25519', 'rsa'];
  for (const k of KEY_KINDS) m.push(...perCert(`key-${k}`, (c, r) => (c.keyKinds[spec(c, r).key] = k)));
  const byIssuer = (sig: SignatureKind, kind: KeyKind) =>
    perCert(`sig-${sig}`, (c, r) => {
      const s = spec(c, r);
      const issuerKey = s.issuer === 'self' ? s.key : spec(c, s.issuer).key;
      c.keyKinds[issuerKey] = kind;
      s.signature = sig;
    });
  m.push(...byIssuer('rsa-pss-sha256', 'rsa'));
  m.push(...byIssuer('rsa-pss-sha256-mgf1sha1', 'rsa'));
  m.push(...byIssuer('rsa-sha1', 'rsa'));
  m.push(...byIssuer('rsa-md5', 'rsa'));
  m.push(...byIssuer('ecdsa-sha1', 'p256'));
  m.push(...byIssuer('ecdsa-sha512', 'p256'));
  m.push(...byIssuer('rsa-pss-sha256-salt20', 'rsa'));
  m.push(
    ...perCert('sig-forged-other-key-type', (c, r) => {
      c.keyKinds.strangerRsa = 'rsa';
      spec(c, r).signingKey = 'strangerRsa';
      spec(c, r).signature = 'rsa-sha256';
    }),
  );
  m.push(...perCert('sig-inner-mismatch', (c, r) => (spec(c, r).innerSignature = 'ecdsa-sha384')));
  m.push(...perCert('sig-forged', (c, r) => (spec(c, r).signingKey = 'stranger')));
  // critical extensions
  m.push(
    ...perCert('unknown-critical', (c, r) =>
      spec(c, r).extensions.push(X.unknown('1.3.6.1.4.1.55555.1', true)),
    ),
  );
  m.push(
    ...perCert('unknown-noncritical', (c, r) =>
      spec(c, r).extensions.push(X.unknown('1.3.6.1.4.1.55555.1', false)),
    ),
  );
  m.push(
    ...perCert('aia-critical', (c, r) =>
      spec(c, r).extensions.push(X.raw(OIDS.aia, true, Buffer.from('3000', 'hex'))),
    ),
  );
  m.push(
    ...perCert('ian-critical', (c, r) =>
      spec(c, r).extensions.push(X.issuerAltName([{ dns: 'issuer.corp.example' }], true)),
    ),
  );
  m.push(
    ...perCert('policies-critical', (c, r) =>
      spec(c, r).extensions.push(X.certificatePolicies(['1.3.6.1.4.1.55555.9'], true)),
    ),
  );
  m.push(...perCa('require-explicit-policy', (c, r) => spec(c, r).extensions.push(X.policyConstraints(0))));
  m.push(
    ...perCa('require-explicit-policy-met', (c, r) => {
      for (const s of Object.values(c.specs)) s.extensions.push(X.certificatePolicies([OID.anyPolicy]));
      spec(c, r).extensions.push(X.policyConstraints(0));
    }),
  );
  m.push(
    ...perCa('require-explicit-policy-specific', (c, r) => {
      for (const s of Object.values(c.specs))
        s.extensions.push(X.certificatePolicies(['1.3.6.1.4.1.55555.7']));
      spec(c, r).extensions.push(X.policyConstraints(0));
    }),
  );
  m.push(
    ...perCa('require-explicit-policy-later', (c, r) => spec(c, r).extensions.push(X.policyConstraints(2))),
  );
  m.push(
    one('leaf-require-explicit-policy', (c) =>
      spec(c, 'leaf').extensions.push(X.policyConstraints(0, false)),
    ),
  );
  m.push(
    ...perCert('crldp-critical', (c, r) =>
      spec(c, r).extensions.push(X.crlDistributionPoints('http://crl.corp.example/ca.crl', true)),
    ),
  );
  m.push(
    ...perCert('nscerttype-critical', (c, r) =>
      spec(c, r).extensions.push(X.raw('2.16.840.1.113730.1.1', true, Buffer.from('030200ff', 'hex'))),
    ),
  );
  m.push(
    ...perCert('ocsp-nocheck-critical', (c, r) =>
      spec(c, r).extensions.push(X.raw('1.3.6.1.5.5.7.48.1.5', true, Buffer.from('0500', 'hex'))),
    ),
  );
  m.push(
    ...perCa('inhibit-any-policy-critical', (c, r) =>
      spec(c, r).extensions.push(X.raw('2.5.29.54', true, Buffer.from('020100', 'hex'))),
    ),
  );
  m.push(
    ...perCa('policy-mappings-critical', (c, r) =>
      spec(c, r).extensions.push(X.policyMappings('1.3.6.1.4.1.55555.7', '1.3.6.1.4.1.55555.8')),
    ),
  );
  m.push(
    ...perCert('ski-critical', (c, r) => {
      const s = spec(c, r);
      withoutExt(s, 'ski-of');
      s.extensions.push({ ...SKI_OF(s.key), critical: true });
    }),
  );
  m.push(
    ...perCert('aki-critical', (c, r) => {
      const s = spec(c, r);
      const aki = s.extensions.find((e) => e.oid === 'aki-of');
      if (aki) aki.critical = true;
      else s.extensions.push({ ...AKI_OF(s.key), critical: true });
    }),
  );
  m.push(
    ...perCert('duplicate-unknown', (c, r) =>
      spec(c, r).extensions.push(
        X.unknown('1.3.6.1.4.1.55555.3', false),
        X.unknown('1.3.6.1.4.1.55555.3', false),
      ),
    ),
  );
  m.push(one('duplicate-eku', (c) => spec(c, 'leaf').extensions.push(X.extKeyUsage([OID.codeSigning]))));
  // serial numbers
  m.push(...perCert('serial-negative', (c, r) => (spec(c, r).serial = Buffer.from([0xff, 0x01]))));
  m.push(...perCert('serial-zero', (c, r) => (spec(c, r).serial = Buffer.from([0x00]))));
  m.push(...perCert('serial-20-octets', (c, r) => (spec(c, r).serial = Buffer.alloc(20, 0x5a))));
  m.push(...perCert('serial-21-octets', (c, r) => (spec(c, r).serial = Buffer.alloc(21, 0x5a))));
  // versions
  m.push(
    ...perCert('v1', (c, r) => {
      spec(c, r).version = 1;
      spec(c, r).extensions = [];
    }),
  );
  m.push(...perCert('v2-with-extensions', (c, r) => (spec(c, r).version = 2)));
  m.push(...perCert('v1-with-extensions', (c, r) => (spec(c, r).version = 1)));
  // names: how the issuer is written in the certificate below
  const rename = (name: string, transform: (n: NameSpec) => NameSpec) =>
    perCa(name, (c, r) => {
      for (const s of Object.values(c.specs))
        if (s.issuer === r) s.issuerName = transform(spec(c, r).subject);
    });
  const eachValue = (
    n: NameSpec,
    f: (a: { value: string; enc?: string }) => Partial<{ value: string; enc: StringEncoding }>,
  ) => n.map((rdn) => rdn.map((a) => ({ ...a, ...f(a) })));
  m.push(...rename('issuer-upper-case', (n) => eachValue(n, (a) => ({ value: a.value.toUpperCase() }))));
  m.push(
    ...rename('issuer-extra-spaces', (n) =>
      eachValue(n, (a) => ({ value: `  ${a.value.replace(/ /g, '   ')} ` })),
    ),
  );
  // (VisibleString names are not made: OpenSSL 3.0, and so node:crypto, cannot load them at all.)
  m.push(...rename('issuer-universal', (n) => eachValue(n, () => ({ enc: 'universal' }))));
  // Only ASCII white space is folded (OpenSSL's canonical names); other spaces are characters.
  m.push(
    ...rename('issuer-nbsp', (n) =>
      eachValue(n, (a) => ({ value: a.value.replace(/ /g, '\u00a0'), enc: 'utf8' })),
    ),
  );
  m.push(
    ...rename('issuer-tabs', (n) =>
      eachValue(n, (a) => ({ value: `\t${a.value.replace(/ /g, '\t\n')}\r`, enc: 'utf8' })),
    ),
  );
  m.push(
    ...rename('issuer-em-space-end', (n) =>
      eachValue(n, (a) => ({ value: `${a.value}\u2003`, enc: 'utf8' })),
    ),
  );
  m.push(
    ...rename('issuer-printable-vs-utf8', (n) =>
      eachValue(n, (a) => ({ enc: a.enc === 'printable' ? 'utf8' : 'printable' })),
    ),
  );
  m.push(...rename('issuer-teletex', (n) => eachValue(n, () => ({ enc: 'teletex' }))));
  m.push(...rename('issuer-ia5', (n) => eachValue(n, () => ({ enc: 'ia5' }))));
  m.push(...rename('issuer-bmp', (n) => eachValue(n, () => ({ enc: 'bmp' }))));
  m.push(...rename('issuer-other-name', (n) => eachValue(n, (a) => ({ value: `${a.value} X` }))));
  m.push(...rename('issuer-rdn-order', (n) => [...n].reverse()));
  m.push(
    ...perCa('intermediate-san-outside', (c, r) => {
      setExt(spec(c, 'root'), X.nameConstraints({ permitted: [{ email: 'corp.example' }] }));
      if (r !== 'root') spec(c, r).extensions.push(X.subjectAltName([{ email: 'ca@evil.example' }]));
    }),
  );
  m.push(
    ...perCa('issuer-unicode-case', (c, r) => {
      spec(c, r).subject = [[{ value: 'Ünïcode CA' }]];
      for (const s of Object.values(c.specs)) if (s.issuer === r) s.issuerName = [[{ value: 'üNÏCODE ca' }]];
    }),
  );
  // key identifiers
  m.push(
    ...perCert('aki-mismatch', (c, r) => {
      withoutExt(spec(c, r), 'aki-of');
      spec(c, r).extensions.push(X.authorityKeyId(Buffer.alloc(20, 0xab)));
    }),
  );
  m.push(...perCa('ski-absent', (c, r) => withoutExt(spec(c, r), 'ski-of')));
  m.push(...perCert('aki-absent', (c, r) => withoutExt(spec(c, r), 'aki-of')));
  m.push(
    ...perCa('ski-other', (c, r) => {
      withoutExt(spec(c, r), 'ski-of');
      spec(c, r).extensions.push(X.subjectKeyId(Buffer.alloc(20, 0xcd)));
    }),
  );
  return m;
}

/** Cases whose shape is about the path, not one certificate. */
function pathCases(): ChainCase[] {
  const out: ChainCase[] = [];
  {
    // A self-signed intermediate: the leaf's issuer signs itself but is not trusted.
    const c = baseChain(1, 'path:self-signed-intermediate');
    spec(c, 'i1').issuer = 'self';
    withoutExt(spec(c, 'i1'), 'aki-of');
    out.push(c);
  }
  {
    // A loop: i1 and i2 issue each other; the root is unrelated.
    const c = baseChain(2, 'path:loop');
    spec(c, 'i1').issuer = 'i2';
    withoutExt(spec(c, 'i1'), 'aki-of');
    out.push(c);
  }
  {
    // Cross-signed: the old root's key and name, issued by a new root; only the new root is trusted.
    const c = baseChain(1, 'path:cross-signed-root');
    c.specs.newroot = {
      ...spec(c, 'root'),
      subject: cn('New Root'),
      key: 'newroot',
      extensions: [X.basicConstraints(true), X.keyUsage(KU.certSign)],
    };
    c.specs.cross = {
      ...spec(c, 'root'),
      issuer: 'newroot',
      serial: Buffer.from([0x77]),
      extensions: [X.basicConstraints(true), X.keyUsage(KU.certSign)],
    };
    c.trusted = ['newroot'];
    c.untrusted = ['i1', 'cross'];
    out.push(c);
    const both = structuredCopy(c, 'path:cross-signed-both-trusted');
    both.trusted = ['root', 'newroot'];
    out.push(both);
    const expiredCross = structuredCopy(c, 'path:cross-signed-expired-cross');
    spec(expiredCross, 'cross').notAfter = new Date(AT.getTime() - DAY);
    out.push(expiredCross);
    const expiredCrossOldTrusted = structuredCopy(
      expiredCross,
      'path:cross-signed-expired-cross-old-root-trusted',
    );
    expiredCrossOldTrusted.trusted = ['root', 'newroot'];
    out.push(expiredCrossOldTrusted);
  }
  {
    // The trusted certificate is not self-signed (issued by a CA nobody gave).
    const c = baseChain(1, 'path:anchor-not-self-signed');
    c.specs.upper = { ...spec(c, 'root'), subject: cn('Upper'), key: 'upper' };
    spec(c, 'root').issuer = 'upper';
    out.push(c);
  }
  {
    // Only the intermediate is trusted (no partial chains).
    const c = baseChain(1, 'path:intermediate-as-anchor');
    c.trusted = ['i1'];
    c.untrusted = [];
    out.push(c);
  }
  {
    // A self-signed leaf as its own anchor, and not trusted.
    const c = baseChain(0, 'path:self-signed-leaf-anchor');
    c.specs.leaf = {
      ...spec(c, 'leaf'),
      issuer: 'self',
      extensions: spec(c, 'leaf').extensions.filter((e) => e.oid !== 'aki-of'),
    };
    c.trusted = ['leaf'];
    out.push(c);
    const untrustedSelf = structuredCopy(c, 'path:self-signed-leaf-not-anchor');
    untrustedSelf.trusted = ['root'];
    out.push(untrustedSelf);
  }
  {
    // Two intermediates with the same name and key, one expired: a builder must find the good one.
    const c = baseChain(1, 'path:duplicate-intermediate-one-expired');
    c.specs.i1old = { ...spec(c, 'i1'), serial: Buffer.from([0x66]), notAfter: new Date(AT.getTime() - DAY) };
    c.untrusted = ['i1old', 'i1'];
    out.push(c);
  }
  {
    // The leaf itself is handed in as an untrusted intermediate too.
    const c = baseChain(1, 'path:leaf-repeated');
    c.untrusted = ['i1', 'leaf'];
    out.push(c);
  }
  {
    // Fifteen intermediates that share a name and a key issue one another (a factorial search).
    const c = baseChain(0, 'path:mesh-of-15');
    const mesh: string[] = [];
    for (let i = 0; i < 15; i++) {
      const name = `m${i}`;
      mesh.push(name);
      c.specs[name] = {
        ...spec(c, 'root'),
        subject: cn('Mesh CA'),
        key: 'mesh',
        issuer: i === 0 ? 'self' : 'm0',
        serial: Buffer.from([0x20 + i]),
        extensions: [X.basicConstraints(true), X.keyUsage(KU.certSign)],
      };
    }
    spec(c, 'leaf').issuer = 'm0';
    withoutExt(spec(c, 'leaf'), 'aki-of');
    c.untrusted = mesh;
    out.push(c);
  }
  {
    // Ten intermediates deep.
    out.push(deepChain(10, 'path:ten-intermediates'));
    const limited = deepChain(10, 'path:ten-intermediates-root-pathlen-9');
    setExt(spec(limited, 'root'), X.basicConstraints(true, 9));
    out.push(limited);
  }
  {
    // The bundle carries the root too, and an impostor root of the same name (another key).
    const c = baseChain(1, 'path:root-in-bundle');
    c.untrusted = ['i1', 'root'];
    out.push(c);
    const impostor = baseChain(1, 'path:impostor-root-in-bundle');
    impostor.specs.fake = {
      ...spec(impostor, 'root'),
      key: 'fake',
      extensions: caExtensions('fake', undefined),
    };
    impostor.untrusted = ['fake', 'i1'];
    out.push(impostor);
  }
  {
    // Two trusted roots of one name (a key rollover); the intermediate names its issuer by name only.
    const c = baseChain(1, 'path:two-roots-one-name-no-aki');
    c.specs.oldroot = { ...spec(c, 'root'), key: 'oldroot', extensions: caExtensions('oldroot', undefined) };
    withoutExt(spec(c, 'i1'), 'aki-of');
    c.trusted = ['oldroot', 'root'];
    out.push(c);
    const withAki = baseChain(1, 'path:two-roots-one-name-with-aki');
    withAki.specs.oldroot = {
      ...spec(withAki, 'root'),
      key: 'oldroot',
      extensions: caExtensions('oldroot', undefined),
    };
    withAki.trusted = ['oldroot', 'root'];
    out.push(withAki);
  }
  {
    // A self-issued intermediate (the root's name, a new key) is not counted by pathLenConstraint.
    const c = baseChain(1, 'path:self-issued-intermediate-under-pathlen-1');
    setExt(spec(c, 'root'), X.basicConstraints(true, 1));
    c.specs.rollover = {
      ...spec(c, 'root'),
      key: 'rollover',
      issuer: 'root',
      serial: Buffer.from([0x55]),
      extensions: caExtensions('rollover', 'root'),
    };
    spec(c, 'i1').issuer = 'rollover';
    setExt(spec(c, 'i1'), AKI_OF('rollover'));
    c.untrusted = ['i1', 'rollover'];
    out.push(c);
    const counted = baseChain(2, 'path:two-intermediates-under-pathlen-1');
    setExt(spec(counted, 'root'), X.basicConstraints(true, 1));
    out.push(counted);
  }
  return out;
}

/** root → i1 → … → i{depth} → leaf, for depths beyond the mutated ones. */
function deepChain(depth: number, id: string): ChainCase {
  const c = baseChain(3, id);
  let above = 'i3';
  for (let i = 4; i <= depth; i++) {
    const name = `i${i}`;
    c.specs[name] = {
      ...spec(c, 'i3'),
      subject: [[{ value: `Corp Intermediate ${i}` }]],
      key: name,
      issuer: above,
      extensions: caExtensions(name, above),
    };
    c.untrusted.push(name);
    above = name;
  }
  spec(c, 'leaf').issuer = above;
  setExt(spec(c, 'leaf'), AKI_OF(above));
  return c;
}

function structuredCopy(c: ChainCase, id: string): ChainCase {
  const specs: Record<string, CertificateSpec> = {};
  for (const [k, s] of Object.entries(c.specs))
    specs[k] = {
      ...s,
      extensions: [...s.extensions],
      subject: s.subject.map((r) => r.map((a) => ({ ...a }))),
    };
  return {
    ...c,
    id,
    specs,
    keyKinds: { ...c.keyKinds },
    trusted: [...c.trusted],
    untrusted: [...c.untrusted],
  };
}

/** mulberry32: a small seeded generator, so the random combinations are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface CaseOptions {
  seed: number;
  /** Random combinations of two or three mutations. */
  combinations: number;
}

/** Every single mutation at the depths that have its roles, then seeded combinations, then path cases. */
export function generateCases(options: CaseOptions): ChainCase[] {
  const all = mutations();
  const out: ChainCase[] = [
    baseChain(0, 'base/0'),
    baseChain(1, 'base/1'),
    baseChain(2, 'base/2'),
    baseChain(3, 'base/3'),
  ];
  for (const mutation of all) {
    // One intermediate, or two when the mutation names i2.
    const depth = mutation.needs.includes('i3') ? 3 : mutation.needs.includes('i2') ? 2 : 1;
    const c = baseChain(depth, `${mutation.name}/${depth}`);
    mutation.apply(c);
    out.push(c);
  }
  const rand = prng(options.seed);
  for (let n = 0; n < options.combinations; n++) {
    const depth = Math.floor(rand() * 4);
    const c = baseChain(depth, '');
    const picked: string[] = [];
    const k = 2 + Math.floor(rand() * 2);
    for (let tries = 0; picked.length < k && tries < 50; tries++) {
      const mutation = all[Math.floor(rand() * all.length)] as NamedMutation;
      if (!mutation.needs.every((r) => roles(c).includes(r)) || picked.includes(mutation.name)) continue;
      mutation.apply(c);
      picked.push(mutation.name);
    }
    c.id = `combo ${n}: ${picked.join(' + ')} /${depth}`;
    out.push(c);
  }
  out.push(...pathCases());
  return out;
}

export { bottomCa };
