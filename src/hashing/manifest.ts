// Pure manifest rules of the OpenSSF model_signing tool (model_signing/manifest.py and
// _serialization/*): resource names, shard layout and labels, ordering and the root (subject) digest.
import { createHash } from 'node:crypto';
import type { HashAlgorithm } from './algorithms.ts';

export type SerializationMethod = 'files' | 'shards';

export interface Resource {
  name: string;
  algorithm: string;
  digest: string;
}

/** A file of the model as the walker found it: POSIX path relative to the model root ("." for a single-file model). */
export interface ModelFile {
  name: string;
  size: number;
}

/** One unit of hashing work: a whole file or one shard of it. */
export interface HashUnit {
  /** The file's POSIX name in the manifest. */
  file: string;
  /** The resource name in the manifest: the file name, or "name:start:end" for a shard. */
  resource: string;
  start: number;
  end: number;
}

const isSurrogate = (unit: number) => unit >= 0xd800 && unit <= 0xdfff;

function compareCodePointsSlow(a: string, b: string): number {
  const ca = Array.from(a, (c) => c.codePointAt(0) ?? 0);
  const cb = Array.from(b, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const d = (ca[i] ?? 0) - (cb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return ca.length - cb.length;
}

/** Unicode code point order (OMS §5.2.1 sorts resource names by it). */
export function compareCodePoints(a: string, b: string): number {
  // JS compares UTF-16 code units; Python compares code points. The two orders differ only where the
  // first differing unit is a surrogate, so only then are code points decoded (a manifest sort makes
  // tens of thousands of comparisons).
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (isSurrogate(x) || isSurrogate(y)) return compareCodePointsSlow(a, b);
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** comparePosixPaths on paths already split into their components. */
export function comparePathParts(pa: readonly string[], pb: readonly string[]): number {
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const d = compareCodePoints(pa[i] ?? '', pb[i] ?? '');
    if (d !== 0) return d;
  }
  return pa.length - pb.length;
}

/** Order of pathlib.PurePosixPath: component by component, each by code point. */
export function comparePosixPaths(a: string, b: string): number {
  return comparePathParts(a.split('/'), b.split('/'));
}

/** The digest label model_signing records: "sha256" for files, "sha256-sharded-8" for 8-byte shards. */
export function resourceAlgorithm(
  method: SerializationMethod,
  hash: HashAlgorithm,
  shardSize?: number,
): string {
  return method === 'files' ? hash : `${hash}-sharded-${shardSize ?? 0}`;
}

/** Hashing units of one file. Shards are [k*n, min((k+1)*n, size)); an empty file has no shard at all. */
export function hashUnits(file: ModelFile, method: SerializationMethod, shardSize?: number): HashUnit[] {
  if (method === 'files') return [{ file: file.name, resource: file.name, start: 0, end: file.size }];
  const n = shardSize ?? 0;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new RangeError(`shard size must be a positive integer, not ${n}`);
  const units: HashUnit[] = [];
  for (let start = 0; start < file.size; start += n) {
    const end = Math.min(start + n, file.size);
    units.push({ file: file.name, resource: `${file.name}:${start}:${end}`, start, end });
  }
  return units;
}

/**
 * The order in which model_signing lists manifest items: by path, then shard start and end. Returns the
 * indices of `units` in that order (each path split once, not at every comparison).
 */
export function unitOrder(units: readonly HashUnit[]): number[] {
  const parts = units.map((u) => u.file.split('/'));
  return units
    .map((_, i) => i)
    .sort((a, b) => {
      const ua = units[a] as HashUnit;
      const ub = units[b] as HashUnit;
      return (
        (ua.file === ub.file ? 0 : comparePathParts(parts[a] ?? [], parts[b] ?? [])) ||
        ua.start - ub.start ||
        ua.end - ub.end
      );
    });
}

/** Root digest of a manifest: SHA-256 over the concatenated raw resource digests, in order. */
export function rootDigest(resources: readonly { digest: string }[]): string {
  // One hex decode of all digests joined (a manifest has thousands: one Buffer each cost ~7 ms per
  // 4,000). That is the same bytes as decoding each in turn only when every digest is whole, even-length
  // hex; anything else takes the item-by-item path, which decodes each as far as it is hex.
  const joined = resources.map((r) => r.digest).join('');
  const bytes = Buffer.from(joined, 'hex');
  if (bytes.length * 2 === joined.length && resources.every((r) => r.digest.length % 2 === 0)) {
    return createHash('sha256').update(bytes).digest('hex');
  }
  const h = createHash('sha256');
  for (const r of resources) h.update(Buffer.from(r.digest, 'hex'));
  return h.digest('hex');
}

/** Split a shard resource name "path:start:end" (the path itself may contain colons). */
export function parseShardName(name: string): { file: string; start: number; end: number } | undefined {
  const m = /^(.+):(0|[1-9][0-9]*):([1-9][0-9]*)$/.exec(name);
  if (!m) return undefined;
  const start = Number(m[2]);
  const end = Number(m[3]);
  if (!Number.isSafeInteger(end) || end <= start) return undefined;
  return { file: m[1] ?? '', start, end };
}

export interface ManifestDifference {
  /** Signed files absent from the model. */
  missing: string[];
  /** Model files the signature does not cover. */
  extra: string[];
  /** Files present in both whose content differs. */
  changed: string[];
}

function fileOf(resource: string, method: SerializationMethod): string {
  return method === 'shards' ? (parseShardName(resource)?.file ?? resource) : resource;
}

/**
 * Compare the signed manifest with the one computed from the model, reporting file names (a shard's
 * difference is reported against its file). Equal manifests give three empty lists.
 */
export function compareManifests(
  signed: readonly Resource[],
  local: readonly Resource[],
  method: SerializationMethod,
): ManifestDifference {
  // The usual case, a model that matches: the same resources, names unique, in the same order.
  if (
    signed.length === local.length &&
    signed.every(
      (r, i) =>
        r.name === local[i]?.name && r.digest === local[i]?.digest && r.algorithm === local[i]?.algorithm,
    ) &&
    new Set(signed.map((r) => r.name)).size === signed.length
  ) {
    return { missing: [], extra: [], changed: [] };
  }
  const signedByName = new Map(signed.map((r) => [r.name, r]));
  const localByName = new Map(local.map((r) => [r.name, r]));
  const signedFiles = new Set(signed.map((r) => fileOf(r.name, method)));
  const localFiles = new Set(local.map((r) => fileOf(r.name, method)));
  const missing = new Set<string>();
  const extra = new Set<string>();
  const changed = new Set<string>();
  for (const f of signedFiles) if (!localFiles.has(f)) missing.add(f);
  for (const f of localFiles) if (!signedFiles.has(f)) extra.add(f);
  const differs = (r: Resource, o: Resource | undefined) =>
    !o || o.digest !== r.digest || o.algorithm !== r.algorithm;
  for (const r of signed) {
    const f = fileOf(r.name, method);
    if (localFiles.has(f) && differs(r, localByName.get(r.name))) changed.add(f);
  }
  for (const r of local) {
    const f = fileOf(r.name, method);
    if (signedFiles.has(f) && differs(r, signedByName.get(r.name))) changed.add(f);
  }
  const sorted = (s: Set<string>) => [...s].sort(comparePosixPaths);
  return { missing: sorted(missing), extra: sorted(extra), changed: sorted(changed) };
}

export function describeDifference(d: ManifestDifference): string {
  const parts: string[] = [];
  const list = (xs: string[]) =>
    xs
      .slice(0, 10)
      .map((x) => JSON.stringify(x))
      .join(', ') + (xs.length > 10 ? `, and ${xs.length - 10} more` : '');
  if (d.changed.length) parts.push(`digest mismatch: ${list(d.changed)}`);
  if (d.missing.length) parts.push(`missing file${d.missing.length > 1 ? 's' : ''}: ${list(d.missing)}`);
  if (d.extra.length)
    parts.push(`extra file${d.extra.length > 1 ? 's' : ''} not covered by the signature: ${list(d.extra)}`);
  return parts.join('; ');
}
