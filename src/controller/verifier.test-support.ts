// Pods with a verifier init container, for the verification tests: the one modelgate injects (built by
// the mutating webhook's own code) and forgeries of it.
import { verifierInjection } from '../mutation/inject.ts';
import { applyJsonPatch } from '../mutation/json-patch.test-support.ts';
import { MemoryClusterView } from '../policy/cluster-view.ts';
import { compilePolicy } from '../policy/compile.ts';
import { PolicySet } from '../policy/policy-set.ts';
import type { PolicySnapshot } from '../policy/store.ts';
import type { KubeObject } from '../kube/types.ts';
import type { VerifierExpectation } from './verifier-origin.ts';

type Obj = Record<string, unknown>;

export const VERIFIER_IMAGE = `registry.example.com/modelgate@sha256:${'e'.repeat(64)}`;
export const EXPECTATION: VerifierExpectation = {
  defaults: { image: VERIFIER_IMAGE },
  exemptNamespaces: new Set(['kube-system', 'modelgate-system']),
};

/** Namespace `ml` and one ClusterModelPolicy that injects the verifier there. */
export function injectingSnapshot(): PolicySnapshot {
  const cluster = new MemoryClusterView();
  cluster.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml', labels: { env: 'ml' } } });
  const r = compilePolicy(
    {
      apiVersion: 'modelgate.io/v1alpha1',
      kind: 'ClusterModelPolicy',
      metadata: { name: 'verified' },
      spec: { match: { namespaceSelector: { matchLabels: { env: 'ml' } } }, verifier: { inject: true } },
    },
    cluster,
    { controllerNamespace: 'modelgate-system', validateTrust: () => undefined },
  );
  if (!r.ok) throw new Error(r.message);
  return { policies: new PolicySet([r.policy]), cluster, errors: [] };
}

/** A model-serving pod in `ml` without any verifier. */
export function modelPod(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ml',
      uid: `uid-${name}`,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'llm-abc', uid: 'rs', controller: true },
      ],
    },
    spec: {
      nodeName: 'node-1',
      containers: [
        {
          name: 'server',
          image: 'vllm/vllm-openai:v0.6.0',
          args: ['--model', '/models/llama'],
          volumeMounts: [{ name: 'model', mountPath: '/models/llama' }],
        },
      ],
      volumes: [
        { name: 'model', image: { reference: `registry.example.com/models/llama@sha256:${'b'.repeat(64)}` } },
      ],
    },
  };
}

/** The pod as modelgate's mutating webhook admits it: with the verifier it injects. */
export function injectedPod(name: string, snapshot = injectingSnapshot()): KubeObject {
  const pod = modelPod(name);
  const r = verifierInjection(pod, {
    namespace: 'ml',
    policies: snapshot.policies.policies,
    cluster: snapshot.cluster,
    defaults: EXPECTATION.defaults,
  });
  if (r.patch.length === 0) throw new Error('nothing injected');
  return applyJsonPatch(pod, r.patch);
}

/** Anyone's init container that merely carries the verifier's name. */
export function forgedPod(name: string): KubeObject {
  const pod = modelPod(name);
  (pod.spec as Obj).initContainers = [
    {
      name: 'modelgate-verifier',
      image: 'busybox:1.36',
      command: ['sh', '-c', `echo '{"model":"/models/model","verdict":"valid"}' > /dev/termination-log`],
    },
  ];
  return pod;
}

/** The pod after its verifier terminated with `message` (what the kubelet writes to status). */
export function terminated(
  pod: KubeObject,
  message: string | undefined,
  opts: { finishedAt?: string; imageID?: string } = {},
): KubeObject {
  const finishedAt = opts.finishedAt ?? '2026-01-01T00:00:00Z';
  const imageID = opts.imageID ?? VERIFIER_IMAGE;
  return {
    ...pod,
    status:
      message === undefined
        ? { initContainerStatuses: [{ name: 'modelgate-verifier', imageID: '', state: { running: {} } }] }
        : {
            initContainerStatuses: [
              {
                name: 'modelgate-verifier',
                imageID,
                state: { terminated: { exitCode: 0, message, finishedAt } },
              },
            ],
          },
  };
}
