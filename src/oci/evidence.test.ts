import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EvidenceFormatError,
  evidenceObjectName,
  parseEvidence,
  parseRequest,
  requestObjectName,
  resourcesDigest,
  scanHoldsFor,
  serializeEvidence,
  type OciEvidenceRecord,
} from './evidence.ts';

const D = `sha256:${'a'.repeat(64)}`;
const record: OciEvidenceRecord = {
  version: 1,
  digest: D,
  repository: 'registry.example.com/models/llama',
  checkedAt: 5,
  resolvedAt: 5,
  signatures: {
    api: 'tag',
    examined: 9,
    skipped: Array.from({ length: 20 }, (_, i) => `s${i}`),
    bundles: Array.from({ length: 9 }, () => new Uint8Array([1, 2])),
  },
  scan: {
    status: 'complete',
    files: 30,
    bytes: 9,
    formats: { safetensors: 'a' },
    problems: Array.from({ length: 25 }, (_, i) => ({
      file: `f${i}`,
      verdict: 'dangerous',
      rule: 'r',
      detail: 'd'.repeat(2000),
    })),
  },
};

describe('evidence records', () => {
  it('serialise bounded: bundles, skipped reasons, problems and long texts are capped', () => {
    const back = parseEvidence(serializeEvidence(record));
    expect(back.signatures!.bundles).toHaveLength(4);
    expect(back.signatures!.skipped).toHaveLength(8);
    expect(back.scan!.problems).toHaveLength(20);
    expect(back.scan!.moreProblems).toBe(5);
    expect(back.scan!.problems[0]!.detail.length).toBeLessThan(600);
  });

  it('refuse records that are not records', () => {
    expect(() => parseEvidence('nope')).toThrow(EvidenceFormatError);
    expect(() => parseEvidence(JSON.stringify({ ...record, version: 2 }))).toThrow(/version/);
    expect(() => parseEvidence(JSON.stringify({ ...record, digest: 'sha256:x' }))).toThrow(/digest/);
    expect(() => parseEvidence(JSON.stringify({ ...record, scan: { status: 'clean' } }))).toThrow(
      /scan.status/,
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        for (const parse of [parseEvidence, parseRequest])
          try {
            parse(JSON.stringify(v));
          } catch (err) {
            expect(err).toBeInstanceOf(EvidenceFormatError);
          }
      }),
      { numRuns: 300 },
    );
  });

  it('allowed globals: those the model uses are never truncated (a scan that used too many has no verdict)', () => {
    const clean = { status: 'complete' as const, files: 1, bytes: 1, formats: {}, problems: [] };
    const used = { ...record, scan: { ...clean, allowGlobals: ['a.B', 'c.D'], usedGlobals: ['a.B'] } };
    expect(parseEvidence(serializeEvidence(used)).scan).toMatchObject({
      allowGlobals: ['a.B', 'c.D'],
      usedGlobals: ['a.B'],
    });
    const many = Array.from({ length: 300 }, (_, i) => `m.C${i}`);
    const tooMany = parseEvidence(
      serializeEvidence({ ...record, scan: { ...clean, allowGlobals: many, usedGlobals: many } }),
    ).scan!;
    expect(tooMany.status).toBe('incomplete');
    expect(tooMany.reason).toMatch(/more than 256 globals/);
    expect(tooMany.usedGlobals).toBeUndefined();
    for (const bad of [many, 'a.B', [1], ['']])
      expect(() =>
        parseEvidence(JSON.stringify({ ...record, scan: { ...clean, usedGlobals: bad } })),
      ).toThrow(/scan.usedGlobals/);
  });

  it('a clean scan holds whatever the policies allow; one with problems only while they allow no more', () => {
    const clean = { status: 'complete' as const, files: 1, bytes: 1, formats: {}, problems: [] };
    const refused = {
      ...clean,
      allowGlobals: ['a.B'],
      problems: [{ file: 'f', verdict: 'suspicious', rule: 'r', detail: '' }],
    };
    expect(scanHoldsFor(clean, ['x.Y'])).toBe(true);
    expect(scanHoldsFor(refused, ['a.B'])).toBe(true);
    expect(scanHoldsFor(refused, [])).toBe(true);
    expect(scanHoldsFor(refused, ['a.B', 'x.Y'])).toBe(false);
    expect(scanHoldsFor({ ...clean, status: 'incomplete' }, [])).toBe(false);
  });

  it('names objects by digest, requests by namespace and digest', () => {
    expect(evidenceObjectName(D)).toBe(`modelgate-oci-${'a'.repeat(64)}`);
    expect(requestObjectName('a', D)).not.toBe(requestObjectName('b', D));
    expect(requestObjectName('a', D)).toMatch(/^[a-z0-9-]{1,63}$/);
  });

  it('resourcesDigest depends on names and digests, not on order', () => {
    const a = [
      { name: 'x', digest: '1' },
      { name: 'y', digest: '2' },
    ];
    expect(resourcesDigest(a)).toBe(resourcesDigest([...a].reverse()));
    expect(resourcesDigest(a)).not.toBe(resourcesDigest([{ name: 'z', digest: '1' }, a[1]!]));
  });
});
