// The meaning of an identity pattern in the policy API (keyless `subjectRegExp`): RE2 syntax, as
// sigstore/policy-controller's Go `regexp` reads it, matched against the whole identity.
import { RE2JS } from 're2js';

export class IdentityPatternError extends Error {}

/** A compiled identity pattern: `test` matches the whole identity. */
export interface IdentityPattern {
  readonly source: string;
  test(identity: string): boolean;
}

/** Longest identity pattern accepted (the CRD's maxLength). */
export const MAX_IDENTITY_PATTERN = 1024;

/**
 * An identity regex in RE2 syntax (what sigstore/policy-controller's Go `regexp` accepts), run by re2js,
 * a linear-time engine: a tenant's pattern cannot backtrack on the admission path. Always anchored:
 * "a@b.co" must not accept "a@b.com.evil". Lookarounds and backreferences are not RE2 and are refused.
 */
export function compileIdentityPattern(source: string): IdentityPattern {
  if (source.length > MAX_IDENTITY_PATTERN)
    throw new IdentityPatternError(
      `is ${source.length} characters long; at most ${MAX_IDENTITY_PATTERN} are allowed`,
    );
  let re: RE2JS;
  try {
    re = RE2JS.compile(source);
  } catch (err) {
    throw new IdentityPatternError(
      `is not valid RE2 syntax (${(err as Error).message}); lookarounds and backreferences are not supported`,
    );
  }
  return { source, test: (identity) => re.matches(identity) };
}
