// The cluster's baseline objects: fake Nodes, the Kata TEE RuntimeClasses and the
// CRDs from crds/. ensureBaseline is idempotent (server-side apply) and runs at start
// and whenever a running cluster is reused.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { kubectlFor, mustKubectl, serverSideApply, waitFor, type KubectlTarget } from './exec.ts';

const crdDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'crds');
const defaultLog = (line: string): void => console.error(`[cluster] ${line}`);

export interface FakeNode {
  name: string;
  labels: Record<string, string>;
  address: string;
}

/** One confidential-computing node (AMD SEV-SNP, Kata installed) and two ordinary workers. */
export const fakeNodes: FakeNode[] = [
  {
    name: 'mg-confidential-0',
    address: '192.0.2.10',
    labels: {
      'node.kubernetes.io/instance-type': 'n2d-standard-16',
      'topology.kubernetes.io/zone': 'local-a',
      'feature.node.kubernetes.io/cpu-model.vendor_id': 'AMD',
      'feature.node.kubernetes.io/cpu-security.sev.enabled': 'true',
      'feature.node.kubernetes.io/cpu-security.sev.snp.enabled': 'true',
      'katacontainers.io/kata-runtime': 'true',
    },
  },
  {
    name: 'mg-worker-0',
    address: '192.0.2.11',
    labels: {
      'node.kubernetes.io/instance-type': 'n2-standard-8',
      'topology.kubernetes.io/zone': 'local-a',
      'feature.node.kubernetes.io/cpu-model.vendor_id': 'Intel',
    },
  },
  {
    name: 'mg-worker-1',
    address: '192.0.2.12',
    labels: {
      'node.kubernetes.io/instance-type': 'n2-standard-8',
      'topology.kubernetes.io/zone': 'local-b',
      'feature.node.kubernetes.io/cpu-model.vendor_id': 'Intel',
    },
  },
];

/** The Kata Containers TEE runtime classes as kata-deploy installs them (handler = name). */
export const teeRuntimeClasses: { name: string; overhead: { cpu: string; memory: string } }[] = [
  { name: 'kata-qemu-snp', overhead: { cpu: '1', memory: '2048Mi' } },
  { name: 'kata-qemu-tdx', overhead: { cpu: '1', memory: '2048Mi' } },
  { name: 'kata-qemu-nvidia-gpu-snp', overhead: { cpu: '1', memory: '2048Mi' } },
  { name: 'kata-qemu-coco-dev', overhead: { cpu: '250m', memory: '160Mi' } },
];

/**
 * Brings the cluster to its documented baseline: fake Nodes (labels, Ready status, no
 * not-ready taint), the Kata RuntimeClasses and the CRDs from crds/. Idempotent; run at
 * start and again whenever a running cluster is reused, so objects a test changed are
 * put back. Objects tests created (a decoy RuntimeClass, namespaces) are left alone.
 */
