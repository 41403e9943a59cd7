// The kubelet's part in pod deletion, and nothing else. A deleted pod keeps its
// deletionTimestamp until the kubelet on its node confirms the containers are gone;
// without kubelets every deleted pod would stay Terminating for ever, namespaces
// would never finish deleting, and the fake nodes would fill up ("Too many pods").
// This loop completes such deletions (grace period 0), as kwok's pod controller does, for pods bound to
// the fake Nodes only: the real node's kubelet stops its own pods.
//
// Usage (started by control-plane.ts): node --import tsx pod-reaper.ts <cluster dir>/kubeconfig
// It exits when its cluster directory is removed or the API server stays unreachable.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { fakeNodes } from './baseline.ts';

const kubeconfigPath = process.argv[2];
if (!kubeconfigPath) {
  console.error('usage: pod-reaper.ts <kubeconfig>');
  process.exit(2);
}
const kc = new KubeConfig();
kc.loadFromFile(kubeconfigPath);
const core = kc.makeApiClient(CoreV1Api);

const unreachableLimitMs = 60_000;
const fakeNodeNames = new Set(fakeNodes.map((n) => n.name));
let lastContact = Date.now();

while (existsSync(kubeconfigPath)) {
  try {
    const pods = await core.listPodForAllNamespaces();
    lastContact = Date.now();
    for (const pod of pods.items) {
      const { name, namespace, deletionTimestamp } = pod.metadata ?? {};
      if (!deletionTimestamp || !name || !namespace) continue;
      if (!fakeNodeNames.has(pod.spec?.nodeName ?? '')) continue;
      await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).then(
        () => console.error(`deleted ${namespace}/${name}`),
        () => undefined, // already gone, or the next round retries
      );
    }
  } catch (error) {
    if (Date.now() - lastContact > unreachableLimitMs) {
      console.error(`API server unreachable for ${unreachableLimitMs / 1000}s; exiting: ${String(error)}`);
      process.exit(1);
    }
  }
  await sleep(1_000);
}
