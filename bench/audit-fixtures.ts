// The audit benchmark's cluster: 10 ClusterModelPolicies (one selects the benchmark's namespaces, the
// others other teams, as in a shared cluster) and Deployments, 100 per namespace, a third of them from
// an untrusted registry and a third unpinned. Shared by the in-memory API (bench/audit-api.ts) and the
// local control plane run.
import { CLUSTER_MODEL_POLICIES, NAMESPACES, workloadResource } from '../src/kube/resources.ts';
import type { KubeObject, ResourceRef } from '../src/kube/types.ts';

export const PER_NAMESPACE = 100;
export const POLICIES = 10;
export const DEPLOYMENTS = workloadResource({ group: 'apps', kind: 'Deployment' });

export const namespaceName = (size: number, n: number) => `bench-audit-${size}-${n}`;
export const namespaceCount = (size: number) => Math.ceil(size / PER_NAMESPACE);

export function deployment(i: number, ns: string): KubeObject {
  const registry = i % 3 === 0 ? 'untrusted.example.com' : 'registry.example.com';
  const ref =
    i % 3 === 1
      ? `${registry}/models/m${i % 50}:v1`
      : `${registry}/models/m${i % 50}@sha256:${'ab'.repeat(32)}`;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `llm-${i}`, namespace: ns, labels: { app: `llm-${i}`, team: `t${i % 7}` } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: `llm-${i}` } },
      template: {
        metadata: { labels: { app: `llm-${i}` } },
        spec: {
          containers: [
            {
              name: 'server',
              image: 'vllm/vllm-openai:v0.6.0',
              args: ['--model', '/models', '--port', '8000'],
              volumeMounts: [{ name: 'model', mountPath: '/models' }],
              resources: { limits: { 'nvidia.com/gpu': '1' } },
            },
          ],
          volumes: [{ name: 'model', image: { reference: ref, pullPolicy: 'IfNotPresent' } }],
        },
      },
    },
  };
}

export function policy(i: number): KubeObject {
  const selector =
    i === 0 ? { matchLabels: { 'bench-audit': 'true' } } : { matchLabels: { team: `other-${i}` } };
  return {
    apiVersion: 'modelgate.io/v1alpha1',
    kind: 'ClusterModelPolicy',
    metadata: { name: `bench-${i}` },
    spec: {
      enforcement: 'Audit',
      match: { namespaceSelector: selector },
      sources: ['oci://registry.example.com/**'],
      requirePinned: true,
    },
  };
}

/** Every object of the benchmark cluster of `size` workloads, generated one at a time. */
export function* benchObjects(size: number): Generator<{ ref: ResourceRef; obj: KubeObject }> {
  for (let n = 0; n < namespaceCount(size); n++)
    yield {
      ref: NAMESPACES,
      obj: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: namespaceName(size, n), labels: { 'bench-audit': 'true' } },
      },
    };
  for (let i = 0; i < POLICIES; i++) yield { ref: CLUSTER_MODEL_POLICIES, obj: policy(i) };
  for (let i = 0; i < size; i++)
    yield { ref: DEPLOYMENTS, obj: deployment(i, namespaceName(size, Math.floor(i / PER_NAMESPACE))) };
}
