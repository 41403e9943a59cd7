// The audit's pure core: evaluate one existing workload with the same decision core as the webhook, and
// turn the decision into report results, event keys and per-policy counts.
import { decide, formatViolation, type DecideOptions } from '../policy/decide.ts';
import type { PolicySnapshot } from '../policy/store.ts';
import type { BundleVerifier } from '../policy/signature-seam.ts';
import type { ModelEvidence, Violation } from '../policy/types.ts';
import { groupOfApiVersion, isSupportedKind } from '../workloads/kinds.ts';
import type { KubeObject } from '../kube/types.ts';
import type { ReportResult } from './reports.ts';

export interface WorkloadRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export interface WorkloadAudit {
  ref: WorkloadRef;
  /** Ids of the policies that apply to the workload. */
  policies: string[];
  violations: Violation[];
  /** Which evidence satisfied each policy's signature requirement, per model (admission-oci, runtime-hash). */
  evidence?: ModelEvidence[];
}

/**
 * True when another supported workload controls this object (a ReplicaSet of a Deployment, a Pod of a
 * ReplicaSet, a Job of a CronJob): the owner is audited, so the object is not counted twice.
 */
export function controlledBySupportedKind(o: KubeObject): boolean {
  return (o.metadata.ownerReferences ?? []).some(
    (r) => r.controller === true && isSupportedKind(groupOfApiVersion(r.apiVersion) ?? '', r.kind),
  );
}

/**
 * `verifyBundle` must be the same verifier the webhook uses: without it, a model whose signature bundle is
 * inline or in a ConfigMap (admitted by the webhook) would be reported here as unverifiable.
 */
export function auditWorkload(
  o: KubeObject,
  snapshot: PolicySnapshot,
  exemptNamespaces: ReadonlySet<string>,
  verifyBundle?: BundleVerifier,
  /** The webhook's verifier options (verifierDecideOptions), so the audit and the webhook agree. */
  admission: Pick<DecideOptions, 'extraChecks' | 'expectedVerifier'> = {},
): WorkloadAudit | undefined {
  if (controlledBySupportedKind(o)) return undefined;
  const namespace = o.metadata.namespace ?? 'default';
  const d = decide({ operation: 'CREATE', object: o, namespace }, snapshot.policies, snapshot.cluster, {
    exemptNamespaces,
    ...admission,
    ...(verifyBundle ? { verifyBundle } : {}),
  });
  if (d.policies.length === 0) return undefined;
  return {
    ref: {
      apiVersion: o.apiVersion ?? '',
      kind: o.kind ?? '',
      name: o.metadata.name,
      namespace,
      ...(o.metadata.uid ? { uid: o.metadata.uid } : {}),
    },
    policies: d.policies,
    violations: d.violations,
    ...(d.evidence ? { evidence: d.evidence } : {}),
  };
}

/** One line per model: which evidence verified it for this policy (PolicyReport result properties). */
export function evidenceProperty(
  evidence: readonly ModelEvidence[] | undefined,
  policy: string,
): string | undefined {
  const mine = (evidence ?? []).filter((e) => e.policy === policy);
  if (mine.length === 0) return undefined;
  const text = mine.map((e) => `${e.model}: ${e.kind} (${e.detail})`).join('; ');
  return text.length > 1024 ? `${text.slice(0, 1023)}…` : text;
}

const SEVERITY = { Enforce: 'high', Warn: 'medium', Audit: 'low' } as const;

/** One `fail` (or `warn`, for Warn-mode policies) per violation, one `pass` per policy with none. */
export function reportResults(a: WorkloadAudit, at: number): ReportResult[] {
  const resources = [a.ref];
  const out: ReportResult[] = a.violations.map((v) => ({
    policy: v.policy,
    rule: v.check,
    result: v.enforcement === 'Warn' ? 'warn' : 'fail',
    message: formatViolation(v),
    severity: SEVERITY[v.enforcement],
    category: 'Model supply chain',
    resources,
    properties: {
      enforcement: v.enforcement,
      ...(v.model ? { model: v.model } : {}),
      remediation: v.remediation,
    },
    at,
  }));
  for (const p of a.policies) {
    if (a.violations.some((v) => v.policy === p)) continue;
    const evidence = evidenceProperty(a.evidence, p);
    out.push({
      policy: p,
      rule: 'all-checks',
      result: 'pass',
      message: 'the workload meets the policy',
      category: 'Model supply chain',
      resources,
      ...(evidence ? { properties: { evidence } } : {}),
      at,
    });
  }
  return out;
}

/** Identity of one violation on one workload, for Event de-duplication. */
export function violationKey(a: WorkloadAudit, v: Violation): string {
  return [
    a.ref.uid ?? `${a.ref.kind}/${a.ref.namespace}/${a.ref.name}`,
    v.policy,
    v.check,
    v.model ?? '',
    v.message,
  ].join('\u0000');
}

export interface PolicyCounts {
  matched: number;
  violating: number;
}

/** Adds a workload to per-policy counts (matched, and violating when it has a violation of that policy). */
export function countWorkload(counts: Map<string, PolicyCounts>, a: WorkloadAudit): void {
  for (const p of a.policies) {
    const c = counts.get(p) ?? { matched: 0, violating: 0 };
    c.matched++;
    if (a.violations.some((v) => v.policy === p)) c.violating++;
    counts.set(p, c);
  }
}
