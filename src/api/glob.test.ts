import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileGlob, GlobError, MAX_GLOB_INPUT, MAX_GLOB_LENGTH, stepsOf } from './glob.ts';

describe('source globs', () => {
  it.each([
    ['oci://registry.example.com/models/**', 'oci://registry.example.com/models/llama@sha256:abc', true],
    ['oci://registry.example.com/models/**', 'oci://registry.example.com/models/team/a/b:v1', true],
    ['oci://registry.example.com/models/**', 'oci://registry.example.com/modelsX/a', false],
    ['oci://registry.example.com/models/**', 'oci://evil.example.com/registry.example.com/models/a', false],
    ['hf://example-org/*', 'hf://example-org/llama', true],
    ['hf://example-org/*', 'hf://example-org/llama:' + 'a'.repeat(40), true],
    ['hf://example-org/*', 'hf://example-org/team/llama', false],
    ['s3://bucket/**/model.bin', 's3://bucket/model.bin', true],
    ['s3://bucket/**/model.bin', 's3://bucket/a/b/model.bin', true],
    ['s3://bucket/a.b', 's3://bucket/aXb', false],
  ])('%s ~ %s = %s', (glob, uri, expected) => {
    expect(compileGlob(glob).test(uri)).toBe(expected);
  });

  /** The previous implementation (a backtracking RegExp): the reference for what a glob means. */
  function referenceRegExp(glob: string): RegExp {
    let re = '';
    for (let i = 0; i < glob.length; i++) {
      const ch = glob[i]!;
      if (ch === '*') {
        if (glob[i + 1] === '*') {
          i++;
          while (glob[i + 1] === '*') i++;
          if (glob[i + 1] === '/') {
            i++;
            re += '(?:.*/)?';
          } else re += '.*';
        } else re += '[^/]*';
      } else if (ch === '?') re += '[^/]';
      else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${re}$`, 's');
  }

  it('means what the regular-expression definition means (property)', () => {
    const glob = fc.stringMatching(/^[ab/*?.]{0,12}$/);
    const input = fc.stringMatching(/^[ab/.]{0,14}$/);
    fc.assert(
      fc.property(glob, input, (g, s) => {
        expect(compileGlob(g).test(s)).toBe(referenceRegExp(g).test(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('works across 32-state word boundaries', () => {
    const long = `oci://${'r'.repeat(40)}/**/${'m'.repeat(30)}*`;
    const g = compileGlob(long);
    expect(g.test(`oci://${'r'.repeat(40)}/a/b/${'m'.repeat(30)}xyz`)).toBe(true);
    expect(g.test(`oci://${'r'.repeat(40)}/${'m'.repeat(30)}`)).toBe(true);
    expect(g.test(`oci://${'r'.repeat(40)}/a/${'m'.repeat(29)}`)).toBe(false);
  });

  it('decides in time linear in the input, whatever the pattern (counted word operations)', () => {
    // The pattern that took 3.7 s as a RegExp on a 122-character URI.
    const evil = 'oci://**/**/**/**/**/**x';
    const pathological = fc.stringMatching(/^(\*\*?\/?|a|\?){1,60}$/);
    fc.assert(
      fc.property(fc.oneof(fc.constant(evil), pathological), fc.integer({ min: 1, max: 8 }), (g, k) => {
        const glob = compileGlob(g);
        const input = (n: number) => `oci://${'a/'.repeat(n)}`;
        glob.test(input(64));
        const base = stepsOf(glob);
        glob.test(input(64 * k));
        // At most the per-character cost times the length: no super-linear term.
        const perChar = Math.ceil((g.length + 2) / 32) * (1 + g.length);
        expect(stepsOf(glob)).toBeLessThanOrEqual(input(64 * k).length * perChar);
        expect(stepsOf(glob)).toBeLessThanOrEqual(Math.max(base, 1) * k * 2 + perChar * 8);
      }),
      { numRuns: 300 },
    );
    const g = compileGlob(evil);
    expect(g.test(`oci://${'a/'.repeat(MAX_GLOB_INPUT / 2 - 4)}x`)).toBe(true);
    expect(g.test(`oci://${'a/'.repeat(MAX_GLOB_INPUT / 2 - 4)}y`)).toBe(false);
  });

  it('bounds patterns and inputs', () => {
    expect(() => compileGlob('a'.repeat(MAX_GLOB_LENGTH + 1))).toThrow(GlobError);
    expect(compileGlob('**').test('a'.repeat(MAX_GLOB_INPUT + 1))).toBe(false);
  });
});
