// Builders for test objects (cert-manager's test/unit/gen habit): a readable default plus functional
// options, so each test states only what it is about.
import type { ModelPolicySpec, PolicyKind } from '../../src/api/types.ts';
import { MemoryClusterView } from '../../src/policy/cluster-view.ts';
import { compilePolicy, type CompiledPolicy } from '../../src/policy/compile.ts';
import { PolicySet } from '../../src/policy/policy-set.ts';

type Obj = Record<string, unknown>;

export function policy(
  name: string,
  spec: ModelPolicySpec,
  kind: PolicyKind = 'ClusterModelPolicy',
  namespace?: string,
): Obj {
  return {
    apiVersion: 'modelgate.io/v1alpha1',
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}), generation: 1 },
    spec,
  };
}

/**
 * Compiles a test policy. Trust material is not parsed here (decision tests use fake keys with a fake
 * verifier); compile.test.ts tests that real compilation refuses unusable trust material.
 */
export function compiled(obj: Obj, cluster = new MemoryClusterView()): CompiledPolicy {
  const r = compilePolicy(obj, cluster, {
    controllerNamespace: 'modelgate-system',
    validateTrust: () => undefined,
  });
  if (!r.ok) throw new Error(`test policy does not compile: ${r.message}`);
  return r.policy;
}

export function policySet(...objs: Obj[]): PolicySet {
  return new PolicySet(objs.map((o) => compiled(o)));
}

export type PodSpecOption = (spec: Obj) => void;

/** An image volume holding a model, mounted read-only in the server, which serves it (`--model <mount>`). */
export const withImageVolume =
  (name: string, reference: string, mountPath = `/mnt/${name}`): PodSpecOption =>
  (spec) => {
    (spec.volumes as Obj[]).push({ name, image: { reference } });
    const server = (spec.containers as Obj[])[0]!;
    (server.volumeMounts as Obj[]).push({ name, mountPath, readOnly: true });
    server.args ??= ['--model', mountPath];
  };

/** A container that serves no model, with an image a policy may approve (nonModelImages). */
export const withSidecar =
  (name: string, image: string, extra: Obj = {}): PodSpecOption =>
  (spec) => {
    (spec.containers as Obj[]).push({ name, image, ...extra });
  };

export const withRuntimeClass =
  (name: string): PodSpecOption =>
  (spec) => {
    spec.runtimeClassName = name;
  };

export const withNodeSelector =
  (labels: Record<string, string>): PodSpecOption =>
  (spec) => {
    spec.nodeSelector = { ...(spec.nodeSelector as Obj | undefined), ...labels };
  };

export const withArgs =
  (...args: string[]): PodSpecOption =>
  (spec) => {
    (spec.containers as Obj[])[0]!.args = args;
  };

export function podSpec(...opts: PodSpecOption[]): Obj {
  const spec: Obj = {
    containers: [
      {
        name: 'server',
        image: 'vllm/vllm-openai@sha256:' + 'a'.repeat(64),
        volumeMounts: [],
      },
    ],
    volumes: [],
  };
  for (const o of opts) o(spec);
  return spec;
}

export interface WorkloadMeta {
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function deployment(name: string, spec: Obj, meta: WorkloadMeta = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: meta.namespace ?? 'ml', labels: meta.labels ?? {} },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...meta.labels }, annotations: meta.annotations ?? {} },
        spec,
      },
    },
  };
}

export function pod(name: string, spec: Obj, meta: WorkloadMeta = {}): Obj {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: meta.namespace ?? 'ml',
      labels: meta.labels ?? {},
      annotations: meta.annotations ?? {},
    },
    spec,
  };
}

export function clusterView(...objects: Obj[]): MemoryClusterView {
  const v = new MemoryClusterView();
  for (const o of objects) v.upsert(o);
  return v;
}

export const namespace = (name: string, labels: Record<string, string> = {}): Obj => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

export const runtimeClass = (name: string, handler = name, nodeSelector?: Record<string, string>): Obj => ({
  apiVersion: 'node.k8s.io/v1',
  kind: 'RuntimeClass',
  metadata: { name },
  handler,
  ...(nodeSelector ? { scheduling: { nodeSelector } } : {}),
});

export const DIGEST = 'sha256:' + 'b'.repeat(64);

/**
 * A Pod as KServe writes it for a modelcar: the model image runs KServe's link script beside the server,
 * sharing the process namespace, and the server reads /mnt/models through the link.
 */
export function kserveModelcarPod(reference: string, name = 'p'): Obj {
  return pod(name, {
    shareProcessNamespace: true,
    containers: [
      {
        name: 'kserve-container',
        image: `kserve/huggingfaceserver@sha256:${'a'.repeat(64)}`,
        args: ['--model_dir=/mnt/models'],
        volumeMounts: [{ name: 'kserve-provision-location', mountPath: '/mnt', readOnly: true }],
      },
      {
        name: 'modelcar',
        image: reference,
        args: ['sh', '-c', 'ln -sf /proc/$$$$/root/models /mnt/models && sleep infinity'],
        volumeMounts: [{ name: 'kserve-provision-location', mountPath: '/mnt' }],
      },
    ],
    volumes: [{ name: 'kserve-provision-location', emptyDir: {} }],
  });
}
