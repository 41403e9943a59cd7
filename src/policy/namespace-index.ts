// A per-snapshot index in front of the decision core: for a (kind, namespace, namespace labels) triple,
// the candidate policies whose namespace selector can match, computed once and then reused. With 1,000
// ClusterModelPolicies spread over teams, a request then touches only the handful that select its
// namespace instead of evaluating every selector (issue 9: cost sub-linear in the policy count).
// decide() still applies every selector itself; this only drops policies it would drop, so verdicts
// cannot change.
import type { ClusterView } from './cluster-view.ts';
import type { CompiledPolicy } from './compile.ts';
import { PolicySet } from './policy-set.ts';

const MAX_ENTRIES = 10_000;

export class NamespaceIndexedPolicySet extends PolicySet {
  private readonly memo = new Map<
    string,
    { labels: Readonly<Record<string, string>> | undefined; hit: CompiledPolicy[] }
  >();

  constructor(
    base: PolicySet,
    private readonly cluster: ClusterView,
  ) {
    super(base.policies);
  }

  override candidates(group: string, kind: string, namespace: string): CompiledPolicy[] {
    // The same labels decide() computes. The view hands out the same labels object until the namespace
    // changes, so an entry is still valid while its labels object is the one the view returns now (a
    // relabelled namespace gets a fresh entry); no per-request serialisation of the labels.
    const viewLabels = this.cluster.namespaceLabels(namespace);
    const key = `${group}/${kind}\u0000${namespace}`;
    const entry = this.memo.get(key);
    if (entry !== undefined && entry.labels === viewLabels) return entry.hit;
    const labels = viewLabels ?? { 'kubernetes.io/metadata.name': namespace };
    const hit = super.candidates(group, kind, namespace).filter((p) => p.matchesNamespace(labels));
    if (this.memo.size >= MAX_ENTRIES) this.memo.clear();
    this.memo.set(key, { labels: viewLabels, hit });
    return hit;
  }
}
