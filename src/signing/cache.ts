// A cache of bundle verdicts for the admission path, keyed by the bundle's digest and the exact trust
// material (authority set), so a webhook replica verifies each (bundle, authority) pair once. Entries
// expire (certificates expire too), and the cache is bounded (least recently used goes first).
import { createHash } from 'node:crypto';
import type { TrustMaterial } from './trust.ts';
import { verifyBundleSignature, type SignatureVerdict } from './verify-signature.ts';
import { canonicalJson } from '../json/shape.ts';

export interface VerdictCacheOptions {
  maxEntries?: number;
  ttlMs?: number;
  /** Injected clock (milliseconds). */
  now?: () => number;
}

export class VerdictCache {
  private readonly entries = new Map<string, { verdict: SignatureVerdict; expires: number }>();
  private readonly fingerprints = new WeakMap<object, string>();
  /** Bundle digests by buffer: one admission checks the same bundle against each authority of each policy. */
  private readonly digests = new WeakMap<Uint8Array, string>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: VerdictCacheOptions = {}) {
    this.maxEntries = options.maxEntries ?? 1024;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Fingerprint of trust material: equal content gives an equal key, whatever the object identity. */
  trustFingerprint(trust: TrustMaterial): string {
    const hit = this.fingerprints.get(trust);
    if (hit) return hit;
    const fp = createHash('sha256').update(canonicalJson(trust)).digest('hex');
    this.fingerprints.set(trust, fp);
    return fp;
  }

  /** verifyBundleSignature, memoised. Same contract: synchronous, no I/O, never throws. */
  verify(bundle: Uint8Array, trust: TrustMaterial): SignatureVerdict {
    let key: string;
    try {
      let digest = this.digests.get(bundle);
      if (digest === undefined)
        this.digests.set(bundle, (digest = createHash('sha256').update(bundle).digest('hex')));
      key = `${digest}:${this.trustFingerprint(trust)}`;
    } catch {
      return verifyBundleSignature(bundle, trust);
    }
    const t = this.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > t) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.verdict;
    }
    const verdict = verifyBundleSignature(bundle, trust, { now: new Date(t) });
    this.entries.delete(key);
    this.entries.set(key, { verdict, expires: t + this.ttlMs });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value ?? '');
    return verdict;
  }

  get size(): number {
    return this.entries.size;
  }
}
