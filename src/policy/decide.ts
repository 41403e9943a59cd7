// The decision core: (admission request, compiled policies, cluster view) -> decision. Pure: no I/O, no
// clock; everything it reads is an argument. The webhook, the audit controller and `modelgate check` all
// call this one function, so a deployer sees the same verdict everywhere.
//
// Scope is by policy, not by recognition (docs/architecture.md, ADR 4 reversed): every object of a
// supported kind that a policy selects is subject to it, whether or not modelgate found a model in it;
// every container must be accounted for (checks/containers.ts).
import { SENSITIVITIES, SENSITIVITY_LABEL, type Sensitivity } from '../api/types.ts';
import { canonicalJson, isObj, str } from '../json/shape.ts';
import { groupOfApiVersion } from '../workloads/kinds.ts';
import { extractModelReferences, type WorkloadContainer, type WorkloadModels } from '../workloads/extract.ts';
import { confidentialPlacement } from './checks/confidential.ts';
import { containersAccounted } from './checks/containers.ts';
import { noWriterAfterVerification } from './checks/integrity.ts';
import { ociFormats } from './checks/oci.ts';
import { referencesPinned } from './checks/pinned.ts';
import { annotationErrors, unclassifiedReferences } from './checks/references.ts';
import { signatureVerified } from './checks/signature.ts';
import { sourceAllowed } from './checks/source.ts';
import type { ClusterView } from './cluster-view.ts';
import type { CompiledPolicy } from './compile.ts';
import type { PolicySet } from './policy-set.ts';
import type { BundleVerifier } from './signature-seam.ts';
import type {
  Check,
  CheckContext,
  CheckName,
  Decision,
  Finding,
  ModelEvidence,
  OciEvidenceMiss,
  Violation,
} from './types.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionInput {
  operation: Operation;
  object?: unknown;
  oldObject?: unknown;
  /** The request's namespace (falls back to the object's metadata.namespace, then "default"). */
  namespace?: string;
  subResource?: string;
  /** The kind the API server says the request is for; the object must be of this kind. */
  kind?: { group: string; kind: string };
}

