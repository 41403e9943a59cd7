// RFC 5280 §4.2.1.10 name constraints: does a name lie inside a subtree? Pure functions. The rules
// follow OpenSSL's (crypto/x509/v3_ncons.c), which the real model_signing verifier runs, except where
// OpenSSL lets a name slip past an excluded subtree: a URI with user information
// ("https://corp.example@evil.example/") or an IP literal host, and a DNS name with a trailing dot,
// are refused or normalised here instead.
import type { CanonicalName, GeneralName, GeneralSubtree } from './x509.ts';

/** The constraints one CA certificate (or the trust anchor) imposes on the certificates below it. */
export interface ConstraintSet {
  /** Who set them, for messages. */
  issuer: string;
  permitted: readonly GeneralSubtree[];
  excluded: readonly GeneralSubtree[];
}

const lower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const stripDot = (s: string) => (s.length > 1 && s.endsWith('.') ? s.slice(0, -1) : s);

/** A host name `host` (no trailing dot) against a DNS-style base: "" = all, ".x" = below x, "x" = x and below. */
function dnsMatch(host: string, base: string, subdomainsOfPlainBase: boolean): boolean {
  if (base === '') return true;
  if (host === base) return true;
  if (!host.endsWith(base)) return false;
  if (base.startsWith('.')) return host.length > base.length;
  return subdomainsOfPlainBase && host.charAt(host.length - base.length - 1) === '.';
}

export function dnsNameMatches(name: string, base: string): boolean {
  return dnsMatch(stripDot(lower(name)), stripDot(lower(base)), true);
}

/** An email "local@host" against a base: "local@host" (exact), "host" (that host), ".host" (below it). */
export function emailMatches(email: string, base: string): boolean | 'syntax' {
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return 'syntax';
  const local = email.slice(0, at);
  const host = stripDot(lower(email.slice(at + 1)));
  const baseAt = base.lastIndexOf('@');
  if (baseAt >= 0) {
    const baseLocal = base.slice(0, baseAt);
    // The local part is case-sensitive (RFC 5321); an empty one in the base means any mailbox.
    if (baseLocal !== '' && baseLocal !== local) return false;
    return host === stripDot(lower(base.slice(baseAt + 1)));
  }
  return dnsMatch(host, stripDot(lower(base)), false);
}

const URI = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/]*)/;

/**
 * The host of a URI, or undefined when it has none modelgate can compare (no "//", user information,
 * IP literal, percent-encoding, a query or fragment straight after the host).
 */
export function uriHost(uri: string): string | undefined {
  const authority = URI.exec(uri)?.[1];
  // User information, IP literals and percent-encoding make the host ambiguous between readers
  // (OpenSSL compares the raw text, Go decodes it): such a URI is not compared at all.
  // A "?" or "#" right after the host ends it for RFC 3986 readers (Go) but not for OpenSSL.
  if (authority === undefined || /[@%?#]/.test(authority) || authority.startsWith('[')) return undefined;
  const host = authority.replace(/:[0-9]*$/, '');
  if (host === '' || host.includes(':')) return undefined;
  return stripDot(lower(host));
}

export function uriMatches(uri: string, base: string): boolean | 'syntax' {
  const host = uriHost(uri);
  if (host === undefined) return 'syntax';
  return dnsMatch(host, stripDot(lower(base)), false);
}

export function ipMatches(address: Uint8Array, base: Uint8Array): boolean {
  if (base.length !== address.length * 2) return false;
  for (let i = 0; i < address.length; i++) {
    const mask = base[address.length + i] ?? 0;
    if (((address[i] ?? 0) & mask) !== ((base[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** The base's RDNs are a prefix of the name's. */
export function dnMatches(name: CanonicalName, base: CanonicalName): boolean {
  if (base.length > name.length) return false;
  return base.every((rdn, i) => {
    const other = name[i] ?? [];
    return rdn.length === other.length && rdn.every((v, k) => v === other[k]);
  });
}

/** True, false, or 'syntax' when the name cannot be compared with a base of its form. */
function matches(name: GeneralName, base: GeneralName): boolean | 'syntax' {
  switch (name.form) {
    case 'dns':
      return base.form === 'dns' && dnsNameMatches(name.value, base.value);
    case 'email':
      return base.form === 'email' && emailMatches(name.value, base.value);
    case 'uri':
      return base.form === 'uri' && uriMatches(name.value, base.value);
    case 'ip':
      return base.form === 'ip' && ipMatches(name.bytes, base.bytes);
    case 'dn':
      return base.form === 'dn' && dnMatches(name.name, base.name);
    case 'other':
      return base.form === 'other' && base.kind === name.kind ? 'syntax' : false;
  }
}

function sameKind(name: GeneralName, base: GeneralName): boolean {
  return (
    name.form === base.form && (name.form !== 'other' || (base.form === 'other' && base.kind === name.kind))
  );
}

export function describeName(name: GeneralName): string {
  switch (name.form) {
    case 'ip':
      return `IP ${Buffer.from(name.bytes).toString('hex')}`;
    case 'dn':
      return `directory name "${name.text}"`;
    case 'other':
      return name.kind;
    default:
      return `${name.form === 'dns' ? 'DNS' : name.form === 'uri' ? 'URI' : 'email'} name "${name.value}"`;
  }
}

function describeBase(base: GeneralName): string {
  switch (base.form) {
    case 'ip':
      return `IP ${Buffer.from(base.bytes).toString('hex')}`;
    case 'dn':
      return `"${base.text}"`;
    case 'other':
      return base.kind;
    default:
      return `"${base.value}"`;
  }
}

/**
 * Why `name` violates the constraints in `sets` (each set must permit it, none may exclude it), or
 * undefined when it does not. A set with no permitted subtree of the name's form leaves that form free.
 */
export function nameViolation(name: GeneralName, sets: readonly ConstraintSet[]): string | undefined {
  for (const set of sets) {
    for (const { base } of set.excluded) {
      if (!sameKind(name, base)) continue;
      const m = matches(name, base);
      if (m === 'syntax')
        return `${describeName(name)} cannot be checked against the excluded subtree ${describeBase(base)} of ${set.issuer}`;
      if (m) return `${describeName(name)} is in the excluded subtree ${describeBase(base)} of ${set.issuer}`;
    }
    const permitted = set.permitted.filter(({ base }) => sameKind(name, base));
    if (permitted.length === 0) continue;
    let syntax = false;
    let inside = false;
    for (const { base } of permitted) {
      const m = matches(name, base);
      if (m === 'syntax') syntax = true;
      else if (m) inside = true;
    }
    if (!inside) {
      return `${describeName(name)} is outside the permitted subtrees (${permitted.map((p) => describeBase(p.base)).join(', ')}) of ${set.issuer}${syntax ? ', or has a form that cannot be compared with them' : ''}`;
    }
  }
  return undefined;
}

/**
 * OpenSSL's test for a subject CN that stands for a DNS name (cn2dnsid): letters, digits, "_", and
 * inner "-" and "." with no "." next to "." or "-"; at least two labels.
 */
export function commonNameAsDnsName(cn: string): string | undefined {
  let isDns = false;
  for (let i = 0; i < cn.length; i++) {
    const c = cn.charAt(i);
    if (/[A-Za-z0-9_]/.test(c)) continue;
    if (i > 0 && i < cn.length - 1) {
      if (c === '-') continue;
      const next = cn.charAt(i + 1);
      if (c === '.' && next !== '.' && cn.charAt(i - 1) !== '-' && next !== '-') {
        isDns = true;
        continue;
      }
    }
    return undefined;
  }
  return isDns ? cn : undefined;
}
