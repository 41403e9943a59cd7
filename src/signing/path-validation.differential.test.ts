// Differential test of RFC 5280 path validation: hundreds of chains (every single mutation of a good
// chain along the dimensions path validation cares about, then seeded random combinations), each
// judged by modelgate and by `openssl verify` (the verifier model_signing runs, with -policy_check and
// -auth_level 1). The verdicts must agree, except where a documented rule below says modelgate
// decides otherwise, and why (docs/signing.md, "Certificate paths", keeps the same table).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ExtendedKeyUsage, KeyUsage, SubjectAlternativeName, NameConstraints } from '@peculiar/asn1-x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OID, type CertificateSpec } from './x509-builder.test-support.ts';
import { generateCases, type ChainCase } from './x509-cases.test-support.ts';
import { runCases, type CaseRun } from './x509-differential.test-support.ts';

/** Seeded, so every run judges the same chains; more combinations cost ~20 ms each. */
const cases = generateCases({ seed: 5280, combinations: 100 });

const extension = (s: CertificateSpec, oid: string) => s.extensions.find((e) => e.oid === oid);
const leafOf = (c: ChainCase) => c.specs[c.leaf] as CertificateSpec;
/** Certificates whose signature and CA role modelgate judges: all but the trusted ones and the leaf. */
const intermediatesOf = (c: ChainCase) =>
  Object.entries(c.specs)
    .filter(([name]) => !c.trusted.includes(name) && name !== c.leaf)
    .map(([, s]) => s);

interface Rule {
  id: string;
  /** Why modelgate refuses a chain OpenSSL accepts, and who else does. */
  why: string;
  applies: (c: ChainCase) => boolean;
  /** OpenSSL with -x509_strict refuses such chains too (asserted). */
  strictAgrees?: boolean;
}

/**
 * Where modelgate is stricter than `openssl verify`. Each rule refuses; none accepts what OpenSSL
 * refuses (OpenSSL's exclusive notAfter is met by asking it one second earlier, see the runner).
 */
