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
const cases = generateCases({ seed: 5280, combinations: 240 });

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
    id: 'URI with user information under a URI constraint',
    why: 'OpenSSL reads "https://corp.example@evil.example/" as host "corp.example@evil.example", which escapes an excluded "evil.example"; Go reads host evil.example. modelgate refuses a URI whose host cannot be compared unambiguously',
    applies: (c) => {
      const leafUris = (() => {
        const san = extension(leafOf(c), '2.5.29.17');
        return san
          ? AsnConvert.parse(san.value, SubjectAlternativeName).flatMap(
              (g) => g.uniformResourceIdentifier ?? [],
            )
          : [];
      })();
      const uriConstraint = Object.entries(c.specs).some(([name, s]) => {
        const nc = extension(s, '2.5.29.30');
        if (!nc || name === c.leaf) return false;
        const v = AsnConvert.parse(nc.value, NameConstraints);
        return [...(v.permittedSubtrees ?? []), ...(v.excludedSubtrees ?? [])].some(
          (t) => t.base.uniformResourceIdentifier !== undefined,
        );
      });
      return uriConstraint && leafUris.some((u) => /^[a-z]+:\/\/[^/]*@/i.test(u));
    },
  },
];

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
    const expected = rules.length > 0 ? false : run.openssl.ok;
    const detail = `openssl: ${run.openssl.ok ? 'OK' : run.openssl.error}; -x509_strict: ${run.strict.ok ? 'OK' : run.strict.error}; modelgate: ${run.modelgate}; rules: ${rules.map((r) => r.id).join(', ') || 'none'}`;
    expect(run.modelgate === 'ok', detail).toBe(expected);
    for (const rule of rules)
      if (rule.strictAgrees) expect(run.strict.ok, `${rule.id}: ${detail}`).toBe(false);
    // A refusal always says what failed.
    if (run.modelgate !== 'ok') expect(run.modelgate.length).toBeGreaterThan(20);
  });
});
