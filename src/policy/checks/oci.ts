// What the controller's record of an OCI model says a policy must refuse whatever its signatures: an
// artifact that a container runtime mounts as an empty directory, a declared or scanned format the
// policy's `formats.deny` names, code found by the controller's scan of the layers (issue 17).
import { ociEvidenceOf, ociFormatProblems } from '../oci-evidence.ts';
import type { Check, Finding } from '../types.ts';
import { modelLabel } from '../types.ts';

export const ociFormats: Check = (ctx) => {
  const findings: Finding[] = [];
  for (const m of ctx.workload.models) {
    const evidence = ociEvidenceOf(m, ctx.workload, ctx.cluster);
    if (evidence.state !== 'resolved') continue;
    const label = modelLabel(m);
    for (const p of ociFormatProblems(label, evidence, ctx.policy)) findings.push({ ...p, model: label });
  }
  return findings;
};
