// What the controller's record of an OCI model says a policy must refuse whatever its signatures: an
// artifact that a container runtime mounts as an empty directory, a declared or scanned format the
// policy's `formats.deny` names, code found by the controller's scan of the layers (issue 17). And for a
// KServe modelcar proven at admission: the runtime enforces the image's digest, but the model reaches the
// server through a link in a shared volume and a shared process namespace, so nothing else in the pod may
// be able to rewrite either.
import { ociEvidenceOf, ociFormatProblems, ociSignatures } from '../oci-evidence.ts';
import type { Check, CheckContext, Finding } from '../types.ts';
import { modelLabel } from '../types.ts';
import type { ModelReference } from '../../workloads/extract.ts';

export const ociFormats: Check = (ctx) => {
  const findings: Finding[] = [];
  for (const m of ctx.workload.models) {
    const evidence = ociEvidenceOf(m, ctx.workload, ctx.cluster);
    if (evidence.state !== 'resolved') continue;
    const label = modelLabel(m);
    for (const p of ociFormatProblems(label, evidence, ctx.policy)) findings.push({ ...p, model: label });
    if (
      evidence.delivery === 'modelcar' &&
      ctx.policy.authorities.length > 0 &&
      ociSignatures(evidence.record, ctx.policy, ctx.verifyBundle).passed >= ctx.policy.threshold
    )
      findings.push(...modelcarWriters(m, label, ctx));
  }
  return findings;
};

function modelcarWriters(m: ModelReference, label: string, ctx: CheckContext): Finding[] {
  // (m.containers lists the modelcar and the servers that read the link; only the modelcar may write.)
  const out: Finding[] = [];
  const volume = m.volume!;
  for (const c of ctx.workload.containers) {
    // The modelcar itself: the container whose image is this model, linked into the volume.
    if (c.models.some((x) => x.kind === 'image' && x.destinationVolume === volume && x.value === c.image))
      continue;
    const pod = ctx.workload.podSpecs[c.pod];
    const vol = pod?.volumes.get(volume);
    if (!vol) continue;
    if (!vol.readOnlySource && c.mounts.some((x) => x.volume === volume && !x.readOnly))
      out.push({
        check: 'integrity',
        model: label,
        message: `container "${c.name}" (${c.location}) mounts volume "${volume}" writable, where the modelcar links model ${label} for the server; it could replace the link with files no signature covers`,
        remediation: `mount volume "${volume}" with readOnly: true in every container except the modelcar`,
      });
    if (c.privileged)
      out.push({
        check: 'integrity',
        model: label,
        message: `container "${c.name}" (${c.location}) is privileged or adds capabilities that reach other containers' files, and a modelcar pod shares its process namespace: it could change model ${label} in the modelcar's file system`,
        remediation: 'drop privileged and the added capabilities from containers of modelcar pods',
      });
    if (c.field === 'ephemeralContainers')
      out.push({
        check: 'integrity',
        model: label,
        message: `ephemeral container "${c.name}" joins a modelcar pod, whose containers share one process namespace: through /proc it can reach and change model ${label}`,
        remediation: 'debug a copy of the pod (kubectl debug --copy-to), not the pod serving the model',
      });
  }
  return out;
}