export interface DecideOptions {
  verifyBundle?: BundleVerifier;
  /** Namespaces never subject to policies (also exempted in the webhook configuration). */
  exemptNamespaces?: ReadonlySet<string>;
  /** Extra checks run after the built-in ones (e.g. the webhook's verifier-injection check). */
  extraChecks?: readonly NamedCheck[];
  /**
   * Whether a container is exactly the verifier the policies matching this pod require (the mutation
   * layer knows what that is). Without it, no container counts as the verifier.
   */
  expectedVerifier?: (ct: WorkloadContainer, ctx: CheckContext) => boolean;
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

/** Subresources that cannot change what a pod loads or where it runs. */
const HARMLESS_SUBRESOURCES = new Set([
  'status',
  'binding',
  'eviction',
  'scale',
  'resize',
  'log',
  'exec',
  'attach',
  'portforward',
  'proxy',
]);

/** At most this many violations of one policy are kept: a hostile object cannot make the answer huge. */
export const MAX_VIOLATIONS_PER_POLICY = 50;

/** Ordered: what a deployer should fix first comes first. */
export const BUILTIN_CHECKS: readonly NamedCheck[] = [
  { name: 'annotation', run: annotationErrors },
  { name: 'container', run: containersAccounted },
  { name: 'model-reference', run: unclassifiedReferences },
  { name: 'source', run: sourceAllowed },
  { name: 'pinned', run: referencesPinned },
  { name: 'signature', run: signatureVerified },
  { name: 'format', run: ociFormats },
  { name: 'integrity', run: noWriterAfterVerification },
  { name: 'confidential-computing', run: confidentialPlacement },
];

const allow = (skipped: string): Decision => ({
  allowed: true,
  warnings: [],
  violations: [],
  policies: [],
  skipped,
});

const RANK: Record<Sensitivity, number> = { low: 0, medium: 1, high: 2 };

/** Sensitivity is a floor: the highest of the namespace label, the object's label and every pod template's. */
function sensitivityOf(
  w: WorkloadModels,
  nsLabels: Record<string, string>,
): { value: Sensitivity; warnings: string[] } {
  const raw = [nsLabels[SENSITIVITY_LABEL], ...w.sensitivityLabels].filter(
    (v): v is string => v !== undefined,
  );
  let value: Sensitivity = 'low';
  const warnings: string[] = [];
  for (const r of raw) {
    const s: Sensitivity = (SENSITIVITIES as readonly string[]).includes(r) ? (r as Sensitivity) : 'high';
    if (s !== r)
      warnings.push(
        `label ${SENSITIVITY_LABEL}="${r}" is not one of low, medium, high; modelgate treats the workload as high-sensitivity`,
      );
    if (RANK[s] > RANK[value]) value = s;
  }
  return { value, warnings };
}

/** What an update must change for a tightened policy to apply to an already-running workload. */
function fingerprint(w: WorkloadModels): string {
  // Every pod spec whole (containers, init and ephemeral containers, volumes, placement), the models
  // found and the sensitivity: swapping the verifier's image, adding a debug container or a sidecar is a change.
  return canonicalJson([
    w.podSpecs.map((p) => p.spec),
    // Values the containers read from the object's own labels and annotations (downward API).
    w.containers.map((c) => c.envSnapshot),
    w.models.map((m) => [m.uri, m.digest, m.modelDigest, m.volume, m.declared]),
    w.unclassified,
    w.sensitivityLabels,
  ]);
}

export function formatViolation(v: Violation): string {
  return `[${v.policy}] ${v.check}${v.model ? ` (${v.model})` : ''}: ${v.message}. Fix: ${v.remediation}.`;
}

/** The one finding of a policy that cannot be enforced as written. */
function brokenPolicyFinding(policy: CompiledPolicy): Finding {
  const b = policy.broken!;
  return {
    check: 'policy',
    message: `${policy.id} applies to this workload but cannot be enforced as written (${b.reason}: ${b.message}), so modelgate refuses what it selects rather than admit it unchecked`,
    remediation: `the platform team must fix ${policy.id} (kubectl describe ${policy.kind.toLowerCase()} ${policy.name}${policy.namespace ? ` -n ${policy.namespace}` : ''} shows why it is not Ready)`,
  };
}

export function decide(
  input: AdmissionInput,
  policies: PolicySet,
  cluster: ClusterView,
  options: DecideOptions = {},
): Decision {
  if (input.operation === 'DELETE' || input.operation === 'CONNECT')
    return allow(`${input.operation} is never blocked`);
  if (input.subResource && input.subResource !== 'ephemeralcontainers') {
    if (HARMLESS_SUBRESOURCES.has(input.subResource))
      return allow(`the ${input.subResource} subresource does not change models or placement`);
  }
  // The request's kind decides which webhook rules and policies apply: an object of another kind (or of
  // none) inside it is refused before anything is read from it, whatever kind it claims to be.
  const raw = isObj(input.object) ? input.object : {};
  const objectGroup = groupOfApiVersion(raw.apiVersion);
  const objectKind = str(raw.kind);
  if (input.kind && (input.kind.group !== objectGroup || input.kind.kind !== objectKind)) {
    return {
      allowed: false,
      warnings: [],
      policies: [],
      violations: [
        {
          policy: '(request)',
          enforcement: 'Enforce',
          check: 'request',
          message: `the request is for ${input.kind.kind}${input.kind.group ? `.${input.kind.group}` : ''} but its object is ${objectKind ? `a ${objectKind}` : 'of no kind'}${objectGroup ? `.${objectGroup}` : objectGroup === undefined ? ` (apiVersion ${JSON.stringify(raw.apiVersion ?? null)})` : ''}`,
          remediation: 'send the object to the API endpoint of its own kind',
        },
      ],
    };
  }
  const workload = extractModelReferences(input.object);
  if (!workload) return allow('not a kind modelgate checks');
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
    input.subResource === undefined &&
    input.oldObject !== undefined &&
    (() => {
      const old = extractModelReferences(input.oldObject);
      return old !== undefined && fingerprint(old) === fingerprint(workload);
    })();

  const violations: Violation[] = [];
  const warnings: string[] = [...sensitivity.warnings];
  const evidence: ModelEvidence[] = [];
  const misses = new Map<string, OciEvidenceMiss>();
  let denied = false;
  const checks = [...BUILTIN_CHECKS, ...(options.extraChecks ?? [])];
  for (const policy of matching) {
    const ctx = {
      policy,
      workload,
      namespace,
      sensitivity: sensitivity.value,
      cluster,
      policies: matching,
      ...(options.verifyBundle ? { verifyBundle: options.verifyBundle } : {}),
      ...(options.expectedVerifier ? { expectedVerifier: options.expectedVerifier } : {}),
      note: {
        evidence: (e: Omit<ModelEvidence, 'policy'>) => evidence.push({ ...e, policy: policy.id }),
        ociMiss: (m: OciEvidenceMiss) => misses.set(m.digest, m),
      },
    };
    const findings: Finding[] = [];
    if (policy.broken) findings.push(brokenPolicyFinding(policy));
    else
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
        if (findings.length > MAX_VIOLATIONS_PER_POLICY) break;
      }
    if (findings.length > MAX_VIOLATIONS_PER_POLICY) {
      const more = findings.length - MAX_VIOLATIONS_PER_POLICY;
      findings.length = MAX_VIOLATIONS_PER_POLICY;
      findings.push({
        check: 'request',
        message: `and ${more}${more === 1 ? '' : ' or more'} further violation(s) of the same policy, not listed`,
        remediation: 'fix the violations above and apply again',
      });
    }
    // A broken policy is not relaxed on unchanged updates: it cannot say what changed.
    const relaxed =
      unchangedUpdate &&
      !policy.enforceUnchangedUpdates &&
      policy.enforcement === 'Enforce' &&
      !policy.broken;
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
  return {
    allowed: !denied,
    warnings,
    violations,
    policies: matching.map((p) => p.id),
    ...(evidence.length > 0 ? { evidence } : {}),
    ...(misses.size > 0 ? { ociMisses: [...misses.values()] } : {}),
  };
}
