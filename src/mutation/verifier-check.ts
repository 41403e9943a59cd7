// The validating side of injection: a pod under a policy with verifier.inject must carry exactly the
// verifier that policy requires. The mutating webhook puts it there, but anyone who can create pods could
// strip or edit it afterwards (or skip the mutating webhook), so validation refuses such a pod.
import type { CompiledPolicy } from '../policy/compile.ts';
import type { NamedCheck } from '../policy/decide.ts';
import type { CheckContext, Finding } from '../policy/types.ts';
import { VERIFIER_CONFIG_ENV, type VerifierConfig } from './verifier-config.ts';
import {
  planVerifier,
  verifiableModels,
  VERIFIER_CONTAINER_NAME,
  type VerifierDefaults,
} from './verifier-container.ts';
import { writersAfterVerifier } from './verified-volume-writers.ts';
import {
  expectedVerifierIndex,
  initContainersOf,
  isObj,
  verifierDifferences,
  verifierIndex,
} from './verifier-placement.ts';

export interface VerifierCheckOptions {
  defaults: VerifierDefaults;
  /** Resolves the policy ids a pod's verifier config lists (from the same snapshot as the decision). */
  policyById: (id: string) => CompiledPolicy | undefined;
}

const REMEDIATION = `create the pod through modelgate's mutating webhook (make sure it is registered for pods) and do not remove or edit the ${VERIFIER_CONTAINER_NAME} init container`;

function listedPolicies(container: Record<string, unknown>): string[] | undefined {
  const env = Array.isArray(container.env) ? container.env : [];
  const entry = env.find((e) => isObj(e) && e.name === VERIFIER_CONFIG_ENV);
  if (!isObj(entry) || typeof entry.value !== 'string') return undefined;
  try {
    const cfg = JSON.parse(entry.value) as Partial<VerifierConfig>;
    return Array.isArray(cfg.policies) && cfg.policies.every((p) => typeof p === 'string')
      ? cfg.policies
      : undefined;
  } catch {
    return undefined;
  }
}

function checkVerifier(ctx: CheckContext, opts: VerifierCheckOptions): Finding[] {
  const { policy, workload } = ctx;
  if (workload.kind !== 'Pod' || !policy.verifier.inject) return [];
  if (verifiableModels(workload).length === 0) return [];
  const spec = workload.podSpecs[0]?.spec ?? {};
  const base = { workload, namespace: ctx.namespace, cluster: ctx.cluster, defaults: opts.defaults };
  const finding = (message: string, remediation = REMEDIATION): Finding[] => [
    { check: 'verifier', message, remediation },
  ];
  const refused = (plan: ReturnType<typeof planVerifier>): Finding[] | undefined =>
    plan.kind === 'refused'
      ? plan.refusals
          .filter((r) => r.policy.id === policy.id)
          .map((r) => ({ check: 'verifier', message: r.message, remediation: r.remediation }))
      : undefined;

  const list = initContainersOf(spec);
  const index = verifierIndex(list);
  const actual = list[index];
  if (!isObj(actual)) {
    const why = refused(planVerifier({ ...base, policies: [policy] })) ?? [];
    return why.length > 0
      ? why
      : finding(
          `policy ${policy.name} requires the runtime verifier init container "${VERIFIER_CONTAINER_NAME}", and the pod does not have it`,
        );
  }
  const listed = listedPolicies(actual);
  if (!listed)
    return finding(
      `the ${VERIFIER_CONTAINER_NAME} init container has no valid ${VERIFIER_CONFIG_ENV} configuration`,
    );
  if (!listed.includes(policy.id))
    return finding(
      `the ${VERIFIER_CONTAINER_NAME} init container does not check what policy ${policy.name} requires (its configuration lists ${listed.join(', ') || 'no policy'})`,
    );
  const policies = listed.map(opts.policyById).filter((p): p is CompiledPolicy => p !== undefined);
  const plan = planVerifier({ ...base, policies });
  if (plan.kind === 'refused') {
    const mine = refused(plan) ?? [];
    return mine.length > 0
      ? mine
      : finding(
          `the ${VERIFIER_CONTAINER_NAME} init container is configured for policies that cannot share one verifier`,
        );
  }
  if (plan.kind === 'none') return [];
  const diff = verifierDifferences(actual, plan.container);
  if (diff.length > 0)
    return finding(
      `the ${VERIFIER_CONTAINER_NAME} init container differs from the one policy ${policy.name} requires (${diff.join(', ')})`,
    );
  const want = expectedVerifierIndex(list);
  if (index !== want)
    return finding(
      `the ${VERIFIER_CONTAINER_NAME} init container is at position ${index + 1} of initContainers; it must run ${want === 0 ? 'first' : 'right after storage-initializer'}, before anything reads the model`,
    );
  // Check-then-use: nothing that runs after the verifier may be able to rewrite what it verified.
  const verified = new Set(plan.config.models.map((m) => m.volume));
  return writersAfterVerifier(spec, verified, index).map((w) => ({
    check: 'verifier',
    message: `${w.container} mounts volume "${w.volume}" writable${w.volume === w.verified ? '' : ` (the same storage as the verified volume "${w.verified}")`}: it can change the model after the ${VERIFIER_CONTAINER_NAME} init container has checked it, and the server would load files that were never verified`,
    remediation: `mount "${w.volume}" with readOnly: true in that container; a model that must be written into the volume is written before the verifier runs, by the storage-initializer init container`,
  }));
}

/** The `verifier` check, for `DecideOptions.extraChecks`. */
export function createVerifierCheck(opts: VerifierCheckOptions): NamedCheck {
  return { name: 'verifier', run: (ctx) => checkVerifier(ctx, opts) };
}
