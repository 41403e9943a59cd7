// Confidential-computing placement for sensitive models (DESIGN §2): the pod must run under an allowed
// TEE RuntimeClass whose *handler* is a TEE handler (a class named like a TEE but using runc is refused),
// must require the TEE node labels in its nodeSelector or in EVERY required node-affinity term (one
// term without them lets the scheduler pick any node), and must not set nodeName (it skips the scheduler).
import { SENSITIVITY_LABEL } from '../../api/types.ts';
import type { CompiledConfidentialComputing } from '../compile.ts';
import type { Check, CheckContext, Finding } from '../types.ts';
import { arr, isObj } from '../../json/shape.ts';

type Obj = Record<string, unknown>;

export function appliesTo(
  cc: CompiledConfidentialComputing,
  ctx: Pick<CheckContext, 'sensitivity'>,
): boolean {
  return cc.always || cc.sensitivities.has(ctx.sensitivity);
}

/** Required node-affinity terms; undefined when the pod has none. */
function requiredTerms(spec: Obj): Obj[] | undefined {
  const na =
    isObj(spec.affinity) && isObj(spec.affinity.nodeAffinity) ? spec.affinity.nodeAffinity : undefined;
  const req =
    na && isObj(na.requiredDuringSchedulingIgnoredDuringExecution)
      ? na.requiredDuringSchedulingIgnoredDuringExecution
      : undefined;
  const terms = req ? arr(req.nodeSelectorTerms).filter(isObj) : [];
  return terms.length > 0 ? terms : undefined;
}

/** True when this term only admits nodes whose label `key` has one of `values`. */
function termRequires(term: Obj, key: string, values: Set<string>): boolean {
  return arr(term.matchExpressions).some((e) => {
    if (!isObj(e) || e.key !== key || e.operator !== 'In') return false;
    const vs = arr(e.values);
    return vs.length > 0 && vs.every((v) => typeof v === 'string' && values.has(v));
  });
}

export function requiredNodeLabelsMissing(
  spec: Obj,
  required: CompiledConfidentialComputing['requiredNodeLabels'],
  runtimeClassNodeSelector: Record<string, string>,
): string[] {
  const nodeSelector: Record<string, unknown> = {
    ...(isObj(spec.nodeSelector) ? spec.nodeSelector : {}),
    ...runtimeClassNodeSelector,
  };
  const terms = requiredTerms(spec);
  const missing: string[] = [];
  for (const r of required) {
    const sel = nodeSelector[r.key];
    if (typeof sel === 'string' && r.values.has(sel)) continue;
    if (terms && terms.every((t) => termRequires(t, r.key, r.values))) continue;
    missing.push(`${r.key} in (${[...r.values].join(', ')})`);
  }
  return missing;
}

export const confidentialPlacement: Check = (ctx) => {
  const cc = ctx.policy.confidentialComputing;
  if (!cc || !appliesTo(cc, ctx)) return [];
  const { workload, policy } = ctx;
  const why = cc.always
    ? `policy ${policy.name} requires confidential computing for every workload it matches`
    : `the workload is ${ctx.sensitivity}-sensitivity (label ${SENSITIVITY_LABEL})`;
  const allowed = [...cc.runtimeClassNames].join(', ');
  const findings: Finding[] = [];
  const add = (message: string, remediation: string) =>
    findings.push({ check: 'confidential-computing', message: `${message}; ${why}`, remediation });

  if (workload.podSpecs.length === 0) {
    add(
      `${workload.kind} ${workload.name} carries no pod spec, so modelgate cannot verify that its model runs on a confidential-computing node`,
      'serve sensitive models from a workload with its own pod spec (Deployment, InferenceService, ...) placed on a TEE runtime class',
    );
    return findings;
  }
  for (const { path, spec } of workload.podSpecs) {
    if (typeof spec.nodeName === 'string' && spec.nodeName !== '') {
      add(
        `${path}.nodeName is set to "${spec.nodeName}", which bypasses the scheduler and every placement rule`,
        'remove nodeName and let the scheduler place the pod on a confidential node',
      );
    }
    const rcName = typeof spec.runtimeClassName === 'string' ? spec.runtimeClassName : undefined;
    let rcNodeSelector: Record<string, string> = {};
    if (!rcName) {
      add(
        `${path}.runtimeClassName is not set, so the pod would run in an ordinary container`,
        `set runtimeClassName to one of: ${allowed}`,
      );
    } else if (!cc.runtimeClassNames.has(rcName)) {
      add(
        `${path}.runtimeClassName "${rcName}" is not a confidential-computing runtime allowed by policy ${policy.name}`,
        `use one of: ${allowed}`,
      );
    } else {
      const rc = ctx.cluster.runtimeClass(rcName);
      if (!rc) {
        add(
          `RuntimeClass "${rcName}" does not exist in the cluster, so its handler cannot be checked`,
          'install the confidential-computing runtime (e.g. Kata Containers with CoCo) or ask the cluster admin',
        );
      } else if (!cc.handlers.has(rc.handler)) {
        add(
          `RuntimeClass "${rcName}" uses handler "${rc.handler}", which is not a confidential-computing handler allowed by policy ${policy.name} (${[...cc.handlers].join(', ')})`,
          'ask the cluster admin to fix the RuntimeClass; a class named like a TEE must use the TEE handler',
        );
      } else rcNodeSelector = rc.nodeSelector;
    }
    const missing = requiredNodeLabelsMissing(spec, cc.requiredNodeLabels, rcNodeSelector);
    if (missing.length > 0) {
      add(
        `${path} does not require the confidential-computing node labels ${missing.join(', ')} (they must be in nodeSelector, or in every required node-affinity term)`,
        `add them to spec.nodeSelector, e.g. nodeSelector: {${missing.map((m) => `"${m.split(' in ')[0]}": "${m.split('(')[1]?.split(',')[0]?.replace(')', '')}"`).join(', ')}}`,
      );
    }
  }
  return findings;
};