const RULES: Rule[] = [
  {
    id: 'signing usage of the leaf',
    why: 'modelgate requires the codeSigning extended key usage and, when key usage is present, digitalSignature (model_signing accepts either; OpenSSL 3.0 has no code-signing purpose to ask for). anyExtendedKeyUsage is not enough, as in OpenSSL purpose checks (Go would accept it)',
    applies: (c) => {
      const leaf = leafOf(c);
      const ku = extension(leaf, '2.5.29.15');
      const eku = extension(leaf, '2.5.29.37');
      const kuBits = ku ? AsnConvert.parse(ku.value, KeyUsage).toNumber() : undefined;
      const ekus = eku ? [...AsnConvert.parse(eku.value, ExtendedKeyUsage)] : [];
      return (kuBits !== undefined && (kuBits & 1) === 0) || !ekus.includes(OID.codeSigning);
    },
  },
  {
    id: 'extended key usage nests',
    why: "an intermediate whose extended key usage has neither codeSigning nor anyExtendedKeyUsage may not certify code signers: Go's crypto/x509 (sigstore-go) and OpenSSL's purpose checks both refuse; plain `openssl verify` checks no purpose",
    applies: (c) =>
      intermediatesOf(c).some((s) => {
        const eku = extension(s, '2.5.29.37');
        if (!eku) return false;
        const oids = [...AsnConvert.parse(eku.value, ExtendedKeyUsage)];
        return !oids.includes(OID.codeSigning) && !oids.includes(OID.anyEku);
      }),
  },
  {
    id: 'duplicate extensions',
    why: 'RFC 5280 §4.2: a certificate MUST NOT include more than one instance of an extension; Go refuses any duplicate, OpenSSL only duplicates of the extensions it knows',
    applies: (c) =>
      Object.values(c.specs).some((s) => {
        const oids = s.extensions.map((e) =>
          e.oid === 'ski-of' ? '2.5.29.14' : e.oid === 'aki-of' ? '2.5.29.35' : e.oid,
        );
        return new Set(oids).size !== oids.length;
      }),
  },
  {
    id: 'negative serial number',
    why: 'RFC 5280 §4.1.2.2: the serial is a positive integer; Go refuses negative serials, pyca/cryptography (model_signing) warns that it will',
    applies: (c) => Object.values(c.specs).some((s) => ((s.serial?.[0] ?? 0) & 0x80) !== 0),
  },
  {
    id: 'version 2, or extensions in version 1',
    why: 'RFC 5280 §4.1.2.1: extensions need version 3; -x509_strict refuses, pyca/cryptography (model_signing) cannot load version 2 at all',
    applies: (c) =>
      Object.values(c.specs).some((s) => s.version === 2 || (s.version === 1 && s.extensions.length > 0)),
    strictAgrees: true,
  },
  {
    id: 'inner and outer signature algorithms differ',
    why: 'RFC 5280 §4.1.1.2 (MUST be the same): Go refuses at parse, OpenSSL too except on a trust anchor whose own signature it does not check (-x509_strict refuses there as well)',
    applies: (c) =>
      Object.values(c.specs).some((s) => s.innerSignature !== undefined && s.innerSignature !== s.signature),
    strictAgrees: true,
  },
  {
    id: 'URI whose host cannot be compared, under a URI constraint',
    why: 'OpenSSL reads "https://corp.example@evil.example/" as host "corp.example@evil.example" and "https://[2001:db8::1]/" as host "[2001:db8::1]", which slip past an excluded "evil.example"; Go refuses IP-literal URIs under constraints and strips user information. modelgate refuses a URI whose host it cannot compare unambiguously (user information, IP literal, no authority)',
    applies: (c) =>
      hasConstraintOfForm(c, 'uniformResourceIdentifier') &&
      leafSans(c).some((g) =>
        /^[a-z][a-z0-9+.-]*:\/\/([^/]*[@%?#]|\[)/i.test(g.uniformResourceIdentifier ?? ''),
      ),
  },
  {
    id: 'host with a final dot, under a DNS or URI constraint',
    why: 'OpenSSL compares "a.evil.example." (as a DNS name or a URI host) literally, so it escapes an excluded "evil.example"; Go cannot parse such a host and refuses it. modelgate drops the final dot before comparing',
    applies: (c) =>
      (hasConstraintOfForm(c, 'dNSName') && leafSans(c).some((g) => g.dNSName?.endsWith('.') === true)) ||
      (hasConstraintOfForm(c, 'uniformResourceIdentifier') &&
        leafSans(c).some((g) =>
          /^[a-z][a-z0-9+.-]*:\/\/[^/:]*\.(:|\/|$)/i.test(g.uniformResourceIdentifier ?? ''),
        )),
  },
  {
    id: 'RSASSA-PSS parameters other than the standard ones',
    why: "Go's crypto/x509 accepts RSASSA-PSS only with MGF1 over the message hash and a salt of the hash length (SHA-256/384/512); OpenSSL verifies any consistent parameters",
    applies: (c) =>
      intermediatesOf(c)
        .concat(leafOf(c))
        .some(
          (s) =>
            s.signature !== undefined &&
            s.signature.startsWith('rsa-pss') &&
            s.signature !== 'rsa-pss-sha256',
        ),
  },
  {
    id: 'critical extensions only OpenSSL processes',
    why: "OpenSSL handles Netscape cert type, OCSP no-check, RFC 3779 resources and proxy certificate info when critical; Go's crypto/x509 does not, nor does modelgate (RFC 5280 §4.2: refuse a critical extension not processed)",
    applies: (c) =>
      Object.values(c.specs).some((s) =>
        s.extensions.some((e) => e.critical && OPENSSL_ONLY_CRITICAL.includes(e.oid)),
      ),
  },
];

/** Extensions OpenSSL's X509_supported_extension lists that Go's crypto/x509 does not handle. */
const OPENSSL_ONLY_CRITICAL = [
  '2.16.840.1.113730.1.1',
  '1.3.6.1.5.5.7.48.1.5',
  '1.3.6.1.5.5.7.1.7',
  '1.3.6.1.5.5.7.1.8',
  '1.3.6.1.5.5.7.1.14',
];

function leafSans(c: ChainCase) {
  const san = extension(leafOf(c), '2.5.29.17');
  return san ? [...AsnConvert.parse(san.value, SubjectAlternativeName)] : [];
}

function hasConstraintOfForm(c: ChainCase, form: 'uniformResourceIdentifier' | 'dNSName'): boolean {
  return Object.entries(c.specs).some(([name, s]) => {
    const nc = extension(s, '2.5.29.30');
    if (!nc || name === c.leaf) return false;
    const v = AsnConvert.parse(nc.value, NameConstraints);
    return [...(v.permittedSubtrees ?? []), ...(v.excludedSubtrees ?? [])].some(
      (t) => t.base[form] !== undefined,
    );
  });
}

/** Where modelgate accepts a chain OpenSSL refuses. */
const ACCEPT_RULES: Rule[] = [
  {
    id: 'every candidate issuer is tried',
    why: 'two trusted roots share a name (a key rollover) and the intermediate carries no authority key identifier: OpenSSL takes the first root of that name and fails on its signature; Go, like modelgate, tries every candidate issuer and finds the one whose key verifies (RFC 5280 leaves path building to the verifier)',
    applies: (c) => {
      const trustedNames = c.trusted.map((n) => JSON.stringify((c.specs[n] as CertificateSpec).subject));
      if (new Set(trustedNames).size === trustedNames.length) return false;
      return Object.values(c.specs).some(
        (s) =>
          c.trusted.includes(s.issuer) &&
          !s.extensions.some((e) => e.oid === 'aki-of' || e.oid === '2.5.29.35'),
      );
    },
  },
];

/**
 * What modelgate's refusal must say when OpenSSL refuses a single-mutation chain for a reason it
 * names by error number (x509_vfy.h): the same class of failure, not just the same verdict.
 */
const SAME_REASON: Record<number, RegExp> = {
  2: /no trusted root|no self-signed CA/,
  7: /no trusted root|signed with/,
  9: /is not valid at/,
  10: /is not valid at/,
  18: /no trusted root/,
  19: /no trusted root/,
  20: /no trusted root/,
  25: /pathLenConstraint/,
  34: /critical extension modelgate does not process/,
  43: /explicit certificate policy/,
  47: /outside the permitted subtrees|cannot be checked/,
  48: /in the excluded subtree|cannot be checked/,
  68: /broken \(collisions can be forged\)/,
  78: /signature algorithm inside the certificate differs/,
  79: /is not a CA|lacks keyCertSign/,
  93: /version/,
};

let dir = '';
let runs: CaseRun[] = [];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'modelgate-x509-differential-'));
  runs = await runCases(cases, dir);
}, 120_000);
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('modelgate and openssl verify agree on generated chains', () => {
  it(`judges ${cases.length} chains, every rule and both verdicts exercised`, () => {
    expect(runs).toHaveLength(cases.length);
    expect(cases.length).toBeGreaterThan(600);
    const accepted = runs.filter((r) => r.modelgate === 'ok').length;
    // Not a degenerate corpus: both verdicts are common, and every rule decides some case.
    expect(accepted).toBeGreaterThan(150);
    expect(runs.length - accepted).toBeGreaterThan(150);
    for (const rule of RULES)
      expect(
        runs.some((r) => rule.applies(r.c) && r.openssl.ok),
        `rule "${rule.id}" decides some case`,
      ).toBe(true);
  });

  it.each(cases.map((c, i) => [c.id, i] as const))('%s', (_id, i) => {
    const run = runs[i] as CaseRun;
    const rules = RULES.filter((r) => r.applies(run.c));
    const accepts = ACCEPT_RULES.filter((r) => r.applies(run.c));
    const expected = rules.length > 0 ? false : accepts.length > 0 ? true : run.openssl.ok;
    const detail = `openssl: ${run.openssl.ok ? 'OK' : run.openssl.error}; -x509_strict: ${run.strict.ok ? 'OK' : run.strict.error}; modelgate: ${run.modelgate}; rules: ${[...rules, ...accepts].map((r) => r.id).join(', ') || 'none'}`;
    expect(run.modelgate === 'ok', detail).toBe(expected);
    for (const rule of rules)
      if (rule.strictAgrees) expect(run.strict.ok, `${rule.id}: ${detail}`).toBe(false);
    // A refusal always says what failed; on a chain with one defect, the defect OpenSSL names.
    if (run.modelgate !== 'ok') expect(run.modelgate.length).toBeGreaterThan(20);
    const code = Number(/^error (\d+) at/.exec(run.openssl.error)?.[1]);
    const reason = SAME_REASON[code];
    if (!run.c.id.startsWith('combo') && rules.length + accepts.length === 0 && !run.openssl.ok && reason)
      expect(run.modelgate, `same reason as OpenSSL: ${detail}`).toMatch(reason);
  });
});
