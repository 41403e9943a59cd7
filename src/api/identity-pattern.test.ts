import { describe, expect, it } from 'vitest';
import { compileIdentityPattern, IdentityPatternError, MAX_IDENTITY_PATTERN } from './identity-pattern.ts';

describe('identity patterns (keyless subjectRegExp)', () => {
  it('match the whole identity', () => {
    const p = compileIdentityPattern(
      'https://github\\.com/example/.+/\\.github/workflows/release\\.yml@refs/tags/v.*',
    );
    expect(p.test('https://github.com/example/models/.github/workflows/release.yml@refs/tags/v1.2')).toBe(
      true,
    );
    expect(p.test('xhttps://github.com/example/models/.github/workflows/release.yml@refs/tags/v1')).toBe(
      false,
    );
    expect(compileIdentityPattern('a@b\\.co').test('a@b.co.evil')).toBe(false);
    expect(compileIdentityPattern('a|b').test('ab')).toBe(false);
  });

  it('refuse what RE2 does not have, with a reason', () => {
    expect(() => compileIdentityPattern('(?=a)b')).toThrow(/not valid RE2 syntax.*lookarounds/);
    expect(() => compileIdentityPattern('(a)\\1')).toThrow(IdentityPatternError);
    expect(() => compileIdentityPattern('a'.repeat(MAX_IDENTITY_PATTERN + 1))).toThrow(/at most 1024/);
  });

  it('do not backtrack: nested quantifiers on a long identity are decided', () => {
    // (a+)+$ takes exponential time in a backtracking engine on "aaaa…!".
    const p = compileIdentityPattern('(a+)+');
    expect(p.test(`${'a'.repeat(50_000)}!`)).toBe(false);
    expect(p.test('a'.repeat(50_000))).toBe(true);
  });
});
