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
          message: `model "${modelLabel(m)}" declares no uri, so its source cannot be checked against the allowed sources (${allowedList()})`,
          remediation: `add "uri" to its entry in the modelgate.io/models annotation`,
        },
      ];
    }
    if (policy.sources.some((s) => s.test(m.uri!))) return [];
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
