// modelgate installed as a user installs it: `helm install charts/modelgate` with the image built here
// (scripts/image/modelgate-image.ts), pulled by digest from the run's registry by the real node. What only
// a running installation shows: the pods run as the image's non-root user on a read-only root, the
// controller issues the webhook's certificate and publishes its CA, and the webhook pods serve it for the
// Service name the API server calls. (Admission through this installation: admission.test.ts.)
import { randomBytes } from 'node:crypto';
import { connect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installInClusterModelgate,
  type InClusterModelgate,
} from '../../scripts/demo/in-cluster-modelgate.ts';
import { REAL_NODE_NAME, startCluster, type Cluster } from './cluster.ts';

const suffix = randomBytes(3).toString('hex');
let cluster: Cluster;
let mg: InClusterModelgate;
let uninstalled = false;

interface PodList {
  items: {
    metadata: { name: string; labels: Record<string, string> };
    spec: {
      nodeName?: string;
      containers: { image: string; securityContext?: Record<string, unknown> }[];
    };
    status: { podIP?: string; containerStatuses?: { ready: boolean; imageID: string }[] };
  }[];
}

async function json<T>(args: string[]): Promise<T> {
  const r = await cluster.kubectl([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  cluster = await startCluster();
  mg = await installInClusterModelgate(cluster, {
    release: `mg-ic-${suffix}`,
    namespace: `mg-ic-${suffix}`,
    namespaceLabel: 'modelgate.io/e2e-in-cluster',
  });
}, 900_000);

afterAll(async () => {
  if (!uninstalled) await mg?.uninstall();
});

describe('modelgate installed with helm from the image built here', () => {
  it('runs the webhook replicas and the controller on the real node, from the pushed image, as UID 65532', async () => {
    const pods = await json<PodList>(['get', 'pods', '-n', mg.namespace]);
    const byComponent = (c: string) =>
      pods.items.filter((p) => p.metadata.labels['app.kubernetes.io/component'] === c);
    expect(byComponent('webhook')).toHaveLength(2);
    expect(byComponent('controller')).toHaveLength(1);
    for (const pod of pods.items) {
      expect(pod.spec.nodeName).toBe(REAL_NODE_NAME);
      expect(pod.spec.containers[0]?.image).toBe(mg.image);
      expect(pod.status.containerStatuses?.[0]?.ready).toBe(true);
      expect(pod.status.containerStatuses?.[0]?.imageID).toContain(mg.image.split('@')[1]);
      expect(pod.spec.containers[0]?.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
      });
    }
    // The kubelet reports the identity the container really runs with.
    const status = await json<{
      status: { containerStatuses: { user?: { linux?: { uid: number; gid: number } } }[] };
    }>(['get', 'pod', byComponent('webhook')[0]!.metadata.name, '-n', mg.namespace]);
    expect(status.status.containerStatuses[0]?.user?.linux).toMatchObject({ uid: 65532, gid: 65532 });
  });

  it('the controller issued the webhook certificate, published its CA as caBundle, and the pods serve it for the Service name', async () => {
    const configs = await json<{
      items: {
        metadata: { name: string };
        webhooks: { clientConfig: { caBundle?: string; service?: { name: string; namespace: string } } }[];
      }[];
    }>([
      'get',
      'validatingwebhookconfigurations,mutatingwebhookconfigurations',
      '-l',
      `app.kubernetes.io/instance=${mg.release}`,
    ]);
    expect(configs.items.length).toBe(2);
    const caBundles = new Set(
      configs.items.flatMap((c) => c.webhooks.map((w) => w.clientConfig.caBundle ?? '')),
    );
    expect(caBundles.size).toBe(1);
    const caPem = Buffer.from([...caBundles][0]!, 'base64').toString('utf8');
    expect(caPem).toContain('BEGIN CERTIFICATE');
    const service = configs.items[0]!.webhooks[0]!.clientConfig.service!;
    const serviceName = `${service.name}.${service.namespace}.svc`;
    const pods = await json<PodList>([
      'get',
      'pods',
      '-n',
      mg.namespace,
      '-l',
      'app.kubernetes.io/component=webhook',
    ]);
    for (const pod of pods.items) {
      // What the API server does: TLS to the endpoint (aggregator routing), verifying the Service's name.
      const peer = await new Promise<X509Certificate>((resolve, reject) => {
        const socket = connect(
          { host: pod.status.podIP!, port: 9443, servername: serviceName, ca: caPem, timeout: 10_000 },
          () => {
            const cert = socket.getPeerX509Certificate();
            socket.end();
            if (cert) resolve(cert);
            else reject(new Error('no peer certificate'));
          },
        );
        socket.on('error', reject);
        socket.on('timeout', () => socket.destroy(new Error('TLS connect timed out')));
      });
      expect(peer.checkHost(serviceName)).toBe(serviceName);
    }
  });

  it('uninstalling removes the webhook configurations, so nothing is left calling a webhook that is gone', async () => {
    uninstalled = true;
    await mg.uninstall();
    const left = await cluster.kubectl([
      'get',
      'validatingwebhookconfigurations,mutatingwebhookconfigurations',
      '-l',
      `app.kubernetes.io/instance=${mg.release}`,
      '-o',
      'name',
    ]);
    expect(left.code, left.stderr).toBe(0);
    expect(left.stdout.trim()).toBe('');
    expect((await cluster.kubectl(['get', 'namespace', mg.namespace])).code).not.toBe(0);
  });
});
