// Compiled policies indexed by workload kind and namespace, so a request only looks at the policies that
// can apply to it (cost grows with matching policies, not with all policies).
import type { CompiledPolicy } from './compile.ts';

const key = (group: string, kind: string) => `${group}/${kind}`;

export class PolicySet {
  private readonly byKind = new Map<string, CompiledPolicy[]>();
  private readonly anyKind: CompiledPolicy[] = [];
  private readonly namespacedByKind = new Map<string, CompiledPolicy[]>();
  private readonly namespacedAnyKind = new Map<string, CompiledPolicy[]>();
  readonly policies: readonly CompiledPolicy[];

  constructor(policies: Iterable<CompiledPolicy>) {
    this.policies = [...policies].sort((a, b) => a.id.localeCompare(b.id));
    for (const p of this.policies) {
      const push = <K>(m: Map<K, CompiledPolicy[]>, k: K) => {
        const list = m.get(k);
        if (list) list.push(p);
        else m.set(k, [p]);
      };
      if (p.kind === 'ModelPolicy') {
        const ns = p.namespace ?? '';
        if (p.kinds.length === 0) push(this.namespacedAnyKind, ns);
        else for (const k of p.kinds) push(this.namespacedByKind, `${ns}|${key(k.group, k.kind)}`);
      } else if (p.kinds.length === 0) this.anyKind.push(p);
      else for (const k of p.kinds) push(this.byKind, key(k.group, k.kind));
    }
  }

  get size(): number {
    return this.policies.length;
  }

  /** Policies that could apply to a `group/kind` object in `namespace` (selectors still to be checked). */
  candidates(group: string, kind: string, namespace: string): CompiledPolicy[] {
    const k = key(group, kind);
    const out = [
      ...this.anyKind,
      ...(this.byKind.get(k) ?? []),
      ...(this.namespacedAnyKind.get(namespace) ?? []),
      ...(this.namespacedByKind.get(`${namespace}|${k}`) ?? []),
    ];
    return [...new Set(out)];
  }
}
