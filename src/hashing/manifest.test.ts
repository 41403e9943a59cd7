import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { comparePosixPaths, rootDigest } from './manifest.ts';

/** The reference: Python's str ordering, code point by code point (what model_signing sorts by). */
function byCodePoints(a: string, b: string): number {
  const ca = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const cb = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = (ca[i] ?? 0) - (cb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return Math.sign(ca.length - cb.length);
}

// Code units around the places where UTF-16 order and code-point order part: ASCII, the last BMP
// characters above the surrogates, high and low surrogates (paired and lone).
const unit = fc.constantFrom(
  0x41,
  0x61,
  0x7a,
  0xe4,
  0xd7ff,
  0xd800,
  0xd83d,
  0xdbff,
  0xdc00,
  0xde00,
  0xdfff,
  0xe000,
  0xfffd,
  0xffff,
);
const name = fc.array(unit, { maxLength: 6 }).map((units) => String.fromCharCode(...units));

describe('manifest path order', () => {
  it('compares file names by code point, as Python does, surrogates included', () => {
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(Math.sign(comparePosixPaths(a, b))).toBe(byCodePoints(a, b));
      }),
      { numRuns: 5000 },
    );
  });
  it('puts an astral character after every BMP character (UTF-16 order would not)', () => {
    expect(comparePosixPaths('\u{1F600}', '\uffff')).toBe(1);
    expect(comparePosixPaths('a\u{1F600}b', 'a\ue000')).toBe(1);
    expect(comparePosixPaths('b', 'a\u{1F600}')).toBe(1);
  });
});

describe('root digest', () => {
  /** model_signing's definition, digest by digest. */
  const reference = (digests: string[]) => {
    const h = createHash('sha256');
    for (const d of digests) h.update(Buffer.from(d, 'hex'));
    return h.digest('hex');
  };
  it('hashes the raw digests in order, whatever the digest strings hold', () => {
    const digest = fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
      fc.uint8Array({ minLength: 64, maxLength: 64 }).map((b) => Buffer.from(b).toString('hex')),
      fc
        .array(fc.constantFrom(...'0123456789abcdefABCDEFxz '.split('')), { maxLength: 9 })
        .map((c) => c.join('')),
    );
    fc.assert(
      fc.property(fc.array(digest, { maxLength: 8 }), (digests) => {
        expect(rootDigest(digests.map((d) => ({ digest: d })))).toBe(reference(digests));
      }),
      { numRuns: 3000 },
    );
  });
});
