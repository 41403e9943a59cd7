// Platform-approved images that load no model (ClusterModelPolicy spec.nonModelImages): by manifest
// digest, or by repository glob on the canonical repository. Approvals are per policy: one policy's
// approval never satisfies another (each Enforce policy must be satisfied on its own).
import type { WorkloadContainer } from '../workloads/extract.ts';
import type { CompiledApproval, CompiledPolicy } from './compile.ts';

export function approvalFor(
  policy: CompiledPolicy,
  ct: Pick<WorkloadContainer, 'repository' | 'imageDigest'>,
): CompiledApproval | undefined {
  for (const a of policy.nonModelImages) {
    if (a.digest !== undefined && ct.imageDigest === a.digest) return a;
    if (a.repository !== undefined && ct.repository !== undefined && a.repository.test(ct.repository))
      return a;
  }
  return undefined;
}
