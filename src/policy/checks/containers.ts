// Every container of a selected workload must be accounted for (DESIGN §6b, fail closed by scope): it
// runs a model server or downloader modelgate reads — so its models were found and are checked by the
// other checks — in an image known to ship it (its publisher's, or one the policy approves for that
// server), or it runs an image the policy approves as loading no model, or it is the verifier modelgate
// injects. A container name exempts nothing. Inputs modelgate cannot read that may change what is loaded
// are violations: always for what selects models or loads at run time, and for inputs that can
// only redirect a download (an endpoint, a cache) when the container's models are not bound by evidence.
import { MODELS_ANNOTATION, VERIFIER_CONTAINER_NAME } from '../../api/types.ts';
import type { WorkloadContainer } from '../../workloads/extract.ts';
import { containerStronglyBound, verifiedVolumes } from '../binding.ts';
import { officialServerImages } from '../../workloads/servers.ts';
import { approvalFor, serverApprovalFor } from '../image-approval.ts';
import type { Check, CheckContext, Finding } from '../types.ts';

const describe = (ct: WorkloadContainer) =>
  `${ct.field === 'initContainers' ? (ct.sidecar ? 'sidecar' : 'init container') : ct.field === 'ephemeralContainers' ? 'ephemeral container' : 'container'} "${ct.name}" (${ct.location}, image ${ct.image ?? 'none'})`;

const imageKey = (ct: WorkloadContainer): string =>
  ct.imageDigest ? `digest: ${ct.imageDigest}` : `repository: ${ct.repository ?? ct.image ?? '?'}`;

/** Volumes the container mounts writable that another container of its pod mounts too. */
function sharedWritable(workload: CheckContext['workload'], ct: WorkloadContainer): string[] {
  const others = new Set<string>();
  for (const o of workload.containers)
    if (o !== ct && o.pod === ct.pod) for (const m of o.mounts) others.add(m.volume);
  return ct.mounts.filter((m) => !m.readOnly && others.has(m.volume)).map((m) => m.volume);
}

function approveRemediation(ctx: CheckContext, ct: WorkloadContainer): string {
  const image = ct.imageDigest
    ? `digest ${ct.imageDigest}`
    : `repository ${ct.repository ?? ct.image ?? '?'}`;
  return ctx.policy.kind === 'ClusterModelPolicy'
    ? `if this image loads no model, ask the platform team to approve it in spec.nonModelImages of ClusterModelPolicy ${ctx.policy.name} (${image}); if it serves a model, run a server modelgate reads (docs/policy.md#model-servers) and name the model in its args`
    : `a ModelPolicy cannot approve images: narrow ModelPolicy ${ctx.policy.name}'s match (objectSelector or kinds) to the workloads that serve models, or run a server modelgate reads (docs/policy.md#model-servers)`;
}

