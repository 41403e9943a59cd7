// Builds the runtime verifier init container a pod must carry under policies with verifier.inject: one
// container for all such policies, mounting every model volume read-only, hardened, reporting its result
// through the termination message. Pure: everything comes from the arguments.
import { VERIFIER_CONTAINER_NAME, type ResourceRequirements } from '../api/types.ts';
import type { ClusterView } from '../policy/cluster-view.ts';
import type { CompiledPolicy } from '../policy/compile.ts';
import { ociEvidenceOf, ociSignatures } from '../policy/oci-evidence.ts';
import type { BundleVerifier } from '../policy/signature-seam.ts';
import { runtimeVerifiable, type ModelReference, type WorkloadModels } from '../workloads/extract.ts';
import { VERIFIER_CONFIG_ENV, type VerifierConfig, type VerifierModelConfig } from './verifier-config.ts';

export { VERIFIER_CONTAINER_NAME };
/** The installation's verifier image when neither the chart nor a flag names one (webhook and controller). */
export const DEFAULT_VERIFIER_IMAGE = 'ghcr.io/modelgate/modelgate:0.1.0';
export const MODEL_MOUNT_ROOT = '/models';
export const DEFAULT_VERIFIER_RESOURCES: ResourceRequirements = {
  requests: { cpu: '100m', memory: '128Mi' },
  limits: { memory: '512Mi' },
};
/** The distroless "nonroot" user: a numeric id, so runAsNonRoot holds whatever the image declares. */
const NONROOT_UID = 65532;

export interface VerifierDefaults {
  /** Image used when no ClusterModelPolicy names one (the chart's value, `--verifier-image`). */
  image: string;
  resources?: ResourceRequirements;
}

export interface VerifierContainer {
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: { name: string; value: string }[];
  resources: ResourceRequirements;
  volumeMounts: { name: string; mountPath: string; readOnly: true; subPath?: string }[];
  terminationMessagePath: string;
  terminationMessagePolicy: 'FallbackToLogsOnError';
  securityContext: Record<string, unknown>;
}

/** Why a policy's verifier cannot be injected: reported as a violation of that policy. */
export interface InjectionRefusal {
  policy: CompiledPolicy;
  message: string;
  remediation: string;
}

export type VerifierPlan =
  | { kind: 'none' }
  | { kind: 'refused'; refusals: InjectionRefusal[] }
  | { kind: 'inject'; container: VerifierContainer; config: VerifierConfig };

export interface PlanInput {
  workload: WorkloadModels;
  namespace: string;
  /** The policies matching the pod (only those with verifier.inject count). */
  policies: readonly CompiledPolicy[];
  cluster: ClusterView;
  defaults: VerifierDefaults;
  /** Verifies OCI evidence bundles (the webhook's cached verifier): models proven at admission are not re-hashed. */
  verifyBundle?: BundleVerifier;
}

/** Models the verifier can check before the server starts: delivered in a pod volume. */
export function verifiableModels(workload: WorkloadModels): ModelReference[] {
  return workload.models.filter(runtimeVerifiable);
}

const sameTrust = (a: CompiledPolicy, b: CompiledPolicy) =>
  a.threshold === b.threshold &&
  JSON.stringify(a.authorities.map((x) => x.fingerprint).sort()) ===
    JSON.stringify(b.authorities.map((x) => x.fingerprint).sort());

