// Platform-approved images, by manifest digest or by repository glob on the canonical repository:
// images that load no model (ClusterModelPolicy spec.nonModelImages) and images that ship a model server
// (spec.serverImages). Approvals are per policy: one policy's approval never satisfies another (each
// Enforce policy must be satisfied on its own).
import type { ServerId } from '../api/types.ts';
import type { WorkloadContainer } from '../workloads/extract.ts';
import type { CompiledApproval, CompiledPolicy } from './compile.ts';

type ImageOf = Pick<WorkloadContainer, 'repository' | 'imageDigest'>;

const approves = (a: CompiledApproval, ct: ImageOf): boolean =>
  (a.digest !== undefined && ct.imageDigest === a.digest) ||
  (a.repository !== undefined && ct.repository !== undefined && a.repository.test(ct.repository));

/** The policy's approval of the container's image as loading no model, if any. */
export function approvalFor(policy: CompiledPolicy, ct: ImageOf): CompiledApproval | undefined {
  return policy.nonModelImages.find((a) => approves(a, ct));
}

/** The policy's approval of the container's image as shipping this server, if any. */
export function serverApprovalFor(
  policy: CompiledPolicy,
  ct: ImageOf,
  server: ServerId,
): CompiledApproval | undefined {
  return policy.serverImages.find((a) => a.servers.has(server) && approves(a, ct));
}
