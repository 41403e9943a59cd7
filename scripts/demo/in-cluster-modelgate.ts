// modelgate installed the way a user installs it: the image (built here from local parts,
// scripts/image/modelgate-image.ts) pushed to the run's registry, then `helm install charts/modelgate` with
// that image by digest. The webhook replicas and the controller run as pods on the real node; the API
// server calls the webhook through its Service; the controller issues the webhook's certificate and
// fills in the caBundle. Used by `npm run demo` and the e2e suite.
import { join } from 'node:path';
import { pushLayout } from '../image/oci.ts';
import { buildModelgateImage } from '../image/modelgate-image.ts';
import { repoRoot } from '../cluster/control-plane.ts';
import { REAL_NODE_LABEL, REAL_NODE_TAINT } from '../cluster/node/config.ts';
import type { Cluster } from '../../test/e2e/cluster.ts';

export interface InClusterOptions {
  release?: string;
  namespace?: string;
  /** Only namespaces with this label (value "true") are sent to the webhook, so an installation made for
   *  one test file leaves the others' namespaces alone. Unset: the chart's default selector. */
  namespaceLabel?: string;
  /** Extra `--set` values (e.g. webhook.failurePolicy=Ignore). */
  set?: string[];
  log?: (line: string) => void;
}

export interface InClusterModelgate {
  release: string;
  namespace: string;
  /** The image the pods run, `<registry>/modelgate/modelgate@sha256:...`. */
  image: string;
  /** The namespace label a workload namespace needs for the webhook to see it, if any. */
  namespaceLabel?: string;
  /** Logs of every pod of a component (`webhook` or `controller`). */
  logs(component: 'webhook' | 'controller'): Promise<string>;
  /** Scales the webhook Deployment to 0 and waits until no replica answers (to test the failure policy). */
  stopWebhook(): Promise<void>;
  /** Scales it back and waits until every replica is ready. */
  startWebhook(): Promise<void>;
  uninstall(): Promise<void>;
}

async function kubectlOk(cluster: Cluster, args: string[]): Promise<string> {
  const r = await cluster.kubectl(args, { timeoutMs: 240_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Builds (cached) and pushes the modelgate image; returns its reference by digest. */
export async function pushModelgateImage(
  cluster: Cluster,
  log: (line: string) => void = () => {},
): Promise<string> {
  const node = cluster.node;
  const image = await buildModelgateImage(log);
  const digest = await pushLayout(image.layout, node.registry, 'modelgate/modelgate', 'local');
  return `${node.registry}/modelgate/modelgate@${digest}`;
}

const onRealNode = (component: string): string[] => [
  `--set-string=${component}.nodeSelector.${REAL_NODE_LABEL.key.replaceAll('.', '\\.')}=${REAL_NODE_LABEL.value}`,
  `--set=${component}.tolerations[0].key=${REAL_NODE_TAINT.key}`,
  `--set=${component}.tolerations[0].operator=Exists`,
  `--set=${component}.tolerations[0].effect=${REAL_NODE_TAINT.effect}`,
];

export async function installInClusterModelgate(
  cluster: Cluster,
  options: InClusterOptions = {},
): Promise<InClusterModelgate> {
  const release = options.release ?? 'modelgate';
  const namespace = options.namespace ?? 'modelgate-system';
  const log = options.log ?? (() => {});
  const image = await pushModelgateImage(cluster, log);
  const [repository, digest] = image.split('@') as [string, string];
  log(`pushed ${image}`);
  const selector = options.namespaceLabel
    ? [
        `--set-string=webhook.namespaceSelector.matchLabels.${options.namespaceLabel.replaceAll('.', '\\.')}=true`,
      ]
    : [];
  const args = [
    'upgrade',
    '--install',
    release,
    join(repoRoot, 'charts', 'modelgate'),
    '--namespace',
    namespace,
    '--create-namespace',
    `--set=image.repository=${repository}`,
    `--set=image.digest=${digest}`,
    ...onRealNode('webhook'),
    ...onRealNode('controller'),
    ...selector,
    ...(options.set ?? []).map((s) => `--set=${s}`),
    '--wait',
    '--timeout=5m',
  ];
  log(`helm ${args.slice(0, 4).join(' ')} ... (image ${image})`);
  const result = await cluster.helm(args, { timeoutMs: 6 * 60_000 });
  const logs = async (component: 'webhook' | 'controller'): Promise<string> =>
    (
      await cluster.kubectl([
        'logs',
        '-n',
        namespace,
        '-l',
        `app.kubernetes.io/instance=${release},app.kubernetes.io/component=${component}`,
        '--all-containers',
        '--prefix',
        '--tail=200',
      ])
    ).stdout;
  if (result.code !== 0) {
    const pods = await cluster.kubectl(['get', 'pods', '-n', namespace, '-o', 'wide']);
    const events = await cluster.kubectl(['get', 'events', '-n', namespace, '--sort-by=.lastTimestamp']);
    throw new Error(
      `helm install of charts/modelgate failed: ${result.stderr}\n${pods.stdout}\n${events.stdout}\n${await logs('webhook')}\n${await logs('controller')}`,
    );
  }
  const deployments = JSON.parse(
    await kubectlOk(cluster, [
      'get',
      'deployments',
      '-n',
      namespace,
      '-l',
      `app.kubernetes.io/instance=${release}`,
      '-o',
      'json',
    ]),
  ) as {
    items: { metadata: { name: string; labels?: Record<string, string> }; spec: { replicas?: number } }[];
  };
  const webhook = deployments.items.find(
    (d) => d.metadata.labels?.['app.kubernetes.io/component'] === 'webhook',
  );
  if (!webhook) throw new Error(`helm installed no webhook Deployment in ${namespace}`);
  const webhookDeployment = webhook.metadata.name;
  const replicas = webhook.spec.replicas ?? 1;
  return {
    release,
    namespace,
    image,
    ...(options.namespaceLabel ? { namespaceLabel: options.namespaceLabel } : {}),
    logs,
    stopWebhook: async () => {
      await kubectlOk(cluster, ['scale', 'deployment', webhookDeployment, '-n', namespace, '--replicas=0']);
      await kubectlOk(cluster, [
        'wait',
        '--for=delete',
        'pod',
        '-n',
        namespace,
        '-l',
        `app.kubernetes.io/instance=${release},app.kubernetes.io/component=webhook`,
        '--timeout=120s',
      ]);
    },
    startWebhook: async () => {
      await kubectlOk(cluster, [
        'scale',
        'deployment',
        webhookDeployment,
        '-n',
        namespace,
        `--replicas=${replicas}`,
      ]);
      await kubectlOk(cluster, [
        'rollout',
        'status',
        'deployment',
        webhookDeployment,
        '-n',
        namespace,
        '--timeout=180s',
      ]);
    },
    uninstall: async () => {
      await cluster.helm(['uninstall', release, '--namespace', namespace, '--wait', '--timeout=2m']);
      await cluster.kubectl([
        'delete',
        'namespace',
        namespace,
        '--ignore-not-found',
        '--wait=true',
        '--timeout=120s',
      ]);
    },
  };
}
