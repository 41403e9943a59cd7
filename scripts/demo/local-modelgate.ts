// Runs modelgate (webhook + controller, as local processes) in front of the local control plane: a serving
// certificate for 127.0.0.1 signed by a fresh CA, the webhook with --kubeconfig (informer-backed policies),
// and Validating/MutatingWebhookConfigurations that call it through clientConfig.url. Used by `npm run demo`
// and the e2e suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { repoRoot } from '../cluster/control-plane.ts';
import { freePort } from '../cluster/ports.ts';
import { createCertificateAuthority, issueCertificate } from '../cluster/pki.ts';
import type { Cluster } from '../../test/e2e/cluster.ts';
import { RESOURCE_OF, SUPPORTED_KINDS } from '../../src/workloads/kinds.ts';

/** The verifier the demo's webhook injects; the controller counts only its results. */
const VERIFIER_IMAGE = `registry.example.com/modelgate@sha256:${'0'.repeat(64)}`;

export interface LocalModelgateOptions {
  /** modelgate's own namespace (exempt from admission; holds the controller's Lease). */
  namespace?: string;
  /** Name of both webhook configurations. */
  name?: string;
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
  /** Also run `modelgate controller` (policy status, audit, reports). */
  controller?: boolean;
  log?: (line: string) => void;
}

export interface LocalModelgate {
  webhookUrl: string;
  healthUrl: string;
  name: string;
  namespace: string;
  /** The webhook's output so far (JSON log lines). */
  webhookLog(): string;
  /** Stops the webhook process only (the configurations stay: to test the failure policy). */
  stopWebhook(): Promise<void>;
  /** Starts it again on the same port. */
  startWebhook(): Promise<void>;
  /** Stops every process and removes the webhook configurations. */
  stop(): Promise<void>;
}

export const EXEMPT_NAMESPACES = ['kube-system', 'kube-public', 'kube-node-lease'];

function webhookConfigurations(o: {
  name: string;
  url: string;
  caPem: string;
  exempt: string[];
  failurePolicy: string;
  timeoutSeconds: number;
}) {
  const byGroup = new Map<string, string[]>();
  for (const k of SUPPORTED_KINDS)
    byGroup.set(k.group, [...(byGroup.get(k.group) ?? []), RESOURCE_OF[k.kind]!]);
  const common = {
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy: o.failurePolicy,
    timeoutSeconds: o.timeoutSeconds,
    matchPolicy: 'Equivalent',
    namespaceSelector: {
      matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: o.exempt }],
    },
  };
  const caBundle = Buffer.from(o.caPem).toString('base64');
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: o.name },
      webhooks: [
        {
          name: 'validate.modelgate.io',
          clientConfig: { url: `${o.url}/validate`, caBundle },
          rules: [...byGroup].map(([group, resources]) => ({
            apiGroups: [group],
            apiVersions: ['*'],
            // Debug containers added to running pods are checked too.
            resources: group === '' ? [...resources, 'pods/ephemeralcontainers'] : resources,
            operations: ['CREATE', 'UPDATE'],
            scope: 'Namespaced',
          })),
          ...common,
        },
        {
          // The policies themselves (as the chart registers them): refused when they cannot be enforced.
          name: 'policies.modelgate.io',
          clientConfig: { url: `${o.url}/validate`, caBundle },
          rules: [
            {
              apiGroups: ['modelgate.io'],
              apiVersions: ['v1alpha1'],
              resources: ['clustermodelpolicies', 'modelpolicies'],
              operations: ['CREATE', 'UPDATE'],
              scope: '*',
            },
          ],
          ...common,
          failurePolicy: 'Ignore',
          namespaceSelector: {},
        },
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: o.name },
      webhooks: [
        {
          name: 'mutate.modelgate.io',
          clientConfig: { url: `${o.url}/mutate`, caBundle },
          rules: [
            {
              apiGroups: [''],
              apiVersions: ['v1'],
              resources: ['pods'],
              operations: ['CREATE'],
              scope: 'Namespaced',
            },
          ],
          reinvocationPolicy: 'IfNeeded',
          ...common,
        },
      ],
    },
  ];
}

async function waitHttp(
  url: string,
  timeoutMs: number,
  proc: ChildProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null)
      throw new Error(`process exited with ${proc.exitCode} before ${url} was ready:\n${log().slice(-3000)}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms:\n${log().slice(-3000)}`);
}

