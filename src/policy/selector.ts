// Kubernetes label selectors, compiled to predicates.
import type { LabelSelector } from '../api/types.ts';

export type LabelPredicate = (labels: Record<string, string>) => boolean;

export function compileSelector(sel: LabelSelector | undefined): LabelPredicate {
  if (!sel) return () => true;
  const checks: LabelPredicate[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) checks.push((l) => l[k] === v);
  for (const e of sel.matchExpressions ?? []) {
    const values = new Set(e.values ?? []);
    switch (e.operator) {
      case 'In':
        checks.push((l) => l[e.key] !== undefined && values.has(l[e.key]!));
        break;
      case 'NotIn':
        checks.push((l) => l[e.key] === undefined || !values.has(l[e.key]!));
        break;
      case 'Exists':
        checks.push((l) => l[e.key] !== undefined);
        break;
      case 'DoesNotExist':
        checks.push((l) => l[e.key] === undefined);
        break;
    }
  }
  return (labels) => checks.every((c) => c(labels));
}
