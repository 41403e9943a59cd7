// Pinning: a reference that can move (tag, branch, bucket path) can be swapped for other weights after
// review. A digest declared in the annotation pins content only if the runtime verifier enforces it.
import { runtimeVerifiable } from '../../workloads/extract.ts';
import type { Check } from '../types.ts';
import { modelLabel } from '../types.ts';

export const referencesPinned: Check = ({ policy, workload }) => {
  if (!policy.requirePinned) return [];
  return workload.models.flatMap((m) => {
    if (!m.pinned) {
      return [
        {
          check: 'pinned' as const,
          model: modelLabel(m),
          message: `model ${modelLabel(m)} (${m.location}) is not pinned: ${m.unpinnedReason ?? 'it has no immutable digest'}`,
          remediation:
            m.scheme === 'oci' || m.scheme === 'hf'
              ? 'pin the reference to its digest or commit'
              : 'declare the signed digest in the modelgate.io/models annotation (and enable the runtime verifier)',
        },
      ];
    }
    const pinnedOnlyByDeclaration =
      m.declared !== undefined && !(m.scheme === 'oci' && m.uri?.includes('@sha256:'));
    if (pinnedOnlyByDeclaration && !(policy.verifier.inject && runtimeVerifiable(m))) {
      return [
        {
          check: 'pinned' as const,
          model: modelLabel(m),
          message: `model ${modelLabel(m)} is pinned only by the digest declared in the modelgate.io/models annotation, and nothing checks the files against it because policy ${policy.name} does not inject the runtime verifier`,
          remediation:
            'set spec.verifier.inject: true in the policy, or pin the reference itself (OCI @sha256 digest)',
        },
      ];
    }
    return [];
  });
};
