// Which verifier results count as evidence. Anyone who can create a pod can add an init container named
// "modelgate-verifier" that writes {"verdict":"valid"} to its termination message; such a result must
// never become a ModelVerified Event or a `pass` in a report. A result counts only when the container
// that wrote it is the verifier modelgate itself injects into that pod — the same image (and, when the
// installation pins it by digest, the image the kubelet actually ran), command, configuration, mounts,
// security context and position — as the mutating webhook computes it from the policies that match the
// pod and the installation's verifier settings. Pure.
import { verifierInjection, type VerifierDefaults } from '../mutation/index.ts';
import { VERIFIER_CONTAINER_NAME } from '../mutation/verifier-container.ts';
import {
  initContainersOf,
  verifierDifferences,
  verifierIndex,
  expectedVerifierIndex,
} from '../mutation/verifier-placement.ts';
import { planVerifier } from '../mutation/verifier-container.ts';
import { decide } from '../policy/decide.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import type { PolicySnapshot } from '../policy/store.ts';
import type { BundleVerifier } from '../policy/signature-seam.ts';
import { extractModelReferences } from '../workloads/extract.ts';
import { isObj } from '../json/shape.ts';
import type { KubeObject } from '../kube/types.ts';

/** What the installation injects, and where it does not (the webhook configuration's exemptions). */
export interface VerifierExpectation {
  defaults: VerifierDefaults;
  exemptNamespaces: ReadonlySet<string>;
  /** The webhook's bundle verifier: models proven at admission (OCI evidence) change the verifier a pod gets. */
  verifyBundle?: BundleVerifier;
}

const DIGEST = /@(sha256:[0-9a-f]{64})$/;

/** The status the kubelet reports for the pod's verifier init container. */
function verifierStatus(pod: KubeObject): Record<string, unknown> | undefined {
  const status = isObj(pod.status) ? pod.status : {};
  const list = Array.isArray(status.initContainerStatuses) ? status.initContainerStatuses : [];
  return list.filter(isObj).find((s) => s.name === VERIFIER_CONTAINER_NAME);
}

/**
 * Undefined when the pod's "modelgate-verifier" init container is the verifier modelgate injects into
 * this pod under the current policies; otherwise why its result is not evidence (one sentence).
 */
export function untrustedVerifier(
  pod: KubeObject,
  snapshot: PolicySnapshot,
  expect: VerifierExpectation,
): string | undefined {
  const namespace = pod.metadata.namespace ?? 'default';
  const spec = isObj(pod.spec) ? pod.spec : {};
  const list = initContainersOf(spec);
  const index = verifierIndex(list);
  const actual = list[index];
  if (!isObj(actual)) return `the pod has no init container named ${VERIFIER_CONTAINER_NAME} in its spec`;

  // The policies that apply to the pod, exactly as admission finds them.
  const decision = decide(
    { operation: 'CREATE', object: pod, namespace },
    snapshot.policies,
    snapshot.cluster,
    {
      exemptNamespaces: expect.exemptNamespaces,
      ...(expect.verifyBundle ? { verifyBundle: expect.verifyBundle } : {}),
    },
  );
  const byId = new Map(snapshot.policies.policies.map((p) => [p.id, p]));
  const matching = decision.policies
    .map((id) => byId.get(id))
    .filter((p): p is CompiledPolicy => p !== undefined);
  const injection = verifierInjection(pod, {
    namespace,
    policies: matching,
    cluster: snapshot.cluster,
    defaults: expect.defaults,
    ...(expect.verifyBundle ? { verifyBundle: expect.verifyBundle } : {}),
  });
  if (!injection.config)
    return matching.some((p) => p.verifier.inject)
      ? 'modelgate would not inject a verifier into this pod (no model it can verify, or the injection is refused)'
      : `no policy that applies to pod ${namespace}/${pod.metadata.name} has modelgate inject the verifier`;
  if (injection.patch.length > 0) {
    const workload = extractModelReferences(pod);
    const plan = workload
      ? planVerifier({
          workload,
          namespace,
          policies: matching,
          cluster: snapshot.cluster,
          defaults: expect.defaults,
          ...(expect.verifyBundle ? { verifyBundle: expect.verifyBundle } : {}),
        })
      : undefined;
    const diff = plan?.kind === 'inject' ? verifierDifferences(actual, plan.container) : [];
    return diff.length > 0
      ? `its ${diff.join(', ')} differ from the verifier modelgate injects for this pod`
      : `it runs at position ${index + 1} of initContainers, not where modelgate puts the verifier (${expectedVerifierIndex(list, new Set(injection.config.models.map((m) => m.volume))) + 1})`;
  }
  // Bind the result to bytes: with an image pinned by digest, the kubelet must have run that digest.
  const pinned = typeof actual.image === 'string' ? DIGEST.exec(actual.image)?.[1] : undefined;
  if (pinned) {
    const status = verifierStatus(pod);
    const imageID = status && typeof status.imageID === 'string' ? status.imageID : '';
    if (!imageID.endsWith(`@${pinned}`))
      return imageID
        ? `the kubelet ran image ${imageID}, not the pinned ${pinned}`
        : `the kubelet reported no image digest for it (the installation pins ${pinned})`;
  }
  return undefined;
}
