// The verified-bundle cache (DESIGN §5): signature verdicts keyed by bundle digest and trust fingerprint,
// bounded, oldest evicted first. A verdict depends only on its key, so entries never go stale.
import type { SignatureVerdictView } from '../policy/signature-seam.ts';
import type { VerdictCache } from '../policy/types.ts';

export class BoundedVerdictCache implements VerdictCache {
  private readonly entries = new Map<string, SignatureVerdictView>();
  constructor(private readonly capacity = 10_000) {}
  get(key: string): SignatureVerdictView | undefined {
    const v = this.entries.get(key);
    if (v !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, v);
    }
    return v;
  }
  set(key: string, verdict: SignatureVerdictView): void {
    this.entries.delete(key);
    this.entries.set(key, verdict);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}
