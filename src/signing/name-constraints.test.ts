import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  commonNameAsDnsName,
  dnsNameMatches,
  emailMatches,
  ipMatches,
  nameViolation,
  uriHost,
  uriMatches,
  type ConstraintSet,
} from './name-constraints.ts';
import type { GeneralName } from './x509.ts';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.'));
const upper = (s: string) => s.toUpperCase();

describe('DNS names', () => {
  it('a constraint covers itself and every subdomain, in any letter case, with or without a final dot', () => {
    fc.assert(
      fc.property(domain, domain, fc.boolean(), (sub, base, dot) => {
        expect(dnsNameMatches(base, base)).toBe(true);
        expect(dnsNameMatches(`${sub}.${base}${dot ? '.' : ''}`, upper(base))).toBe(true);
        expect(dnsNameMatches(upper(`${sub}.${base}`), `.${base}`)).toBe(true);
        expect(dnsNameMatches(base, `.${base}`)).toBe(false);
      }),
    );
  });
  it('a name that merely ends with the constraint is outside it', () => {
    fc.assert(
      fc.property(label, domain, (prefix, base) => {
        expect(dnsNameMatches(`${prefix}${base}`, base)).toBe(`${prefix}${base}` === base);
      }),
    );
  });
  it('the empty constraint covers everything', () => {
    expect(dnsNameMatches('anything.example', '')).toBe(true);
  });
});

describe('email names', () => {
  it('host, .domain and mailbox constraints', () => {
    expect(emailMatches('a@corp.example', 'corp.example')).toBe(true);
    expect(emailMatches('a@CORP.example', 'corp.example')).toBe(true);
    expect(emailMatches('a@x.corp.example', 'corp.example')).toBe(false);
    expect(emailMatches('a@x.corp.example', '.corp.example')).toBe(true);
    expect(emailMatches('a@corp.example', '.corp.example')).toBe(false);
    expect(emailMatches('ceo@corp.example', 'ceo@corp.example')).toBe(true);
    expect(emailMatches('CEO@corp.example', 'ceo@corp.example')).toBe(false);
    expect(emailMatches('"a@corp.example"@evil.example', 'corp.example')).toBe(false);
    expect(emailMatches('no-at-sign', 'corp.example')).toBe('syntax');
  });
});

describe('URI names', () => {
  it('compares the host; user information and IP literals cannot be compared', () => {
    expect(uriHost('https://CI.corp.example:8443/x?y')).toBe('ci.corp.example');
    expect(uriMatches('https://ci.corp.example/x', '.corp.example')).toBe(true);
    expect(uriMatches('https://corp.example/x', '.corp.example')).toBe(false);
    expect(uriMatches('https://corp.example/x', 'corp.example')).toBe(true);
    expect(uriMatches('https://corp.example@evil.example/', 'evil.example')).toBe('syntax');
    expect(uriMatches('https://[::1]/', 'corp.example')).toBe('syntax');
    expect(uriMatches('urn:corp.example', 'corp.example')).toBe('syntax');
  });
});

describe('IP addresses', () => {
  it('address and mask', () => {
    const base = Uint8Array.of(10, 1, 0, 0, 255, 255, 0, 0);
    expect(ipMatches(Uint8Array.of(10, 1, 7, 9), base)).toBe(true);
    expect(ipMatches(Uint8Array.of(10, 2, 7, 9), base)).toBe(false);
    expect(ipMatches(new Uint8Array(16), base)).toBe(false);
  });
});

describe('nameViolation', () => {
  const set = (permitted: GeneralName[], excluded: GeneralName[] = []): ConstraintSet => ({
    issuer: 'CA',
    permitted: permitted.map((base) => ({ base })),
    excluded: excluded.map((base) => ({ base })),
  });
  it('every set must permit a name; a set without a subtree of its form leaves it free', () => {
    const corp = set([{ form: 'email', value: 'corp.example' }]);
    const dnsOnly = set([{ form: 'dns', value: 'corp.example' }]);
    expect(nameViolation({ form: 'email', value: 'a@corp.example' }, [corp, dnsOnly])).toBeUndefined();
    expect(nameViolation({ form: 'email', value: 'a@evil.example' }, [dnsOnly])).toBeUndefined();
    const narrower = set([{ form: 'email', value: 'evil.example' }]);
    expect(nameViolation({ form: 'email', value: 'a@evil.example' }, [corp, narrower])).toMatch(/outside/);
  });
  it('an excluded subtree wins, whatever the letter case or final dot of the name', () => {
    fc.assert(
      fc.property(domain, fc.boolean(), fc.boolean(), (d, up, dot) => {
        const name = `${up ? upper(d) : d}${dot ? '.' : ''}`;
        const s = set([], [{ form: 'dns', value: d }]);
        expect(nameViolation({ form: 'dns', value: name }, [s])).toMatch(/excluded/);
        expect(nameViolation({ form: 'dns', value: `x.${name}` }, [s])).toMatch(/excluded/);
      }),
    );
  });
  it('a name form it cannot evaluate is refused when a subtree of that form exists', () => {
    const s = set([{ form: 'other', kind: 'registeredID' }]);
    expect(nameViolation({ form: 'other', kind: 'registeredID' }, [s])).toMatch(/outside/);
    expect(
      nameViolation({ form: 'uri', value: 'https://a@b/' }, [set([], [{ form: 'uri', value: 'b' }])]),
    ).toMatch(/cannot be checked/);
  });
});

describe('commonNameAsDnsName (OpenSSL cn2dnsid)', () => {
  it.each([
    ['build.corp.example', true],
    ['a_b.example', true],
    ['intermediate-ca', false],
    ['localhost', false],
    ['a..b', false],
    ['-a.b', false],
    ['a.-b', false],
    ['a@b.example', false],
    ['.a.b', false],
  ])('%s → %s', (cn, isDns) => {
    expect(commonNameAsDnsName(cn) !== undefined).toBe(isDns);
  });
});
