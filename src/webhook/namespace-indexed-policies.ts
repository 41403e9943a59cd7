// A per-snapshot index in front of the decision core: for a (kind, namespace, namespace labels) triple,
// the candidate policies whose namespace selector can match, computed once and then reused. With 1,000
// ClusterModelPolicies spread over teams, a request then touches only the handful that select its
// namespace instead of evaluating every selector (issue 9: cost sub-linear in the policy count).
// decide() still applies every selector itself; this only drops policies it would drop, so verdicts
// cannot change.
import type { ClusterView } from '../policy/cluster-view.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { PolicySet } from '../policy/policy-set.ts';

const MAX_ENTRIES = 10_000;

export class NamespaceIndexedPolicySet extends PolicySet {
  private readonly memo = new Map<string, CompiledPolicy[]>();

  constructor(
    base: PolicySet,
    private readonly cluster: ClusterView,
  ) {
    super(base.policies);
  }

  override candidates(group: string, kind: string, namespace: string): CompiledPolicy[] {
    // The same labels decide() computes; part of the key, so a relabelled namespace gets a fresh entry.
    const labels = this.cluster.namespaceLabels(namespace) ?? { 'kubernetes.io/metadata.name': namespace };
    const key = `${group}/${kind}\u0000${namespace}\u0000${JSON.stringify(labels)}`;
    let hit = this.memo.get(key);
    if (hit === undefined) {
      hit = super.candidates(group, kind, namespace).filter((p) => p.matchesNamespace(labels));
      if (this.memo.size >= MAX_ENTRIES) this.memo.clear();
      this.memo.set(key, hit);
    }
    return hit;
  }
}
