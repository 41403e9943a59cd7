// The real node itself: a kubelet and containerd that start pods, and the plumbing modelgate's in-cluster
// installation relies on — pods reach the API server through the `kubernetes` Service (kube-proxy), the
// API server reaches the kubelet (logs), and kube-proxy's rules stay inside the cluster's network
// namespace.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { processInfo } from '../../scripts/cluster/node/proc.ts';
import { MEDIA, pushBlob, pushDirectoryImage, pushManifest, sha256 } from '../../scripts/image/oci.ts';
import { startRegistry } from './models.ts';
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
let modelDir: string;

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  cluster = await startCluster();
  await kubectlOk(['create', 'namespace', NS]);
  modelDir = mkdtempSync(join(tmpdir(), 'mg-e2e-node-'));
  writeFileSync(join(modelDir, 'weights.txt'), 'not really weights\n');
});

afterAll(async () => {
  await cluster?.kubectl(['delete', 'namespace', NS, '--wait=false']);
  if (modelDir) rmSync(modelDir, { recursive: true, force: true });
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

  it('serves the referrers API per mode: spec (artifactType, filter, OCI-Subject), config-media-type, none (404; the sha256-<hex> tag works everywhere); the node pulls from each', async () => {
    const registries = {
      spec: { address: cluster.node.registry, stop: async () => {} },
      'config-media-type': await startRegistry(cluster, 'config-media-type'),
      none: await startRegistry(cluster, 'none'),
    };
    try {
      const bundleType = 'application/vnd.dev.sigstore.bundle.v0.3+json';
      for (const [mode, registry] of Object.entries(registries)) {
        const repo = `e2e/referrers-${mode}`;
        const subject = await pushDirectoryImage(modelDir, registry.address, repo, 'v1');
        const subjectDigest = subject.split('@')[1]!;
        const subjectBody = Buffer.from(
          await (
            await fetch(`http://${registry.address}/v2/${repo}/manifests/${subjectDigest}`, {
              headers: { accept: MEDIA.manifest },
            })
          ).arrayBuffer(),
        );
        // A cosign-style bundle referrer: empty config, artifactType on the manifest.
        const empty = Buffer.from('{}');
        const bundle = Buffer.from('{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}');
        await pushBlob(registry.address, repo, { data: empty });
        await pushBlob(registry.address, repo, { data: bundle });
        const referrer = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MEDIA.manifest,
            artifactType: bundleType,
            config: { mediaType: MEDIA.empty, digest: sha256(empty), size: empty.length },
            layers: [{ mediaType: bundleType, digest: sha256(bundle), size: bundle.length }],
            subject: { mediaType: MEDIA.manifest, digest: subjectDigest, size: subjectBody.length },
          }),
        );
        const put = await fetch(`http://${registry.address}/v2/${repo}/manifests/${sha256(referrer)}`, {
          method: 'PUT',
          headers: { 'content-type': MEDIA.manifest },
          body: referrer,
        });
        expect(put.status, mode).toBe(201);
        expect(put.headers.get('oci-subject'), mode).toBe(mode === 'spec' ? subjectDigest : null);
        const list = await fetch(
          `http://${registry.address}/v2/${repo}/referrers/${subjectDigest}?artifactType=${encodeURIComponent(bundleType)}`,
        );
        if (mode === 'none') expect(list.status).toBe(404);
        else {
          expect(list.status, mode).toBe(200);
          const index = (await list.json()) as { manifests: { digest: string; artifactType?: string }[] };
          const types = index.manifests.map((m) => m.artifactType);
          expect(types, mode).toEqual(mode === 'spec' ? [bundleType] : [MEDIA.empty]);
          expect(list.headers.get('oci-filters-applied'), mode).toBe(mode === 'spec' ? 'artifactType' : null);
        }
        // The fallback: the referrers tag schema is an ordinary tag, so it works with every registry.
        const tag = `sha256-${subjectDigest.slice('sha256:'.length)}`;
        await pushManifest(
          registry.address,
          repo,
          tag,
          Buffer.from(
            JSON.stringify({
              schemaVersion: 2,
              mediaType: MEDIA.index,
              manifests: [
                {
                  mediaType: MEDIA.manifest,
                  digest: sha256(referrer),
                  size: referrer.length,
                  artifactType: bundleType,
                },
              ],
            }),
          ),
          MEDIA.index,
        );
        const byTag = await fetch(`http://${registry.address}/v2/${repo}/manifests/${tag}`, {
          headers: { accept: MEDIA.index },
        });
        expect(byTag.status, mode).toBe(200);
        expect(((await byTag.json()) as { manifests: { digest: string }[] }).manifests[0]?.digest).toBe(
          sha256(referrer),
        );
        // The node pulls an image volume from each registry.
        const name = `pull-${mode}`;
        await kubectlOk(
          ['apply', '-f', '-'],
          yaml.dump({
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, namespace: NS },
            spec: {
              nodeSelector: { [REAL_NODE_LABEL.key]: REAL_NODE_LABEL.value },
              tolerations: [{ key: REAL_NODE_TAINT.key, operator: 'Exists', effect: REAL_NODE_TAINT.effect }],
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'main',
                  image: cluster.node.images.busybox,
                  command: ['cat', '/m/weights.txt'],
                  volumeMounts: [{ name: 'm', mountPath: '/m', readOnly: true }],
                },
              ],
              volumes: [{ name: 'm', image: { reference: subject } }],
            },
          }),
        );
        await kubectlOk([
          'wait',
          '--for=jsonpath={.status.phase}=Succeeded',
          `pod/${name}`,
          '-n',
          NS,
          '--timeout=180s',
        ]);
        expect(await kubectlOk(['logs', name, '-n', NS])).toContain('not really weights');
      }
    } finally {
      for (const r of Object.values(registries)) await r.stop();
    }
  });
});
