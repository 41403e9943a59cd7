// Allowed sources: each model must come from a location the policy lists (untrusted origin, DESIGN §2).
import type { Check } from '../types.ts';
import { modelLabel } from '../types.ts';

export const sourceAllowed: Check = ({ policy, workload }) => {
  if (policy.sources.length === 0) return [];
  // Only a violation's message needs the list: not built for the (common) request that passes.
  const allowedList = () => policy.sources.map((s) => s.source).join(', ');
  return workload.models.flatMap((m) => {
    if (m.uri === undefined) {
      return [
        {
          check: 'source' as const,
          model: modelLabel(m),
          message: `model "${modelLabel(m)}" is on volume "${m.volume ?? '?'}", whose files have no source modelgate can see (a uri in the annotation is the deployer's claim, not evidence), so it cannot be checked against the allowed sources (${allowedList()})`,
          remediation: `deliver the model from an allowed source: an image volume, KServe storageUri, or a listed PVC with a signature the policy trusts`,
        },
      ];
    }
    // A claim is the unit a platform team approves: a pattern for the claim (pvc://models-*) covers every
    // sub-path of it (pvc://models-llama/llama); a pattern with a sub-path still narrows to it.
    const claimUri = m.scheme === 'pvc' ? /^pvc:\/\/[^/]+/.exec(m.uri)?.[0] : undefined;
    if (policy.sources.some((s) => s.test(m.uri!) || (claimUri !== undefined && s.test(claimUri)))) {
      // A PVC's name is chosen by whoever creates the claim: it says nothing about where the files on it
      // came from. Only a signature (or an allowed digest) says whose they are.
      const vouched =
        policy.authorities.length > 0 ||
        [m.digest, m.modelDigest].some((d) => d !== undefined && policy.allowedDigests.has(d));
      if (m.scheme === 'pvc' && !vouched)
        return [
          {
            check: 'source' as const,
            model: m.uri,
            message: `model ${m.uri} matches an allowed source, but a PVC's name is chosen by whoever creates the claim and says nothing about where its files came from, and policy ${policy.name} trusts no signer that would`,
            remediation: `add authorities to policy ${policy.name} and sign the model (or list its digest in allowedDigests), or deliver it in an image volume from an allowed registry`,
          },
        ];
      return [];
    }
    return [
      {
        check: 'source' as const,
        model: m.uri,
        message: `model ${m.uri} (${m.location}) is not from an allowed source; allowed: ${allowedList()}`,
        remediation: `use a model from an allowed location, or ask the platform team to add its source to policy ${policy.name}`,
      },
    ];
  });
};