function startProcess(args: string[], sink: { text: string }): ChildProcess {
  const p = spawn(process.execPath, [join(repoRoot, 'bin', 'modelgate.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const take = (b: Buffer) => {
    sink.text += b.toString();
    if (sink.text.length > 2_000_000) sink.text = sink.text.slice(-1_000_000);
  };
  p.stdout?.on('data', take);
  p.stderr?.on('data', take);
  return p;
}

async function stopProcess(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

export async function startLocalModelgate(
  cluster: Cluster,
  options: LocalModelgateOptions = {},
): Promise<LocalModelgate> {
  const namespace = options.namespace ?? 'modelgate-system';
  const name = options.name ?? 'modelgate-local';
  const log = options.log ?? (() => {});
  const dir = join(repoRoot, '.cache', 'modelgate', name);
  mkdirSync(dir, { recursive: true });

  await cluster.kubectl(['create', 'namespace', namespace]);
  const ca = await createCertificateAuthority(`${name}-ca`);
  const serving = await issueCertificate(ca, {
    commonName: '127.0.0.1',
    hosts: ['127.0.0.1', 'localhost'],
    usage: 'server',
  });
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(certFile, serving.certPem);
  writeFileSync(keyFile, serving.keyPem, { mode: 0o600 });

  const port = await freePort();
  const metricsPort = await freePort();
  const webhookUrl = `https://127.0.0.1:${port}`;
  const healthUrl = `http://127.0.0.1:${metricsPort}`;
  const webhookSink = { text: '' };
  let webhook: ChildProcess | undefined;
  const startWebhook = async () => {
    webhook = startProcess(
      [
        'webhook',
        `--tls-cert-file=${certFile}`,
        `--tls-private-key-file=${keyFile}`,
        `--port=${port}`,
        `--metrics-port=${metricsPort}`,
        '--bind-address=127.0.0.1',
        `--kubeconfig=${cluster.kubeconfigPath}`,
        `--controller-namespace=${namespace}`,
        `--verifier-image=${VERIFIER_IMAGE}`,
        '--shutdown-delay=0',
        '--shutdown-grace=5',
      ],
      webhookSink,
    );
    await waitHttp(`${healthUrl}/readyz`, 60_000, webhook, () => webhookSink.text);
  };
  log(`starting the webhook on ${webhookUrl}`);
  await startWebhook();

  const controllerSink = { text: '' };
  let controller: ChildProcess | undefined;
  if (options.controller) {
    const controllerPort = await freePort();
    log('starting the controller (policy status, audit, reports)');
    controller = startProcess(
      [
        'controller',
        `--kubeconfig=${cluster.kubeconfigPath}`,
        `--namespace=${namespace}`,
        `--metrics-port=${controllerPort}`,
        '--bind-address=127.0.0.1',
        `--lease-name=${name}-controller`,
        // The configurations below use clientConfig.url with this script's CA: the controller must not
        // manage certificates or rewrite them.
        '--cert-manager=true',
        '--validating-webhook=',
        '--mutating-webhook=',
        '--audit-interval=30s',
        // The webhook's verifier: only its results count as verification.
        `--verifier-image=${VERIFIER_IMAGE}`,
      ],
      controllerSink,
    );
    await waitHttp(
      `http://127.0.0.1:${controllerPort}/healthz`,
      60_000,
      controller,
      () => controllerSink.text,
    );
  }

  const configs = webhookConfigurations({
    name,
    url: webhookUrl,
    caPem: ca.certPem,
    exempt: [...EXEMPT_NAMESPACES, namespace],
    failurePolicy: options.failurePolicy ?? 'Fail',
    timeoutSeconds: options.timeoutSeconds ?? 10,
  });
  const applied = await cluster.kubectl(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
    input: configs.map((c) => yaml.dump(c)).join('---\n'),
  });
  if (applied.code !== 0) throw new Error(`registering the webhook configurations failed: ${applied.stderr}`);
  log(`registered ValidatingWebhookConfiguration and MutatingWebhookConfiguration "${name}" → ${webhookUrl}`);

  return {
    webhookUrl,
    healthUrl,
    name,
    namespace,
    webhookLog: () => webhookSink.text,
    stopWebhook: () => stopProcess(webhook),
    startWebhook,
    stop: async () => {
      await cluster.kubectl([
        'delete',
        'validatingwebhookconfiguration,mutatingwebhookconfiguration',
        name,
        '--ignore-not-found',
      ]);
      await Promise.all([stopProcess(webhook), stopProcess(controller)]);
    },
  };
}

/** Deletes the demo namespace and waits until it is gone. There is no kubelet to confirm pod deletion,
 *  so workloads are removed first and their pods deleted with grace period 0, as a kubelet would. */
export async function removeNamespace(cluster: Cluster, namespace: string): Promise<void> {
  if ((await cluster.kubectl(['get', 'namespace', namespace])).code !== 0) return;
  await cluster.kubectl([
    'delete',
    'deployments,replicasets,jobs,statefulsets',
    '--all',
    '-n',
    namespace,
    '--wait=false',
  ]);
  await cluster.kubectl(['delete', 'pods', '--all', '-n', namespace, '--grace-period=0', '--force']);
  await cluster.kubectl(['delete', 'namespace', namespace, '--wait=false']);
  const deadline = Date.now() + 120_000;
  for (;;) {
    await cluster.kubectl(['delete', 'pods', '--all', '-n', namespace, '--grace-period=0', '--force']);
    if ((await cluster.kubectl(['get', 'namespace', namespace])).code !== 0) return;
    if (Date.now() > deadline) throw new Error(`namespace ${namespace} is still terminating after 2 minutes`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