export async function ensureBaseline(
  state: KubectlTarget,
  log: (line: string) => void = defaultLog,
): Promise<void> {
  const kubectl = kubectlFor(state);
  const version = (await mustKubectl(kubectl, ['version', '-o', 'json'])).trim();
  const serverVersion =
    (JSON.parse(version) as { serverVersion?: { gitVersion?: string } }).serverVersion?.gitVersion ?? '?';

  const nodes = fakeNodes.map((n) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        ...n.labels,
      },
    },
    spec: {},
  }));
  await mustKubectl(
    kubectl,
    ['apply', ...serverSideApply, '-f', '-'],
    nodes.map((n) => yaml.dump(n)).join('---\n'),
  );
  // Status goes through the status subresource, as a kubelet would write it.
  for (const n of fakeNodes) {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const condition = (type: string, status: string, reason: string) => ({
      type,
      status,
      reason,
      message: reason,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    });
    const resources = { cpu: '16', memory: '64Gi', pods: '110', 'ephemeral-storage': '200Gi' };
    const status = {
      status: {
        capacity: resources,
        allocatable: resources,
        addresses: [
          { type: 'InternalIP', address: n.address },
          { type: 'Hostname', address: n.name },
        ],
        conditions: [
          condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory'),
          condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure'),
          condition('PIDPressure', 'False', 'KubeletHasSufficientPID'),
          condition('Ready', 'True', 'KubeletReady'),
        ],
        nodeInfo: {
          architecture: 'amd64',
          operatingSystem: 'linux',
          osImage: 'modelgate fake node',
          kernelVersion: '6.8.0',
          kubeletVersion: serverVersion,
          kubeProxyVersion: '',
          containerRuntimeVersion: 'containerd://2.1.0',
          machineID: '',
          systemUUID: '',
          bootID: '',
        },
      },
    };
    await mustKubectl(kubectl, [
      'patch',
      'node',
      n.name,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(status),
    ]);
  }
  // The TaintNodesByCondition admission plugin taints every new Node
  // node.kubernetes.io/not-ready:NoSchedule; the node-lifecycle controller would
  // lift it once the node reports Ready. That controller is off, so lift it here.
  for (const n of fakeNodes) {
    const result = await kubectl(['taint', 'node', n.name, 'node.kubernetes.io/not-ready:NoSchedule-']);
    if (result.code !== 0 && !/not found/.test(result.stderr)) {
      throw new Error(`removing the not-ready taint from ${n.name}: ${result.stderr.trim()}`);
    }
  }
  log(`nodes (Ready, untainted): ${fakeNodes.map((n) => n.name).join(', ')}`);

  const runtimeClasses = teeRuntimeClasses.map((rc) => ({
    apiVersion: 'node.k8s.io/v1',
    kind: 'RuntimeClass',
    metadata: { name: rc.name, labels: { 'app.kubernetes.io/managed-by': 'modelgate-local-cluster' } },
    handler: rc.name,
    overhead: { podFixed: rc.overhead },
    scheduling: { nodeSelector: { 'katacontainers.io/kata-runtime': 'true' } },
  }));
  await mustKubectl(
    kubectl,
    ['apply', ...serverSideApply, '-f', '-'],
    runtimeClasses.map((r) => yaml.dump(r)).join('---\n'),
  );
  log(`runtime classes: ${teeRuntimeClasses.map((r) => r.name).join(', ')}`);

  await applyCrds(state, log);

  // Pods need the namespace's default ServiceAccount, created by the controller manager.
  await waitFor(
    'the default ServiceAccount',
    async () =>
      (await kubectl(['get', 'serviceaccount', 'default', '-n', 'default', '-o', 'name'])).code === 0,
    60_000,
  );
}

/** Applies every YAML file in crds/ and waits until each CRD is Established. */
export async function applyCrds(
  state: KubectlTarget,
  log: (line: string) => void = defaultLog,
): Promise<string[]> {
  const files = existsSync(crdDir)
    ? readdirSync(crdDir)
        .filter((f) => /\.ya?ml$/.test(f) && statSync(join(crdDir, f)).isFile())
        .sort()
    : [];
  if (files.length === 0) {
    log('crds/: no YAML files yet; skipping');
    return [];
  }
  const kubectl = kubectlFor(state);
  const fileArgs = files.flatMap((f) => ['-f', join(crdDir, f)]);
  // Server-side apply: large CRDs overflow the client-side last-applied annotation.
  await mustKubectl(kubectl, ['apply', ...serverSideApply, ...fileArgs]);
  const names = (await mustKubectl(kubectl, ['get', ...fileArgs, '-o', 'name']))
    .trim()
    .split('\n')
    .filter(Boolean);
  await mustKubectl(kubectl, ['wait', '--for=condition=Established', '--timeout=60s', ...fileArgs]);
  log(`CRDs established: ${names.map((n) => n.replace(/^.*\//, '')).join(', ')}`);
  return names;
}
