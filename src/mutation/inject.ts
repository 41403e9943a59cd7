// The mutating side: the JSONPatch that makes a pod carry exactly the verifier its policies require.
// Idempotent: a pod that already carries it, in the right place, gets no patch (webhook reinvocation,
// re-admission). A pod that carries a different one gets it replaced.
import type { ClusterView } from '../policy/cluster-view.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { BundleVerifier } from '../policy/signature-seam.ts';
import { extractModelReferences } from '../workloads/extract.ts';
import type { JsonPatchOperation } from './json-patch.ts';
import { planVerifier, type InjectionRefusal, type VerifierDefaults } from './verifier-container.ts';
import type { VerifierConfig } from './verifier-config.ts';
import {
  expectedVerifierIndex,
  initContainersOf,
  isObj,
  verifierDifferences,
  verifierIndex,
} from './verifier-placement.ts';

export type { VerifierConfig };

export interface InjectionResult {
  patch: JsonPatchOperation[];
  /** Set when the pod needs the verifier (whether or not it already had it). */
  config?: VerifierConfig;
  /** Why the required verifier could not be injected (the validating side denies the pod with these). */
  refusals: InjectionRefusal[];
}

export function verifierInjection(
  pod: unknown,
  input: {
    namespace: string;
    policies: readonly CompiledPolicy[];
    cluster: ClusterView;
    defaults: VerifierDefaults;
    verifyBundle?: BundleVerifier;
  },
): InjectionResult {
  const workload = extractModelReferences(pod);
  if (!workload || workload.kind !== 'Pod' || !isObj(pod) || !isObj(pod.spec))
    return { patch: [], refusals: [] };
  const plan = planVerifier({ workload, ...input });
  if (plan.kind === 'none') return { patch: [], refusals: [] };
  if (plan.kind === 'refused') return { patch: [], refusals: plan.refusals };

  const list = initContainersOf(pod.spec);
  const current = verifierIndex(list);
  const want = expectedVerifierIndex(list, new Set(plan.config.models.map((m) => m.volume)));
  const existing = list[current];
  if (
    current >= 0 &&
    current === want &&
    isObj(existing) &&
    verifierDifferences(existing, plan.container).length === 0
  )
    return { patch: [], config: plan.config, refusals: [] };

  const patch: JsonPatchOperation[] = [];
  if (current >= 0) patch.push({ op: 'remove', path: `/spec/initContainers/${current}` });
  if (!Array.isArray(pod.spec.initContainers))
    patch.push({ op: 'add', path: '/spec/initContainers', value: [plan.container] });
  else patch.push({ op: 'add', path: `/spec/initContainers/${want}`, value: plan.container });
  return { patch, config: plan.config, refusals: [] };
}
