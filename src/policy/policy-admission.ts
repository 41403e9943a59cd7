// Admission of the policies themselves (the policy kinds' validating webhook): refuse at create or update
// what would not be enforced as written — an invalid spec, trust material that does not parse, fields a
// ModelPolicy may not set — so the platform team learns at `kubectl apply`, not from a status later.
// References that do not resolve yet (a Secret applied after its policy) are admitted with a warning:
// the policy then fails closed until they exist. Pure: the cluster view and trust check are arguments.
import { clusterOnlyFieldsSet } from '../api/tenancy.ts';
import { formatFieldErrors, parsePolicy, policyKindOf } from '../api/validate.ts';
import type { ModelPolicySpec } from '../api/types.ts';
import { isObj } from '../json/shape.ts';
import type { ClusterView } from './cluster-view.ts';
import { compilePolicy, type CompileOptions } from './compile.ts';

export interface PolicyAdmission {
  allowed: boolean;
  /** Why it is refused (allowed: false). */
  message?: string;
  warnings: string[];
}

export function admitPolicy(object: unknown, cluster: ClusterView, opts: CompileOptions): PolicyAdmission {
  const kind = policyKindOf(object);
  if (!kind) return { allowed: true, warnings: [] };
  const name = isObj(object) && isObj(object.metadata) ? String(object.metadata.name ?? '') : '';
  const label = `${kind} ${name}`;
  if (kind === 'ModelPolicy' && isObj(object) && isObj(object.spec)) {
    const set = clusterOnlyFieldsSet(object.spec as ModelPolicySpec);
    if (set.length > 0)
      return {
        allowed: false,
        message: `${label} sets ${set.map((f) => f.path).join(', ')}, which only a ClusterModelPolicy may set: a namespaced policy can add restrictions, never decide what runs in a pod on modelgate's behalf or what is exempt. Remove ${set.length === 1 ? 'it' : 'them'}, or ask the platform team.`,
        warnings: [],
      };
  }
  const parsed = parsePolicy(object);
  if (!parsed.ok)
    return {
      allowed: false,
      message: `${label} is invalid: ${formatFieldErrors(parsed.errors)}`,
      warnings: [],
    };
  const r = compilePolicy(object, cluster, opts);
  const scope = scopeWarnings(label, parsed.policy.spec);
  if (r.ok) return { allowed: true, warnings: scope };
  if (r.reason === 'KeysUnresolved')
    return {
      allowed: true,
      warnings: [
        `${label}: ${r.message}. Until it exists the policy fails closed: in Enforce every workload it selects is refused.`,
        ...scope,
      ],
    };
  return {
    allowed: false,
    message: `${label} cannot be enforced as written (${r.reason}): ${r.message}`,
    warnings: [],
  };
}

/**
 * A policy that leaves Pods out of match.kinds judges workloads only by what their objects say: what a
 * KServe ServingRuntime, a controller or another webhook puts into the pods is never checked.
 */
function scopeWarnings(label: string, spec: ModelPolicySpec): string[] {
  const kinds = spec.match?.kinds;
  if (!kinds || kinds.length === 0 || kinds.some((k) => k.group === '' && k.kind === 'Pod')) return [];
  return [
    `${label}: match.kinds leaves out Pods, so only the objects listed are checked, by what they say: the containers a KServe ServingRuntime, a workload controller or another webhook puts into the pods are not. Add {group: "", kind: Pod} unless another policy selects these pods.`,
  ];
}
