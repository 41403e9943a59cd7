// The validating side of injection: a pod under a policy with verifier.inject must carry exactly the
// verifier that policy requires. The mutating webhook puts it there, but anyone who can create pods could
// strip or edit it afterwards (or skip the mutating webhook), so validation refuses such a pod.
import type { DecideOptions, NamedCheck } from '../policy/decide.ts';
import type { WorkloadContainer } from '../workloads/extract.ts';
import type { CheckContext, Finding } from '../policy/types.ts';
import {
  planVerifier,
  verifiableModels,
  VERIFIER_CONTAINER_NAME,
  type VerifierDefaults,
} from './verifier-container.ts';
import {
  expectedVerifierIndex,
  initContainersOf,
  isObj,
  verifierDifferences,
  verifierIndex,
} from './verifier-placement.ts';

export interface VerifierCheckOptions {
  defaults: VerifierDefaults;
}

const REMEDIATION = `create the pod through modelgate's mutating webhook (make sure it is registered for pods) and do not remove or edit the ${VERIFIER_CONTAINER_NAME} init container`;

/**
 * The pod must carry exactly the verifier that the policies matching it require — derived from those
 * policies (ctx.policies) and the installation, never from the pod's own verifier configuration, which
 * whoever wrote the pod controls.
 */
function checkVerifier(ctx: CheckContext, opts: VerifierCheckOptions): Finding[] {
  const { policy, workload } = ctx;
  if (workload.kind !== 'Pod' || !policy.verifier.inject) return [];
  if (verifiableModels(workload).length === 0) return [];
  const spec = workload.podSpecs[0]?.spec ?? {};
  const finding = (message: string, remediation = REMEDIATION): Finding[] => [
    { check: 'verifier', message, remediation },
  ];
  const plan = planVerifier({
    workload,
    namespace: ctx.namespace,
    cluster: ctx.cluster,
    defaults: opts.defaults,
    policies: ctx.policies,
    ...(ctx.verifyBundle ? { verifyBundle: ctx.verifyBundle } : {}),
  });
  if (plan.kind === 'refused') {
    const mine = plan.refusals
      .filter((r) => r.policy.id === policy.id)
      .map((r) => ({ check: 'verifier' as const, message: r.message, remediation: r.remediation }));
    return mine.length > 0
      ? mine
      : finding(
          `the policies that require the runtime verifier on this pod cannot share one verifier (${plan.refusals.map((r) => r.message).join('; ')})`,
          plan.refusals[0]?.remediation ?? REMEDIATION,
        );
  }
  if (plan.kind === 'none') return [];
  const list = initContainersOf(spec);
  const index = verifierIndex(list);
  const actual = list[index];
  if (!isObj(actual))
    return finding(
      `policy ${policy.name} requires the runtime verifier init container "${VERIFIER_CONTAINER_NAME}", and the pod does not have it`,
    );
  const diff = verifierDifferences(actual, plan.container);
  if (diff.length > 0)
    return finding(
      `the ${VERIFIER_CONTAINER_NAME} init container differs from the one the policies matching this pod require (${diff.join(', ')})`,
    );
  const want = expectedVerifierIndex(list, new Set(plan.config.models.map((m) => m.volume)));
  if (index !== want)
    return finding(
      `the ${VERIFIER_CONTAINER_NAME} init container is at position ${index + 1} of initContainers; it must run ${want === 0 ? 'first' : `right after init container ${want} (the last one that writes a model volume)`}, before anything reads the model`,
    );
  return [];
}

/** The `verifier` check, for `DecideOptions.extraChecks`. */
export function createVerifierCheck(opts: VerifierCheckOptions): NamedCheck {
  return { name: 'verifier', run: (ctx) => checkVerifier(ctx, opts) };
}

/**
 * What every caller of decide() passes so that the webhook, the audit and `modelgate check` agree on pods
 * that carry (or need) the verifier: the installation's verifier image and the verifier check.
 */
export function verifierDecideOptions(
  defaults: VerifierDefaults,
): Required<Pick<DecideOptions, 'extraChecks' | 'expectedVerifier'>> {
  return {
    extraChecks: [createVerifierCheck({ defaults })],
    expectedVerifier: (ct, ctx) => isExpectedVerifier(ct, ctx, defaults),
  };
}

/**
 * A container counts as modelgate's verifier only when it is exactly the one the policies matching the
 * pod require (image, command, environment, mounts, security context) — in a Pod; templates never carry
 * it (the mutating webhook adds it to the pods they create).
 */
export function isExpectedVerifier(
  ct: WorkloadContainer,
  ctx: CheckContext,
  defaults: VerifierDefaults,
): boolean {
  if (ctx.workload.kind !== 'Pod' || ct.field !== 'initContainers' || ct.sidecar) return false;
  const plan = planVerifier({
    workload: ctx.workload,
    namespace: ctx.namespace,
    cluster: ctx.cluster,
    defaults,
    policies: ctx.policies,
    ...(ctx.verifyBundle ? { verifyBundle: ctx.verifyBundle } : {}),
  });
  return plan.kind === 'inject' && verifierDifferences(ct.raw, plan.container).length === 0;
}
