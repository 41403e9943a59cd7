// The real node itself: a kubelet and containerd that start pods, and the plumbing modelgate's in-cluster
// installation relies on — pods reach the API server through the `kubernetes` Service (kube-proxy), the
// API server reaches the kubelet (logs), and kube-proxy's rules stay inside the cluster's network
// namespace.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { processInfo } from '../../scripts/cluster/node/proc.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  nodeNetwork,
  REAL_NODE_LABEL,
  REAL_NODE_NAME,
  REAL_NODE_TAINT,
  startCluster,
  type Cluster,
} from './cluster.ts';

const NS = `e2e-node-${randomBytes(3).toString('hex')}`;
let cluster: Cluster;

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  cluster = await startCluster();
  await kubectlOk(['create', 'namespace', NS]);
});

afterAll(async () => {
  await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
});

describe('the real node', () => {
  it('runs kubelet v1.36 and containerd 2.4, Ready, with its own taint and label', async () => {
    const node = JSON.parse(await kubectlOk(['get', 'node', REAL_NODE_NAME, '-o', 'json'])) as {
      metadata: { labels: Record<string, string> };
      spec: { taints?: unknown[] };
      status: {
        nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string };
        addresses: { type: string; address: string }[];
        conditions: { type: string; status: string }[];
      };
    };
    expect(node.status.nodeInfo.kubeletVersion).toMatch(/^v1\.36\./);
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/v?2\.4\./);
    expect(node.status.addresses).toContainEqual({ type: 'InternalIP', address: nodeNetwork.nodeIp });
    expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(node.metadata.labels[REAL_NODE_LABEL.key]).toBe(REAL_NODE_LABEL.value);
    expect(node.spec.taints).toEqual([REAL_NODE_TAINT]);
  });

  it('a pod reaches the API server through the kubernetes Service, and the API server reads its logs from the kubelet', async () => {
    const endpoints = await kubectlOk([
      'get',
      'endpointslices',
      '-n',
      'default',
      '-l',
      'kubernetes.io/service-name=kubernetes',
      '-o',
      'jsonpath={.items[0].endpoints[0].addresses[0]}',
    ]);
    expect(endpoints).toBe(nodeNetwork.nodeIp);
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'reach', namespace: NS },
      spec: {
        nodeSelector: { [REAL_NODE_LABEL.key]: REAL_NODE_LABEL.value },
        tolerations: [{ key: REAL_NODE_TAINT.key, operator: 'Exists', effect: REAL_NODE_TAINT.effect }],
        restartPolicy: 'Never',
        containers: [
          {
            name: 'main',
            image: cluster.node.images.busybox,
            // TCP through kube-proxy's DNAT of the Service address to the API server's advertise address.
            // (Debian's busybox nc has no -z: a connected nc sends a newline, the API server answers with a
            // TLS alert and closes, nc exits 0; an address nothing backs fails.)
            command: [
              'sh',
              '-c',
              'echo | nc -w 5 "$KUBERNETES_SERVICE_HOST" "$KUBERNETES_SERVICE_PORT" >/dev/null && echo "reached $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"; echo | nc -w 5 10.96.255.254 443 || echo "no Service at 10.96.255.254"',
            ],
          },
        ],
      },
    };
    await kubectlOk(['apply', '-f', '-'], yaml.dump(pod));
    await kubectlOk([
      'wait',
      '--for=jsonpath={.status.phase}=Succeeded',
      `pod/reach`,
      '-n',
      NS,
      '--timeout=180s',
    ]);
    expect(await kubectlOk(['logs', 'reach', '-n', NS])).toContain(
      `reached ${nodeNetwork.kubernetesServiceIp}:443`,
    );
  });

  it("kube-proxy's rules are in the cluster's network namespace, and none in the host's", () => {
    const iptablesSave = join(cluster.node.parts.debian, 'bin', 'iptables-save');
    // This test runs inside the cluster's namespace (npm run test:e2e); the netns-run.ts process that
    // started it, up its ancestry, is in the host's.
    const own = processInfo(process.pid)!.netns;
    let host: number | undefined;
    for (let pid = process.pid; pid > 1 && host === undefined;) {
      const info = processInfo(pid);
      if (!info) break;
      if (info.netns !== own) host = pid;
      pid = info.ppid;
    }
    expect(host, 'no ancestor in another network namespace').toBeDefined();
    const inCluster = spawnSync(iptablesSave, ['-t', 'nat'], { encoding: 'utf8' });
    expect(inCluster.status).toBe(0);
    expect(inCluster.stdout).toContain(':KUBE-SERVICES');
    expect(inCluster.stdout).toMatch(
      new RegExp(
        `-d ${nodeNetwork.kubernetesServiceIp.replaceAll('.', '\\.')}/32 .*default/kubernetes:https`,
      ),
    );
    const onHost = spawnSync('nsenter', [`--net=/proc/${host!}/ns/net`, '--', iptablesSave], {
      encoding: 'utf8',
    });
    expect(onHost.status, onHost.stderr).toBe(0);
    expect(onHost.stdout).not.toContain('KUBE-');
  });
});
