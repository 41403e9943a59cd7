// Fixtures for runs on the real node: a signing key made for the run, model directories signed with
// modelgate's own signer, model images (tar layers, pushed by digest to the run's registry, the shape
// containerd mounts as an image volume), the policy that trusts the key, and pods that mount a model.
// Policies and pods are plain builders so a change in the policy API is one edit here.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushDirectoryImage } from '../../scripts/image/oci.ts';
import { freePort } from '../../scripts/cluster/ports.ts';
import {
  startExtraRegistry,
  type ReferrersMode,
  type Registry,
} from '../../scripts/cluster/node/registry.ts';
import { repoRoot } from '../../scripts/cluster/control-plane.ts';
import { loadSigner, signModel } from '../../src/signing/sign.ts';
import { REAL_NODE_LABEL, REAL_NODE_TAINT, type Cluster } from './cluster.ts';

export interface SigningKey {
  privateKeyPem: string;
  publicKeyPem: string;
}

export function makeSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/**
 * Another registry of the run, next to the cluster's (which answers the referrers API per the spec):
 * `none` behaves like distribution/distribution (404: clients use the sha256-<hex> referrers tag),
 * `config-media-type` like go-containerregistry (artifactType = the config's media type, no filter). The
 * node can pull from it; `cluster:down` stops it if the test does not.
 */
export async function startRegistry(cluster: Cluster, referrers: ReferrersMode): Promise<Registry> {
  return startExtraRegistry(cluster.dir, cluster.node.parts.containerd, await freePort(), referrers);
}

export interface ModelImage {
  /** `<registry>/models/<name>@sha256:...`: what a pod's image volume references. */
  reference: string;
  /** The signed statement's subject digest (`sha256:...`): what the workload declares. */
  modelDigest: string;
  /** The model_signing bundle (JSON text). */
  bundle: string;
}

export interface ModelImageOptions {
  /** Applied to the model directory after it was signed: what a swapped or tampered image holds. */
  afterSigning?: (dir: string) => void;
}

/**
 * Writes `files` into a model directory, signs it with `key`, lets `afterSigning` change it, and pushes
 * the directory as a one-layer image (files at the image root, so they appear at the volume's mount path).
 */
export async function pushModelImage(
  cluster: Cluster,
  name: string,
  files: Record<string, Buffer | string>,
  key: SigningKey,
  options: ModelImageOptions & { registry?: string } = {},
): Promise<ModelImage> {
  const work = mkdtempSync(join(repoRoot, '.cache', `model-${name}-`));
  try {
    const dir = join(work, 'model');
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content, { mode: 0o644 });
    }
    const signed = await signModel(dir, loadSigner(key.privateKeyPem));
    options.afterSigning?.(dir);
    return {
      reference: await pushDirectoryImage(
        dir,
        options.registry ?? cluster.node.registry,
        `models/${name}`,
        'v1',
        {
          'org.opencontainers.image.title': name,
        },
      ),
      modelDigest: signed.digest,
      bundle: Buffer.from(signed.bundle).toString('utf8'),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A pickle whose load runs os.system: protocol 0, GLOBAL os.system, REDUCE. */
export const PICKLE_PAYLOAD = Buffer.from("cos\nsystem\n(S'echo pwned'\ntR.", 'latin1');

/**
 * The policy the runtime tests run under: models from the run's registry, pinned, signed by `key`, the
 * verifier injected (its image: the installation's). Every container must be accounted for (fail closed by
 * scope): the tests' containers run busybox scripts, which modelgate cannot read, so its repository is
 * approved here as loading no model; the verifier still checks every declared model volume. Explicit, so a
 * change in the policy API is one edit here.
 */
export function runtimePolicy(
  name: string,
  options: {
    key: SigningKey;
    registry: string;
    namespaceLabel: string;
    /** The image a test's containers run (busybox from the run's registry), approved as loading no model. */
    toolImage: string;
    denyFormats?: string[];
    /** Leave `sources` out: for models written into an emptyDir, whose origin no annotation can prove. */
    anySource?: boolean;
  },
): Record<string, unknown> {
  return {
    apiVersion: 'modelgate.io/v1alpha1',
    kind: 'ClusterModelPolicy',
    metadata: { name },
    spec: {
      enforcement: 'Enforce',
      match: { namespaceSelector: { matchLabels: { [options.namespaceLabel]: 'true' } } },
      ...(options.anySource ? {} : { sources: [`oci://${options.registry}/models/**`] }),
      requirePinned: true,
      authorities: [{ name: 'e2e-release', key: { pem: options.key.publicKeyPem } }],
      verifier: { inject: true },
      nonModelImages: [
        {
          repository: options.toolImage.split('@')[0]!,
          reason: 'busybox, the stand-in server and helper of the runtime tests: it lists and copies files',
        },
      ],
      ...(options.denyFormats ? { formats: { deny: options.denyFormats } } : {}),
    },
  };
}

/** The bundle where admission and the verifier read it: a ConfigMap in the workload's namespace. */
export function bundleConfigMap(namespace: string, name: string, bundle: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { 'modelgate.io/bundle': 'true' } },
    data: { 'model.sig': bundle },
  };
}

export interface ModelPodOptions {
  namespace: string;
  name: string;
  model: ModelImage;
  /** ConfigMap holding the bundle (key model.sig). */
  bundleConfigMap: string;
  /** The server: busybox from the run's registry, by digest. */
  image: string;
  /** Its command; default: list the model and sleep. */
  command?: string[];
  /** Init containers the workload brings itself (they run after the injected verifier). */
  initContainers?: Record<string, unknown>[];
  /** Extra volumes and mounts of the server container. */
  extraVolumes?: Record<string, unknown>[];
  readOnly?: boolean;
}

/** A pod on the real node that mounts `model` as an image volume at /models/model. */
export function modelPod(o: ModelPodOptions): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      labels: { app: o.name },
      annotations: {
        'modelgate.io/models': JSON.stringify([
          {
            name: o.name,
            volume: 'model',
            digest: o.model.modelDigest,
            signature: { configMapRef: { name: o.bundleConfigMap, key: 'model.sig' } },
          },
        ]),
      },
    },
    spec: {
      nodeSelector: { [REAL_NODE_LABEL.key]: REAL_NODE_LABEL.value },
      tolerations: [{ key: REAL_NODE_TAINT.key, operator: 'Exists', effect: REAL_NODE_TAINT.effect }],
      terminationGracePeriodSeconds: 0,
      ...(o.initContainers ? { initContainers: o.initContainers } : {}),
      containers: [
        {
          name: 'server',
          image: o.image,
          command: o.command ?? ['sh', '-c', 'ls -l /models/model && exec sleep 3600'],
          volumeMounts: [{ name: 'model', mountPath: '/models/model', readOnly: o.readOnly ?? true }],
          readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
        },
      ],
      volumes: [{ name: 'model', image: { reference: o.model.reference } }, ...(o.extraVolumes ?? [])],
    },
  };
}

export interface ContainerState {
  name: string;
  ready?: boolean;
  state?: {
    terminated?: { exitCode: number; reason?: string; message?: string };
    waiting?: { reason?: string; message?: string };
    running?: unknown;
  };
}

export interface PodStatus {
  phase?: string;
  conditions?: { type: string; status: string }[];
  initContainerStatuses?: ContainerState[];
  containerStatuses?: ContainerState[];
}