function modelConfig(
  m: ModelReference & { volume: string },
  namespace: string,
  cluster: ClusterView,
): VerifierModelConfig | string {
  const path = `${MODEL_MOUNT_ROOT}/${m.volume}`;
  const out: VerifierModelConfig = { name: m.declared?.name ?? m.volume, volume: m.volume, path };
  const sig = m.declared?.signature;
  if (sig && 'inline' in sig) out.inlineBundle = sig.inline.replace(/\s+/g, '');
  else if (sig && 'configMapRef' in sig) {
    // The ConfigMap is in the pod's own namespace: copying it into the pod crosses no boundary.
    const text = cluster.configMapData(namespace, sig.configMapRef.name)?.[sig.configMapRef.key];
    if (text === undefined)
      return `ConfigMap ${namespace}/${sig.configMapRef.name} (key "${sig.configMapRef.key}", labelled modelgate.io/bundle: "true") holding the signature of model ${out.name} was not found`;
    out.inlineBundle = Buffer.from(text, 'utf8').toString('base64');
  } else out.signature = sig && 'path' in sig ? sig.path : 'model.sig';
  if (m.declared?.digest) out.digest = m.declared.digest;
  // The model's root is covered by any signature of it: only paths inside it need the verifier's check.
  const inside = (m.readPaths ?? []).filter((p) => p !== '');
  if (inside.length > 0) out.readPaths = inside;
  return out;
}

/**
 * What the verifier still has to do for a model whose manifest signature was verified at admission
 * (src/policy/oci-evidence.ts): nothing when the controller scanned its layers, only the scan otherwise;
 * undefined when there is no such evidence (hash and scan, as for any volume).
 */
function admissionVerified(
  m: ModelReference,
  input: PlanInput,
  signing: CompiledPolicy | undefined,
): 'skip' | 'scan-only' | undefined {
  if (!signing) return undefined;
  const ev = ociEvidenceOf(m, input.workload, input.cluster);
  if (ev.state !== 'resolved' || ev.delivery !== 'image volume') return undefined;
  // Policies that inject and sign share their trust (else the plan is refused): the first one decides.
  if (ociSignatures(ev.record, signing, input.verifyBundle).passed < signing.threshold) return undefined;
  return ev.record.scan?.status === 'complete' ? 'skip' : 'scan-only';
}

