// The runtime verifier's input when the mutating webhook injects it: one JSON document in an
// environment variable (contract: src/mutation/verifier-config.ts). Parsed and checked here, since a
// mistake must fail the pod with a clear reason rather than pass it.
import type { Authority } from '../signing/verify-model.ts';
import type { TrustMaterial } from '../signing/trust.ts';
import { isPickleGlobalName } from '../api/formats.ts';
import { isObj as isObject } from '../json/shape.ts';

export interface PodModel {
  name: string;
  path: string;
  /** Bundle path relative to `path` (default "model.sig"), unless inlineBundle is given. */
  signature: string;
  inlineBundle?: Uint8Array;
  digest?: string;
  /** Signature verified at admission (OCI manifest evidence): only the format scan runs. */
  scanOnly?: boolean;
  /** Paths the pod's servers read inside the model (relative to `path`): the signature must cover each. */
  readPaths?: string[];
}

/** More read paths than a pod's containers can name (256 candidates each) is not a configuration we wrote. */
const MAX_READ_PATHS = 4096;

export interface PodConfig {
  threshold: number;
  authorities: Authority[];
  models: PodModel[];
  denyFormats: string[];
  /** Pickle globals the scan treats as data (fully qualified names). */
  allowGlobals: string[];
}

export class PodConfigError extends Error {}

function trustOf(v: unknown, where: string): TrustMaterial {
  if (!isObject(v)) throw new PodConfigError(`${where} is not an object`);
  const s = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  switch (v.method) {
    case 'key':
      if (!s('publicKeyPem')) throw new PodConfigError(`${where}.publicKeyPem is missing`);
      return { method: 'key', publicKeyPem: s('publicKeyPem') as string };
    case 'certificate': {
      if (!s('caCertificatesPem')) throw new PodConfigError(`${where}.caCertificatesPem is missing`);
      const ids = v.identities;
      if (ids !== undefined && !(Array.isArray(ids) && ids.every((i) => typeof i === 'string')))
        throw new PodConfigError(`${where}.identities is not a list of strings`);
      return {
        method: 'certificate',
        caCertificatesPem: s('caCertificatesPem') as string,
        ...(ids ? { identities: ids as string[] } : {}),
      };
    }
    case 'keyless': {
      if (!s('issuer') || !s('trustedRootJson'))
        throw new PodConfigError(`${where} needs issuer and trustedRootJson`);
      const t: TrustMaterial = {
        method: 'keyless',
        issuer: s('issuer') as string,
        trustedRootJson: s('trustedRootJson') as string,
      };
      if (s('subject')) t.subject = s('subject');
      if (s('subjectRegExp')) t.subjectRegExp = s('subjectRegExp');
      return t;
    }
    default:
      throw new PodConfigError(`${where}.method "${String(v.method)}" is not key, certificate or keyless`);
  }
}

export function parsePodConfig(text: string): PodConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PodConfigError(`verifier configuration is not JSON: ${(err as Error).message}`);
  }
  if (!isObject(json)) throw new PodConfigError('verifier configuration is not a JSON object');
  if (json.version !== 1)
    throw new PodConfigError(
      `verifier configuration version ${String(json.version)} is not supported (expected 1)`,
    );
  const threshold = json.threshold;
  if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 0)
    throw new PodConfigError('threshold must be a whole number >= 0');
  if (!Array.isArray(json.authorities)) throw new PodConfigError('authorities must be a list');
  const authorities = json.authorities.map((a: unknown, i) => {
    if (!isObject(a) || typeof a.name !== 'string')
      throw new PodConfigError(`authorities[${i}] needs a name`);
    return { name: a.name, trust: trustOf(a.trust, `authorities[${i}].trust`) };
  });
  if (threshold > authorities.length)
    throw new PodConfigError(
      `threshold ${threshold} is larger than the ${authorities.length} authorities given`,
    );
  if (!Array.isArray(json.models) || json.models.length === 0)
    throw new PodConfigError('models must be a non-empty list');
  const models = json.models.map((m: unknown, i): PodModel => {
    const where = `models[${i}]`;
    if (!isObject(m) || typeof m.name !== 'string' || typeof m.path !== 'string' || m.path === '')
      throw new PodConfigError(`${where} needs a name and a path`);
    const out: PodModel = {
      name: m.name,
      path: m.path,
      signature: typeof m.signature === 'string' && m.signature !== '' ? m.signature : 'model.sig',
    };
    if (m.inlineBundle !== undefined) {
      if (typeof m.inlineBundle !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(m.inlineBundle))
        throw new PodConfigError(`${where}.inlineBundle is not base64`);
      out.inlineBundle = new Uint8Array(Buffer.from(m.inlineBundle, 'base64'));
    }
    if (m.digest !== undefined) {
      if (typeof m.digest !== 'string') throw new PodConfigError(`${where}.digest is not a string`);
      out.digest = m.digest;
    }
    if (m.readPaths !== undefined) {
      const rp = m.readPaths;
      if (
        !Array.isArray(rp) ||
        rp.length > MAX_READ_PATHS ||
        !rp.every((p) => typeof p === 'string' && p.length <= 4096)
      )
        throw new PodConfigError(
          `${where}.readPaths must be a list of at most ${MAX_READ_PATHS} paths inside the model`,
        );
      out.readPaths = rp as string[];
    }
    if (m.scanOnly !== undefined) {
      if (m.scanOnly !== true) throw new PodConfigError(`${where}.scanOnly must be true when present`);
      if (out.inlineBundle || out.digest)
        throw new PodConfigError(`${where} is scanOnly but names a bundle or digest`);
      out.scanOnly = true;
    }
    return out;
  });
  const deny = json.denyFormats;
  const denyFormats = Array.isArray(deny) ? deny.filter((d): d is string => typeof d === 'string') : [];
  const allow = json.allowGlobals ?? [];
  if (!Array.isArray(allow) || !allow.every((g) => typeof g === 'string' && isPickleGlobalName(g)))
    throw new PodConfigError('allowGlobals is not a list of fully qualified Python names (module.Name)');
  return { threshold, authorities, models, denyFormats, allowGlobals: allow as string[] };
}
