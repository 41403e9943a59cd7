// Hash functions used by model manifests. SHA-256 comes from node:crypto (OpenSSL, SHA-NI where the CPU
// has it: about 10x faster than a pure-JS SHA-256); BLAKE2b-512 and BLAKE3 come from @noble/hashes.
import { createHash as createNodeHash } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2.js';
import { blake3 } from '@noble/hashes/blake3.js';

export type HashAlgorithm = 'sha256' | 'blake2b' | 'blake3';
export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ['sha256', 'blake2b', 'blake3'];

/** Digest sizes in bytes, as model_signing writes them (hashlib.blake2b defaults to 64 bytes). */
export const DIGEST_BYTES: Record<HashAlgorithm, number> = { sha256: 32, blake2b: 64, blake3: 32 };

export interface IncrementalHash {
  update(chunk: Uint8Array): void;
  digest(): Uint8Array;
}

export function isHashAlgorithm(value: unknown): value is HashAlgorithm {
  return typeof value === 'string' && (HASH_ALGORITHMS as readonly string[]).includes(value);
}

export function createIncrementalHash(algorithm: HashAlgorithm): IncrementalHash {
  switch (algorithm) {
    case 'sha256': {
      const h = createNodeHash('sha256');
      return { update: (c) => void h.update(c), digest: () => new Uint8Array(h.digest()) };
    }
    case 'blake2b': {
      const h = blake2b.create({ dkLen: 64 });
      return { update: (c) => void h.update(c), digest: () => h.digest() };
    }
    case 'blake3': {
      const h = blake3.create();
      return { update: (c) => void h.update(c), digest: () => h.digest() };
    }
  }
}

export function hashBytes(algorithm: HashAlgorithm, bytes: Uint8Array): Uint8Array {
  const h = createIncrementalHash(algorithm);
  h.update(bytes);
  return h.digest();
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
