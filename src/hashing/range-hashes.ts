// The hash functions of hash-range.ts, loaded on demand: SHA-256 (node:crypto) is always there, while
// BLAKE2b/BLAKE3 (@noble/hashes) are imported only when a task asks for them. A hash worker that only
// hashes SHA-256 (the usual case) so boots without loading @noble/hashes (~10-18 ms of its start).
// Same digests as algorithms.ts (the public, synchronous API, which loads everything up front).
import { createHash } from 'node:crypto';
import type { HashAlgorithm } from './algorithms.ts';

export interface RangeHash {
  update(chunk: Uint8Array): void;
  /** Lowercase hex digest. */
  hex(): string;
}

const hexOf = (d: Uint8Array) => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');

const loaded: Partial<Record<HashAlgorithm, () => RangeHash>> = {
  sha256: () => {
    const h = createHash('sha256');
    return { update: (c) => void h.update(c), hex: () => h.digest('hex') };
  },
};
const loading: Partial<Record<HashAlgorithm, Promise<void>>> = {};

async function importHash(algorithm: HashAlgorithm): Promise<void> {
  if (algorithm === 'blake2b') {
    const { blake2b } = await import('@noble/hashes/blake2.js');
    loaded.blake2b = () => {
      const h = blake2b.create({ dkLen: 64 });
      return { update: (c) => void h.update(c), hex: () => hexOf(h.digest()) };
    };
  } else if (algorithm === 'blake3') {
    const { blake3 } = await import('@noble/hashes/blake3.js');
    loaded.blake3 = () => {
      const h = blake3.create();
      return { update: (c) => void h.update(c), hex: () => hexOf(h.digest()) };
    };
  } else {
    throw new Error(`unknown hash algorithm ${String(algorithm)}`);
  }
}

/** Load the hash functions of these algorithms; undefined when they all are loaded already. */
export function loadRangeHashes(algorithms: Iterable<HashAlgorithm>): Promise<void> | undefined {
  let waits: Promise<void>[] | undefined;
  for (const a of algorithms) {
    if (loaded[a]) continue;
    const p = (loading[a] ??= importHash(a));
    (waits ??= []).push(p);
  }
  return waits && Promise.all(waits).then(() => undefined);
}

/** A hash of a loaded algorithm (see loadRangeHashes). */
export function createRangeHash(algorithm: HashAlgorithm): RangeHash {
  const make = loaded[algorithm];
  if (!make) throw new Error(`hash algorithm ${algorithm} is not loaded`);
  return make();
}
