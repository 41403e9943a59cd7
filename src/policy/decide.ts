// The decision core: (admission request, compiled policies, cluster view) -> decision. Pure: no I/O, no
// clock; everything it reads is an argument. The webhook, the audit controller and `modelgate check` all
// call this one function, so a deployer sees the same verdict everywhere.
import { SENSITIVITIES, SENSITIVITY_LABEL, type Sensitivity } from '../api/types.ts';
import { extractModelReferences, type WorkloadModels } from '../workloads/extract.ts';
import { annotationErrors, unclassifiedReferences } from './checks/references.ts';
import { confidentialPlacement } from './checks/confidential.ts';
import { referencesPinned } from './checks/pinned.ts';
import { signatureVerified } from './checks/signature.ts';
import { sourceAllowed } from './checks/source.ts';
import type { ClusterView } from './cluster-view.ts';
import type { PolicySet } from './policy-set.ts';
import type { BundleVerifier } from './signature-seam.ts';
import type { Check, CheckName, Decision, Finding, Violation } from './types.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionInput {
  operation: Operation;
  object?: unknown;
  oldObject?: unknown;
  /** The request's namespace (falls back to the object's metadata.namespace, then "default"). */
  namespace?: string;
  subResource?: string;
}

export interface DecideOptions {
  verifyBundle?: BundleVerifier;
  /** Namespaces never subject to policies (also exempted in the webhook configuration). */
  exemptNamespaces?: ReadonlySet<string>;
  /** Extra checks run after the built-in ones (e.g. the webhook's verifier-injection check). */
  extraChecks?: readonly NamedCheck[];
}

export interface NamedCheck {
  name: CheckName;
  run: Check;
}

export const DEFAULT_EXEMPT_NAMESPACES: ReadonlySet<string> = new Set([
  'kube-system',
  'kube-public',
  'kube-node-lease',
]);

/** Ordered: what a deployer should fix first comes first. */
export const BUILTIN_CHECKS: readonly NamedCheck[] = [
  { name: 'annotation', run: annotationErrors },
  { name: 'model-reference', run: unclassifiedReferences },
  { name: 'source', run: sourceAllowed },
  { name: 'pinned', run: referencesPinned },
  { name: 'signature', run: signatureVerified },
  { name: 'confidential-computing', run: confidentialPlacement },
];

const allow = (skipped: string): Decision => ({
  allowed: true,
  warnings: [],
  violations: [],
  policies: [],
  skipped,
});

function sensitivityOf(
  w: WorkloadModels,
  nsLabels: Record<string, string>,
): { value: Sensitivity; warning?: string } {
  const raw = w.sensitivityLabel ?? nsLabels[SENSITIVITY_LABEL];
  if (raw === undefined) return { value: 'low' };
  if ((SENSITIVITIES as readonly string[]).includes(raw)) return { value: raw as Sensitivity };
  return {
    value: 'high',
    warning: `label ${SENSITIVITY_LABEL}="${raw}" is not one of low, medium, high; modelgate treats the workload as high-sensitivity`,
  };
}

/** What an update must change for a tightened policy to apply to an already-running workload. */
function fingerprint(w: WorkloadModels): string {
  // Init containers too: swapping the injected verifier's image on a running pod must not pass as unchanged.
  const placement = w.podSpecs.map(({ spec }) => [
    spec.runtimeClassName,
    spec.nodeName,
    spec.nodeSelector,
    spec.affinity,
    spec.initContainers,
  ]);
  return JSON.stringify([
    w.models.map((m) => [m.uri, m.digest, m.modelDigest, m.volume, m.declared]),
    w.unclassified,
    placement,
    w.sensitivityLabel,
  ]);
}

export function formatViolation(v: Violation): string {
  return `[${v.policy}] ${v.check}${v.model ? ` (${v.model})` : ''}: ${v.message}. Fix: ${v.remediation}.`;
}

export function decide(
  input: AdmissionInput,
  policies: PolicySet,
  cluster: ClusterView,
  options: DecideOptions = {},
): Decision {
  if (input.operation === 'DELETE' || input.operation === 'CONNECT')
    return allow(`${input.operation} is never blocked`);
  if (input.subResource)
    return allow(`the ${input.subResource} subresource does not change models or placement`);
  const workload = extractModelReferences(input.object);
  if (!workload) return allow('not a model-serving kind modelgate checks');
  if (!workload.servesModels) return allow('the workload references no model');
  const namespace = input.namespace || workload.namespace || 'default';
  if ((options.exemptNamespaces ?? DEFAULT_EXEMPT_NAMESPACES).has(namespace))
    return allow(`namespace ${namespace} is exempt`);

  const nsLabels = cluster.namespaceLabels(namespace) ?? { 'kubernetes.io/metadata.name': namespace };
  const matching = policies
    .candidates(workload.group, workload.kind, namespace)
    .filter((p) => p.matchesNamespace(nsLabels) && p.matchesObject(workload.objectLabels));
  if (matching.length === 0) return allow('no policy matches');

  const sensitivity = sensitivityOf(workload, nsLabels);
  const unchangedUpdate =
    input.operation === 'UPDATE' &&
    input.oldObject !== undefined &&
    (() => {
      const old = extractModelReferences(input.oldObject);
      return old !== undefined && fingerprint(old) === fingerprint(workload);
    })();

  const violations: Violation[] = [];
  const warnings: string[] = sensitivity.warning ? [sensitivity.warning] : [];
  let denied = false;
  const checks = [...BUILTIN_CHECKS, ...(options.extraChecks ?? [])];
  for (const policy of matching) {
    const ctx = {
      policy,
      workload,
      namespace,
      sensitivity: sensitivity.value,
      cluster,
      ...(options.verifyBundle ? { verifyBundle: options.verifyBundle } : {}),
    };
    const findings: Finding[] = [];
    for (const check of checks) {
      try {
        findings.push(...check.run(ctx));
      } catch (err) {
        // Fail closed: a check that cannot decide is a violation with the reason.
        findings.push({
          check: 'decision',
          message: `check "${check.name}" could not be evaluated: ${(err as Error).message}`,
          remediation: 'report this to the platform team; the workload is refused until the check can run',
        });
      }
    }
    const relaxed = unchangedUpdate && !policy.enforceUnchangedUpdates && policy.enforcement === 'Enforce';
    for (const f of findings) {
      const v: Violation = { ...f, policy: policy.id, enforcement: policy.enforcement };
      violations.push(v);
      if (policy.enforcement === 'Enforce' && !relaxed) denied = true;
      else if (policy.enforcement === 'Warn' || relaxed) {
        warnings.push(
          relaxed
            ? `${formatViolation(v)} (not enforced on this update: models and placement are unchanged; the workload is reported by audit)`
            : formatViolation(v),
        );
      }
    }
  }
  return { allowed: !denied, warnings, violations, policies: matching.map((p) => p.id) };
}