export function planVerifier(input: PlanInput): VerifierPlan {
  const { workload, namespace } = input;
  const injecting = input.policies.filter((p) => p.verifier.inject).sort((a, b) => a.id.localeCompare(b.id));
  const signingPolicy = injecting.find((p) => p.authorities.length > 0);
  const ociPlan = new Map<ModelReference, 'skip' | 'scan-only'>();
  const verifiable = verifiableModels(workload);
  for (const m of verifiable) {
    const plan = admissionVerified(m, input, signingPolicy);
    if (plan) ociPlan.set(m, plan);
  }
  const models = verifiable.filter((m) => ociPlan.get(m) !== 'skip');
  if (injecting.length === 0 || models.length === 0 || workload.kind !== 'Pod') return { kind: 'none' };

  const refusals: InjectionRefusal[] = [];
  for (const p of injecting) {
    for (const a of p.authorities) {
      // A ClusterModelPolicy may read a key Secret in modelgate's namespace; its content must not land in
      // a pod of another namespace, where anyone who can read pods there would see it.
      if (a.secret && a.secret.namespace !== namespace)
        refusals.push({
          policy: p,
          message: `the runtime verifier cannot be given authority "${a.name}": its key comes from Secret ${a.secret.namespace}/${a.secret.name}, and a Secret's content is never copied into a pod of another namespace (${namespace})`,
          remediation: `put the public key inline in policy ${p.name} (spec.authorities[].key.pem), or use a ModelPolicy in namespace ${namespace} that references a Secret there`,
        });
    }
  }
  // What runs in the pod on modelgate's behalf comes from the installation or from ClusterModelPolicies,
  // never from a namespace (a ModelPolicy's verifier.image/resources are refused and ignored at compile).
  const clusterPolicies = injecting.filter((p) => p.kind === 'ClusterModelPolicy');
  const images = [...new Set(clusterPolicies.map((p) => p.verifier.image).filter((i): i is string => !!i))];
  const resources = clusterPolicies.filter((p) => p.verifier.resources);
  if (images.length > 1)
    for (const p of clusterPolicies.filter((x) => x.verifier.image))
      refusals.push({
        policy: p,
        message: `ClusterModelPolicies matching this pod name different verifier images (${images.join(', ')}), and a pod runs one verifier`,
        remediation:
          "give the ClusterModelPolicies the same spec.verifier.image, or leave it unset to use the installation's",
      });
  const signing = injecting.filter((p) => p.authorities.length > 0);
  const first = signing[0];
  for (const p of signing.slice(1)) {
    if (first && !sameTrust(first, p))
      refusals.push({
        policy: p,
        message: `policies ${first.id} and ${p.id} both require the runtime verifier on this pod but trust different authorities or thresholds, and one verifier checks one set`,
        remediation: `give both policies the same authorities and threshold, or narrow their match so that one of them applies to this workload`,
      });
  }

  const byVolume = new Map<string, VerifierModelConfig>();
  for (const m of models) {
    if (!m.volume) {
      for (const p of injecting)
        refusals.push({
          policy: p,
          message: `model ${m.uri ?? m.name} (${m.location}) is not in a pod volume the verifier could mount`,
          remediation:
            'mount the model through a volume (image volume, PVC, or the storage initializer) and declare it in the modelgate.io/models annotation',
        });
      continue;
    }
    if (byVolume.has(m.volume)) continue;
    if (ociPlan.get(m) === 'scan-only') {
      byVolume.set(m.volume, {
        name: m.declared?.name ?? m.volume,
        volume: m.volume,
        path: `${MODEL_MOUNT_ROOT}/${m.volume}`,
        scanOnly: true,
      });
      continue;
    }
    const cfg = modelConfig({ ...m, volume: m.volume }, namespace, input.cluster);
    if (typeof cfg === 'string') {
      for (const p of injecting)
        refusals.push({
          policy: p,
          message: cfg,
          remediation:
            'create the ConfigMap with the bundle, labelled modelgate.io/bundle: "true", or declare the bundle inline',
        });
      continue;
    }
    byVolume.set(m.volume, cfg);
  }
  if (refusals.length > 0) return { kind: 'refused', refusals };

  const config: VerifierConfig = {
    version: 1,
    policies: injecting.map((p) => p.id),
    threshold: first?.threshold ?? 0,
    denyFormats: [...new Set(injecting.flatMap((p) => p.formatsDeny))].sort(),
    allowGlobals:
      injecting
        .reduce<string[] | undefined>(
          (acc, p) =>
            acc === undefined
              ? [...p.allowPickleGlobals]
              : acc.filter((g) => p.allowPickleGlobals.includes(g)),
          undefined,
        )
        ?.sort() ?? [],
    authorities: (first?.authorities ?? []).map((a) => ({ name: a.name, trust: a.trust })),
    models: [...byVolume.values()].sort((a, b) => a.volume.localeCompare(b.volume)),
  };
  const subPaths = new Map(
    models.filter((m) => m.declared?.subPath && m.volume).map((m) => [m.volume!, m.declared!.subPath!]),
  );
  const container: VerifierContainer = {
    name: VERIFIER_CONTAINER_NAME,
    image: images[0] ?? input.defaults.image,
    command: ['modelgate'],
    args: ['verify', `--pod-config-env=${VERIFIER_CONFIG_ENV}`],
    env: [{ name: VERIFIER_CONFIG_ENV, value: JSON.stringify(config) }],
    resources: resources[0]?.verifier.resources ?? input.defaults.resources ?? DEFAULT_VERIFIER_RESOURCES,
    volumeMounts: config.models.map((m) => {
      const sub = subPaths.get(m.volume);
      return { name: m.volume, mountPath: m.path, readOnly: true as const, ...(sub ? { subPath: sub } : {}) };
    }),
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: {
      runAsNonRoot: true,
      runAsUser: NONROOT_UID,
      runAsGroup: NONROOT_UID,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  return { kind: 'inject', container, config };
}
