// Renders `modelgate check` results for people (text) and machines (JSON). The words of each violation
// are the decision core's, so a deployer reads the same reasons offline and from kubectl.
import type { Decision, Violation } from '../policy/types.ts';

export interface CheckedObject {
  kind: string;
  namespace: string;
  name: string;
  decision: Decision;
}

export interface CheckResultJson {
  kind: string;
  namespace: string;
  name: string;
  allowed: boolean;
  warnings: string[];
  violations: {
    policy: string;
    check: string;
    model?: string;
    message: string;
    remediation: string;
    enforcement: string;
  }[];
  /** Which evidence verified each model, per policy. */
  evidence?: { policy: string; model: string; kind: string; detail: string }[];
  /** OCI digests whose registry evidence this offline check could not consult. */
  registryEvidenceMissing?: { digest: string; uri: string; note: string }[];
}

/** What `check` says about OCI digests it has no record for: it never calls a registry. */
export const OFFLINE_NOTE =
  'modelgate check runs offline: signatures stored in the registry are out of its reach; give it the records the controller wrote (kubectl get configmaps -n <modelgate namespace> -l modelgate.io/oci-evidence -o yaml) in --cluster, or decide in the cluster (kubectl apply --dry-run=server)';

export function toJsonResult(o: CheckedObject): CheckResultJson {
  return {
    kind: o.kind,
    namespace: o.namespace,
    name: o.name,
    allowed: o.decision.allowed,
    warnings: o.decision.warnings,
    violations: o.decision.violations.map((v) => ({
      policy: v.policy,
      check: v.check,
      ...(v.model !== undefined ? { model: v.model } : {}),
      message: v.message,
      remediation: v.remediation,
      enforcement: v.enforcement,
    })),
    ...(o.decision.evidence ? { evidence: o.decision.evidence } : {}),
    ...(o.decision.ociMisses
      ? { registryEvidenceMissing: o.decision.ociMisses.map((m) => ({ ...m, note: OFFLINE_NOTE })) }
      : {}),
  };
}

const VERB: Record<Violation['enforcement'], string> = { Enforce: 'DENY', Warn: 'WARN', Audit: 'AUDIT' };

/** One block per object: the verdict line, then each violation with what failed, why and the fix. */
export function renderText(o: CheckedObject): string {
  const d = o.decision;
  const head = `${o.kind} ${o.namespace}/${o.name}: ${d.allowed ? 'admitted' : 'DENIED'}`;
  const lines = [head];
  if (d.policies.length === 0) lines.push(`  no policy applies (${d.skipped ?? 'no match'})`);
  else if (d.violations.length === 0) lines.push(`  passes ${d.policies.join(', ')}`);
  for (const v of d.violations) {
    lines.push(`  ${VERB[v.enforcement]} ${v.policy} · ${v.check}${v.model ? ` · ${v.model}` : ''}`);
    lines.push(`    why: ${v.message}`);
    lines.push(`    fix: ${v.remediation}`);
  }
  for (const w of d.warnings.filter((w) => !d.violations.some((v) => w.includes(v.message))))
    lines.push(`  warning: ${w}`);
  for (const e of d.evidence ?? [])
    lines.push(`  evidence ${e.policy} · ${e.model}: ${e.kind} (${e.detail})`);
  if (d.ociMisses?.length)
    lines.push(
      `  registry evidence: none at hand for ${d.ociMisses.map((m) => m.uri || m.digest).join(', ')}. ${OFFLINE_NOTE}`,
    );
  return lines.join('\n');
}