export const containersAccounted: Check = (ctx) => {
  const { workload, policy } = ctx;
  const findings: Finding[] = [];
  for (const ct of workload.containers) {
    // The name proves nothing: only a container equal to the verifier the policies require counts as it.
    if (ct.name === VERIFIER_CONTAINER_NAME) {
      if (ctx.expectedVerifier?.(ct, ctx)) continue;
      findings.push({
        check: 'container',
        message: `${describe(ct)} is named like modelgate's verifier but is not the verifier the policies matching this ${workload.kind} require (${workload.kind === 'Pod' ? 'its image, command, environment or mounts differ' : 'the verifier is added to pods, never to templates'})`,
        remediation: `remove the container: modelgate's mutating webhook adds the verifier to pods that need it`,
      });
      continue;
    }
    if (approvalFor(policy, ct)) continue;
    if (!ct.recognition) {
      const script = ct.unreadable.some((u) => u.where === 'command');
      findings.push({
        check: 'container',
        message: `${describe(ct)} runs ${ct.runs}, ${script ? 'which modelgate cannot read' : 'a program modelgate has no grammar for'}, so what it loads is unknown, and policy ${policy.name} does not approve its image as loading no model`,
        remediation: approveRemediation(ctx, ct),
      });
      continue;
    }
    const { grammar, officialImage } = ct.recognition;
    // A server's code decides what it loads: its arguments say what it loads only in an image known to ship
    // it (its publisher's official image, or one the platform approves for it in spec.serverImages).
    if (grammar.id !== undefined && !officialImage && !serverApprovalFor(policy, ct, grammar.id)) {
      findings.push({
        check: 'container',
        message: `${describe(ct)} runs ${ct.recognition.by}, which modelgate reads as ${grammar.name}, but its image is not one ${grammar.name} is published in (${officialServerImages(grammar).join(', ')}) and policy ${policy.name} does not approve it as an image of ${grammar.name}: a program's name says nothing about the code behind it, and that code decides what is loaded`,
        remediation:
          policy.kind === 'ClusterModelPolicy'
            ? `run ${grammar.name}'s official image, or, if this image is a mirror or an internal build of ${grammar.name}, ask the platform team to approve it in spec.serverImages of ClusterModelPolicy ${policy.name}: {${imageKey(ct)}, servers: [${grammar.id}], reason: ...}`
            : `run ${grammar.name}'s official image (a ModelPolicy cannot approve server images), or narrow ModelPolicy ${policy.name}'s match to other workloads`,
      });
    }
    // A downloader writes what a server then loads: its image must be approved, or what it wrote must be
    // checked by the runtime verifier after it (recognising its program proves nothing about what it writes).
    // In an image its publisher does not ship, it may write any volume it mounts writable, not only where its
    // arguments say.
    if (grammar.role === 'downloader') {
      const verified = verifiedVolumes(workload, policy, ct.pod);
      const written = officialImage
        ? ct.destinations
        : [...new Set([...ct.destinations, ...sharedWritable(workload, ct)])];
      const unverified = written.filter((v) => !verified.has(v));
      if (ct.destinations.length === 0 || unverified.length > 0)
        findings.push({
          check: 'container',
          message: `${describe(ct)} downloads a model (${grammar.name}${officialImage ? '' : ', in an image its publisher does not ship, so it may write every volume it mounts writable'}) into ${
            unverified.length > 0
              ? unverified.map((v) => `volume "${v}"`).join(', ')
              : 'no volume the verifier could check'
          }, and neither does policy ${policy.name} approve its image nor does the runtime verifier check what it wrote`,
          remediation:
            policy.kind === 'ClusterModelPolicy'
              ? `set spec.verifier.inject: true in policy ${policy.name} and declare the downloaded model in ${MODELS_ANNOTATION} so the verifier checks it after the download, or approve the downloader's image in spec.nonModelImages`
              : `set spec.verifier.inject: true in ModelPolicy ${policy.name} and declare the downloaded model in ${MODELS_ANNOTATION}`,
        });
    }
    // Redirected downloads and caches are harmless only for bytes bound by evidence that also says whose
    // they are (a signature, an allowed digest): a digest the deployer declares binds them to nothing.
    const isBound = ct.unreadable.some((u) => u.relevance === 'unbound')
      ? containerStronglyBound(workload, ct, policy)
      : true;
    for (const u of ct.unreadable) {
      if (u.relevance === 'unbound' && isBound) continue;
      findings.push({
        check: 'model-reference',
        model: u.value,
        message: `${describe(ct)}, read as ${grammar.name} (${ct.recognition.by}): ${u.where}: ${u.reason}`,
        remediation:
          u.relevance === 'unbound'
            ? `${u.remediation}; or deliver the model in a volume the runtime verifier checks (spec.verifier.inject) or in a digest-pinned image`
            : u.remediation,
      });
    }
  }
  if (workload.truncated)
    findings.push({
      check: 'container',
      message: `${workload.kind} ${workload.name} has ${workload.truncated}; modelgate reads a bounded amount of every object and refuses what it did not read`,
      remediation: `split the workload, or declare its models in the ${MODELS_ANNOTATION} annotation`,
    });
  return findings;
};
