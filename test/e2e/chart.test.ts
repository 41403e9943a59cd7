// The Helm chart on the real API server: `helm install` is accepted (CRDs, RBAC, webhook
// configurations), the API server really routes admission to modelgate with the chart's selectors,
// `helm upgrade` keeps what the controller wrote (rules, caBundle, certificate), and `helm uninstall`
// leaves no webhook behind. No kubelet runs here, so the modelgate pods never start: this test plays
// the controller's writes itself, and with failurePolicy Fail a selected namespace is closed, which is
// exactly what the exemption checks need. Then the real modelgate binaries run outside the cluster with
// the chart's args and ServiceAccount tokens, with self-managed TLS and in cert-manager mode against a
// real cert-manager.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { RESOURCE_OF, SUPPORTED_KINDS } from '../../src/workloads/kinds.ts';
import { freePort } from '../../scripts/cluster/ports.ts';
import { startCluster, type Cluster } from './cluster.ts';

const chartDir = join(import.meta.dirname, '..', '..', 'charts', 'modelgate');
const id = randomBytes(3).toString('hex');
const releaseName = `e2e-chart-${id}`;
const releaseNs = `e2e-chart-${id}`;
const fullname = `${releaseName}-modelgate`;
const selectedNs = `e2e-chart-selected-${id}`;
const otherNs = `e2e-chart-other-${id}`;
// Only namespaces with this label are sent to the webhook, so a chart left behind by a failed run
// can never close the rest of the shared test cluster.
const selectorLabel = 'e2e.modelgate.io/chart';

let cluster: Cluster;

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const result = await cluster.kubectl(args, input === undefined ? {} : { input });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function helmOk(args: string[]): Promise<string> {
  const result = await cluster.helm(args, { timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk([...args, '-o', 'json'])) as T;
}

const pod = (namespace: string) =>
  yaml.dump({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'probe', namespace },
    spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
  });

/** Server-side dry run: goes through every admission webhook (they declare sideEffects: None), stores nothing. */
const admitPod = (namespace: string) =>
  cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { input: pod(namespace) });

/**
 * Whether the API server called this release's webhook for the request. Judged by the Service URL in
 * the error, because other suites may run their own modelgate webhooks (same webhook names, `url`
 * client config) on the shared cluster at the same time.
 */
const calledOurWebhook = (stderr: string, releaseNamespace: string, fullName: string) =>
  stderr.includes(`https://${fullName}-webhook.${releaseNamespace}.svc:443/`);

/** No kubelet confirms pod deletion here: force it, or the namespace stays Terminating forever. */
async function deleteNamespace(namespace: string): Promise<void> {
  await cluster.kubectl([
    'delete',
    'pods',
    '--all',
    '-n',
    namespace,
    '--grace-period=0',
    '--force',
    '--ignore-not-found',
  ]);
  await cluster.kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found']);
}

/**
 * Asks the real authorizer through a SubjectAccessReview (works for resources whose CRDs are not
 * installed, unlike `kubectl auth can-i`). `resource` is "plural[.group][/name]".
 */
async function canI(
  serviceAccount: string,
  verb: string,
  resource: string,
  namespace?: string,
): Promise<boolean> {
  const [typed, name] = resource.split('/') as [string, string | undefined];
  const dot = typed.indexOf('.');
  const review = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${releaseNs}:${serviceAccount}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${releaseNs}`, 'system:authenticated'],
      resourceAttributes: {
        verb,
        resource: dot < 0 ? typed : typed.slice(0, dot),
        group: dot < 0 ? '' : typed.slice(dot + 1),
        ...(name ? { name } : {}),
        ...(namespace ? { namespace } : {}),
      },
    },
  };
  const out = await kubectlOk(['create', '-f', '-', '-o', 'json'], JSON.stringify(review));
  return (JSON.parse(out) as { status: { allowed?: boolean } }).status.allowed === true;
}

interface WebhookConfiguration {
  metadata: { annotations?: Record<string, string> };
  webhooks: {
    name: string;
    failurePolicy: string;
    sideEffects: string;
    matchPolicy: string;
    timeoutSeconds: number;
    clientConfig: {
      service: { name: string; namespace: string; path: string; port: number };
      caBundle?: string;
    };
    namespaceSelector: { matchExpressions?: { key: string; operator: string; values: string[] }[] };
    rules?: unknown[];
  }[];
}

// What the controller writes once policies select every kind and inject the verifier
// (src/controller/webhook-config.ts): one rule per API group.
const allKindsRules = [...new Set(SUPPORTED_KINDS.map((k) => k.group))].map((group) => ({
  apiGroups: [group],
  apiVersions: ['', 'apps', 'batch'].includes(group) ? ['v1'] : ['*'],
  resources: SUPPORTED_KINDS.filter((k) => k.group === group)
    .map((k) => RESOURCE_OF[k.kind]!)
    .sort(),
  operations: ['CREATE', 'UPDATE'],
  scope: 'Namespaced',
}));
const podRules = [
  { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'], scope: 'Namespaced' },
];

beforeAll(async () => {
  cluster = await startCluster();
  await kubectlOk(['create', 'namespace', selectedNs]);
  await kubectlOk(['label', 'namespace', selectedNs, `${selectorLabel}=${id}`]);
  await kubectlOk(['create', 'namespace', otherNs]);
});

afterAll(async () => {
  if (!cluster) return;
  await cluster.helm(['uninstall', releaseName, '--namespace', releaseNs, '--wait=false']);
  for (const ns of [releaseNs, selectedNs, otherNs]) await deleteNamespace(ns);
});

describe('helm chart on a real API server', () => {
  it('installs with default values (plus a namespace selector that confines it to this test)', async () => {
    await helmOk([
      'install',
      releaseName,
      chartDir,
      '--namespace',
      releaseNs,
      '--create-namespace',
      '--set-json',
      `webhook.namespaceSelector={"matchLabels":{"${selectorLabel}":"${id}"}}`,
    ]);
    const status = JSON.parse(
      await helmOk(['status', releaseName, '--namespace', releaseNs, '-o', 'json']),
    ) as { info: { status: string; notes: string } };
    expect(status.info.status).toBe('deployed');
    expect(status.info.notes).toContain(`kubectl delete validatingwebhookconfiguration ${fullname}`);
  });

  it('leaves both CRDs established', async () => {
    for (const crd of ['clustermodelpolicies.modelgate.io', 'modelpolicies.modelgate.io']) {
      const obj = await getJson<{ status: { conditions: { type: string; status: string }[] } }>([
        'get',
        'crd',
        crd,
      ]);
      expect(obj.status.conditions.find((c) => c.type === 'Established')?.status).toBe('True');
    }
  });

  it('registers both webhook configurations as rendered, calling nothing until the controller sets rules', async () => {
    const validating = await getJson<WebhookConfiguration>([
      'get',
      'validatingwebhookconfiguration',
      fullname,
    ]);
    // The workload webhook, and the policy webhook (static rules on modelgate.io, Ignore on failure: an
    // outage never blocks fixing a policy).
    expect(validating.webhooks.map((w) => w.name)).toEqual([
      'validate.modelgate.io',
      'policies.modelgate.io',
    ]);
    expect(validating.webhooks[1]).toMatchObject({ failurePolicy: 'Ignore' });
    expect(validating.webhooks[1]?.rules?.[0]).toMatchObject({ apiGroups: ['modelgate.io'] });
    expect(validating.webhooks[0]).toMatchObject({
      failurePolicy: 'Fail',
      sideEffects: 'None',
      matchPolicy: 'Equivalent',
      timeoutSeconds: 10,
      clientConfig: {
        service: { name: `${fullname}-webhook`, namespace: releaseNs, path: '/validate', port: 443 },
      },
    });
    expect(validating.webhooks[0]?.namespaceSelector.matchExpressions?.[0]?.values).toEqual([
      'kube-system',
      'kube-node-lease',
      'kube-public',
      releaseNs,
    ]);
    expect(validating.webhooks[0]?.rules ?? []).toEqual([]);
    const mutating = await getJson<WebhookConfiguration>(['get', 'mutatingwebhookconfiguration', fullname]);
    expect(mutating.webhooks.map((w) => w.name)).toEqual(['mutate.modelgate.io']);
    expect(mutating.webhooks[0]?.rules ?? []).toEqual([]);
    // A fresh install blocks nothing, even in a selected namespace, before the controller has run.
    const beforeController = await admitPod(selectedNs);
    expect(calledOurWebhook(beforeController.stderr, releaseNs, fullname), beforeController.stderr).toBe(
      false,
    );
  });

  it('accepts the rules and caBundle the controller writes', async () => {
    const ca = readFileSync(cluster.caCertPath).toString('base64');
    for (const [kind, rules] of [
      ['validatingwebhookconfiguration', allKindsRules],
      ['mutatingwebhookconfiguration', podRules],
    ] as const) {
      await kubectlOk([
        'patch',
        kind,
        fullname,
        '--type=json',
        '-p',
        JSON.stringify([
          { op: 'add', path: '/webhooks/0/rules', value: rules },
          { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: ca },
        ]),
      ]);
    }
  });

  it('routes admission in selected namespaces to modelgate (fail closed while it is down), and nowhere else', async () => {
    const denied = await admitPod(selectedNs);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/failed calling webhook "(mutate|validate)\.modelgate\.io"/);
    expect(calledOurWebhook(denied.stderr, releaseNs, fullname), denied.stderr).toBe(true);
    const notSelected = await admitPod(otherNs);
    expect(calledOurWebhook(notSelected.stderr, releaseNs, fullname), notSelected.stderr).toBe(false);
    // Its own namespace is exempt even if someone labels it: the webhook must always be able to start.
    await kubectlOk(['label', 'namespace', releaseNs, `${selectorLabel}=${id}`]);
    const own = await admitPod(releaseNs);
    expect(calledOurWebhook(own.stderr, releaseNs, fullname), own.stderr).toBe(false);
  });

  it('grants the least privilege the chart declares, as the real authorizer sees it', async () => {
    const controller = `${fullname}-controller`;
    const webhook = `${fullname}-webhook`;
    const tlsSecret = `secrets/${fullname}-webhook-tls`;
    expect(await canI(controller, 'update', tlsSecret, releaseNs)).toBe(true);
    expect(await canI(controller, 'update', 'secrets/something-else', releaseNs)).toBe(false);
    expect(await canI(controller, 'create', 'secrets', releaseNs)).toBe(false);
    expect(
      await canI(
        controller,
        'update',
        `validatingwebhookconfigurations.admissionregistration.k8s.io/${fullname}`,
      ),
    ).toBe(true);
    expect(
      await canI(
        controller,
        'update',
        'validatingwebhookconfigurations.admissionregistration.k8s.io/someone-elses',
      ),
    ).toBe(false);
    expect(
      await canI(
        controller,
        'delete',
        `validatingwebhookconfigurations.admissionregistration.k8s.io/${fullname}`,
      ),
    ).toBe(false);
    expect(await canI(controller, 'patch', 'clustermodelpolicies.modelgate.io/x', undefined)).toBe(false);
    expect(await canI(controller, 'list', 'inferenceservices.serving.kserve.io')).toBe(true);
    expect(await canI(controller, 'list', 'events')).toBe(true);
    expect(await canI(controller, 'delete', 'events', otherNs)).toBe(false);
    expect(await canI(controller, 'create', 'leases.coordination.k8s.io', releaseNs)).toBe(true);
    expect(await canI(controller, 'create', 'leases.coordination.k8s.io', otherNs)).toBe(false);
    expect(await canI(webhook, 'watch', 'clustermodelpolicies.modelgate.io')).toBe(true);
    expect(await canI(webhook, 'list', 'secrets')).toBe(true);
    expect(await canI(webhook, 'update', tlsSecret, releaseNs)).toBe(false);
    expect(await canI(webhook, 'create', 'pods', otherNs)).toBe(false);
  });

  it('keeps the rules, caBundle and certificate the controller wrote across helm upgrade', async () => {
    // Play the controller's certificate reconciler: fill the Secret the chart created empty.
    const ca = readFileSync(cluster.caCertPath).toString('base64');
    const secret = `${fullname}-webhook-tls`;
    await kubectlOk([
      'patch',
      'secret',
      secret,
      '-n',
      releaseNs,
      '--type=merge',
      '-p',
      JSON.stringify({ data: { 'tls.crt': ca, 'tls.key': 'a2V5', 'ca.crt': ca } }),
    ]);
    await helmOk([
      'upgrade',
      releaseName,
      chartDir,
      '--namespace',
      releaseNs,
      '--reuse-values',
      '--set',
      'controller.auditInterval=5m,networkPolicy.enabled=true',
    ]);
    expect(
      (await kubectlOk(['get', 'networkpolicies', '-n', releaseNs, '-o', 'name'])).trim().split('\n').sort(),
    ).toEqual([
      `networkpolicy.networking.k8s.io/${fullname}-controller`,
      `networkpolicy.networking.k8s.io/${fullname}-webhook`,
    ]);
    for (const [kind, rules] of [
      ['validatingwebhookconfiguration', allKindsRules],
      ['mutatingwebhookconfiguration', podRules],
    ] as const) {
      const obj = await getJson<WebhookConfiguration>(['get', kind, fullname]);
      expect(obj.webhooks[0]?.clientConfig.caBundle, kind).toBe(ca);
      expect(obj.webhooks[0]?.rules, kind).toEqual(rules);
    }
    const after = await getJson<{ data?: Record<string, string> }>([
      'get',
      'secret',
      secret,
      '-n',
      releaseNs,
    ]);
    expect(after.data?.['tls.crt']).toBe(ca);
    const deployment = await getJson<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>([
      'get',
      'deployment',
      `${fullname}-controller`,
      '-n',
      releaseNs,
    ]);
    expect(deployment.spec.template.spec.containers[0]?.args).toContain('--audit-interval=5m');
  });

  it('rejects a values typo at install time', async () => {
    const result = await cluster.helm([
      'upgrade',
      releaseName,
      chartDir,
      '--namespace',
      releaseNs,
      '--reuse-values',
      '--set',
      'webhook.failurPolicy=Ignore',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/schema/);
  });

  it('removes both webhook configurations on helm uninstall, reopening the namespace', async () => {
    await helmOk(['uninstall', releaseName, '--namespace', releaseNs]);
    for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
      const result = await cluster.kubectl(['get', kind, fullname]);
      expect(result.code, kind).not.toBe(0);
      expect(result.stderr).toMatch(/NotFound|not found/);
    }
    const admitted = await admitPod(selectedNs);
    expect(calledOurWebhook(admitted.stderr, releaseNs, fullname), admitted.stderr).toBe(false);
    // Nothing cluster-scoped is left behind but the CRDs (Helm never deletes those: they hold user data).
    for (const kind of ['clusterrole', 'clusterrolebinding']) {
      const left = await cluster.kubectl([
        'get',
        kind,
        '-l',
        `app.kubernetes.io/instance=${releaseName}`,
        '-o',
        'name',
      ]);
      expect(left.stdout.trim(), kind).toBe('');
    }
  });
});

describe('manifests/install.yaml on a real API server', () => {
  const manifest = join(import.meta.dirname, '..', '..', 'manifests', 'install.yaml');

  it('applies server-side, and uninstalls in the documented order with no webhook left', async () => {
    // install.yaml has fixed names (namespace and release "modelgate"): leave a cluster that already
    // has them alone.
    const taken = await cluster.kubectl([
      'get',
      'namespace/modelgate',
      'validatingwebhookconfiguration/modelgate',
      '--ignore-not-found',
      '-o',
      'name',
    ]);
    if (taken.stdout.trim() !== '') {
      console.warn(`[e2e] skipped install.yaml check: ${taken.stdout.trim()} already exists`);
      return;
    }
    await kubectlOk(['apply', '--server-side', '--field-manager=e2e-install', '-f', manifest]);
    const ns = await getJson<{ metadata: { labels: Record<string, string> } }>([
      'get',
      'namespace',
      'modelgate',
    ]);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    // The restricted Pod Security level admits modelgate's own pod templates (a violation would be
    // reported as a warning on the Deployments, and the ReplicaSets' pods refused).
    const deployments = await cluster.kubectl([
      'apply',
      '--server-side',
      '--field-manager=e2e-install',
      '--dry-run=server',
      '-f',
      manifest,
    ]);
    expect(deployments.code, deployments.stderr).toBe(0);
    expect(deployments.stderr).not.toMatch(/would violate PodSecurity/);
    // Re-applying leaves what the controller owns alone (no conflict, no reset): the Secret's data and
    // the webhooks' rules and caBundle. The rules only select a namespace nobody uses, so a webhook
    // that cannot answer blocks nothing else on the shared cluster meanwhile.
    const ca = readFileSync(cluster.caCertPath).toString('base64');
    await kubectlOk([
      'patch',
      'secret',
      'modelgate-webhook-tls',
      '-n',
      'modelgate',
      '--type=merge',
      '-p',
      '{"data":{"tls.crt":"Y2VydA==","tls.key":"a2V5"}}',
    ]);
    await kubectlOk([
      'patch',
      'validatingwebhookconfiguration',
      'modelgate',
      '--type=json',
      '-p',
      JSON.stringify([
        { op: 'add', path: '/webhooks/0/rules', value: allKindsRules },
        { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: ca },
        {
          op: 'add',
          path: '/webhooks/0/objectSelector',
          value: { matchLabels: { [selectorLabel]: 'install-yaml-nobody' } },
        },
      ]),
    ]);
    await kubectlOk(['apply', '--server-side', '--field-manager=e2e-install', '-f', manifest]);
    const secret = await getJson<{ data?: Record<string, string> }>([
      'get',
      'secret',
      'modelgate-webhook-tls',
      '-n',
      'modelgate',
    ]);
    expect(secret.data?.['tls.crt']).toBe('Y2VydA==');
    const hook = (await getJson<WebhookConfiguration>(['get', 'validatingwebhookconfiguration', 'modelgate']))
      .webhooks[0];
    expect(hook?.rules).toEqual(allKindsRules);
    expect(hook?.clientConfig.caBundle).toBe(ca);
    // docs/operations.md: webhook configurations first, then everything else.
    await kubectlOk(['delete', 'validatingwebhookconfiguration', 'modelgate']);
    await kubectlOk(['delete', 'mutatingwebhookconfiguration', 'modelgate']);
    // CRDs stay (they hold every policy); the rest goes.
    const docs = (yaml.loadAll(readFileSync(manifest, 'utf8')) as { kind?: string }[]).filter(
      (d) => d?.kind && d.kind !== 'CustomResourceDefinition',
    );
    await cluster.kubectl(['delete', 'pods', '--all', '-n', 'modelgate', '--grace-period=0', '--force']);
    await kubectlOk(
      ['delete', '--ignore-not-found', '--wait=false', '-f', '-'],
      docs.map((d) => yaml.dump(d)).join('---\n'),
    );
    await cluster.kubectl(['delete', 'pods', '--all', '-n', 'modelgate', '--grace-period=0', '--force']);
    const left = await cluster.kubectl([
      'get',
      'validatingwebhookconfigurations,mutatingwebhookconfigurations,clusterroles,clusterrolebindings',
      '-l',
      'app.kubernetes.io/instance=modelgate',
      '-o',
      'name',
    ]);
    expect(left.stdout.trim()).toBe('');
  });
});

/** The modelgate processes a test starts for a release, authenticated as its ServiceAccounts. */
class ReleaseProcesses {
  readonly work = mkdtempSync(join(tmpdir(), 'modelgate-chart-e2e-'));
  private readonly children: ChildProcess[] = [];

  constructor(readonly namespace: string) {}

  /** A kubeconfig with a TokenRequest token of the ServiceAccount, as a pod would have. */
  async kubeconfigFor(serviceAccount: string): Promise<string> {
    const token = (
      await kubectlOk(['create', 'token', serviceAccount, '-n', this.namespace, '--duration=1h'])
    ).trim();
    const path = join(this.work, `${serviceAccount}.kubeconfig`);
    writeFileSync(
      path,
      yaml.dump({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'e2e', cluster: { server: cluster.server, 'certificate-authority': cluster.caCertPath } },
        ],
        users: [{ name: serviceAccount, user: { token } }],
        contexts: [
          { name: 'e2e', context: { cluster: 'e2e', user: serviceAccount, namespace: this.namespace } },
        ],
        'current-context': 'e2e',
      }),
    );
    return path;
  }

  /** The args of a Deployment's first container, as the chart rendered them. */
  async deploymentArgs(name: string): Promise<string[]> {
    const d = await getJson<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>([
      'get',
      'deployment',
      name,
      '-n',
      this.namespace,
    ]);
    return d.spec.template.spec.containers[0]?.args ?? [];
  }

  start(args: string[]): Started {
    const proc = spawn(
      process.execPath,
      [join(import.meta.dirname, '..', '..', 'bin', 'modelgate.js'), ...args],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? this.work,
          POD_NAMESPACE: this.namespace,
          POD_NAME: `${args[0]}-e2e`,
          NO_PROXY: '127.0.0.1,localhost',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.children.push(proc);
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    return { proc, logs: () => out };
  }

  async stop(): Promise<void> {
    for (const c of this.children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

interface Started {
  proc: ChildProcess;
  logs: () => string;
}

const withPort = (args: string[], flag: string, port: number) => [
  ...args.filter((a) => !a.startsWith(`--${flag}=`)),
  `--${flag}=${port}`,
];

/** Polls `probe` until it gives a value; fails at once, with the child's logs, if the child exits. */
async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  child: Started,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    const exited = child.proc.exitCode ?? child.proc.signalCode;
    if (exited !== null)
      throw new Error(`${what}: the process exited (${exited}); logs:\n${child.logs().slice(-4000)}`);
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${timeoutMs}ms; logs:\n${child.logs().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function httpStatus(port: number, path: string): Promise<number | undefined> {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
  } catch {
    return undefined;
  }
}

// The real `modelgate controller` and `modelgate webhook`, started with the exact args of the chart's
// Deployments and authenticated as the chart's ServiceAccounts (TokenRequest tokens, as a pod would
// be): the chart's RBAC is enough for them to do their jobs, and nothing they do is forbidden.
describe('the real binaries under the chart RBAC', () => {
  const id2 = randomBytes(3).toString('hex');
  const release2 = `e2e-rbac-${id2}`;
  const ns2 = `e2e-rbac-${id2}`;
  const full2 = `${release2}-modelgate`;
  const p = new ReleaseProcesses(ns2);

  afterAll(async () => {
    await p.stop();
    await cluster?.helm(['uninstall', release2, '--namespace', ns2, '--wait=false']);
    if (cluster) await deleteNamespace(ns2);
  });

  it('the controller issues the certificate, fills caBundle, holds the lease and sets the rules', async () => {
    await helmOk([
      'install',
      release2,
      chartDir,
      '--namespace',
      ns2,
      '--create-namespace',
      '--set-json',
      `webhook.namespaceSelector={"matchLabels":{"${selectorLabel}":"${id2}"}}`,
    ]);
    // A policy that selects Deployments and injects the verifier: the controller must narrow the rules to it.
    await kubectlOk(
      ['apply', '-f', '-'],
      yaml.dump({
        apiVersion: 'modelgate.io/v1alpha1',
        kind: 'ModelPolicy',
        metadata: { name: 'e2e-chart', namespace: ns2 },
        spec: {
          enforcement: 'Audit',
          match: { kinds: [{ group: 'apps', kind: 'Deployment' }] },
          verifier: { inject: true },
        },
      }),
    );
    const kubeconfig = await p.kubeconfigFor(`${full2}-controller`);
    const port = await freePort();
    const controller = p.start([
      ...withPort(await p.deploymentArgs(`${full2}-controller`), 'metrics-port', port),
      `--kubeconfig=${kubeconfig}`,
    ]);
    await until(
      'TLS Secret filled',
      async () => {
        const s = await getJson<{ data?: Record<string, string> }>([
          'get',
          'secret',
          `${full2}-webhook-tls`,
          '-n',
          ns2,
        ]);
        return s.data?.['tls.crt'] && s.data['tls.key'] ? s : undefined;
      },
      controller,
    );
    const validating = await until(
      'caBundle and rules written',
      async () => {
        const v = await getJson<WebhookConfiguration>(['get', 'validatingwebhookconfiguration', full2]);
        return v.webhooks[0]?.clientConfig.caBundle && (v.webhooks[0].rules ?? []).length > 0 ? v : undefined;
      },
      controller,
    );
    // At least what this policy selects (other suites' ClusterModelPolicies may select more).
    expect(validating.webhooks[0]?.rules).toContainEqual(
      expect.objectContaining({
        apiGroups: ['apps'],
        resources: expect.arrayContaining(['deployments']),
        operations: ['CREATE', 'UPDATE'],
      }),
    );
    // Its exemptions kept, the chart's own selector term too.
    expect(validating.webhooks[0]?.namespaceSelector.matchExpressions?.[0]?.values).toEqual(
      expect.arrayContaining(['kube-system', 'kube-node-lease', 'kube-public', ns2]),
    );
    const mutating = await until(
      'mutating rules written',
      async () => {
        const m = await getJson<WebhookConfiguration>(['get', 'mutatingwebhookconfiguration', full2]);
        return (m.webhooks[0]?.rules ?? []).length > 0 ? m : undefined;
      },
      controller,
    );
    expect(mutating.webhooks[0]?.rules).toEqual(podRules);
    // Policy status through the /status subresource.
    const status = await until(
      'policy status written',
      async () => {
        const p = await getJson<{
          status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
        }>(['get', 'modelpolicy', 'e2e-chart', '-n', ns2]);
        return p.status?.conditions?.some((c) => c.type === 'Ready') ? p.status : undefined;
      },
      controller,
    );
    expect(status.observedGeneration).toBe(1);
    const lease = await getJson<{ spec: { holderIdentity?: string } }>([
      'get',
      'lease',
      `${full2}-controller`,
      '-n',
      ns2,
    ]);
    expect(lease.spec.holderIdentity).toMatch(/^controller-e2e/);
    expect(
      await until(
        'controller /healthz',
        async () => ((await httpStatus(port, '/healthz')) === 200 ? true : undefined),
        controller,
      ),
    ).toBe(true);
    // Let it run a reconcile or two more (status, audit), then look for any RBAC refusal.
    await new Promise((r) => setTimeout(r, 3000));
    expect(controller.logs()).not.toMatch(/forbidden/i);
    expect(controller.proc.exitCode).toBeNull();
  });

  it('the webhook loads policies and turns ready with the certificate the controller issued', async () => {
    const secret = await getJson<{ data: Record<string, string> }>([
      'get',
      'secret',
      `${full2}-webhook-tls`,
      '-n',
      ns2,
    ]);
    // Lay the Secret out as the kubelet would mount it (the chart mounts tls.crt and tls.key only).
    const tlsDir = join(p.work, 'tls');
    mkdirSync(tlsDir, { recursive: true });
    for (const key of ['tls.crt', 'tls.key'])
      writeFileSync(join(tlsDir, key), Buffer.from(secret.data[key]!, 'base64'));
    const kubeconfig = await p.kubeconfigFor(`${full2}-webhook`);
    const [httpsPort, metricsPort] = [await freePort(), await freePort()];
    let args = await p.deploymentArgs(`${full2}-webhook`);
    args = withPort(withPort(args, 'port', httpsPort), 'metrics-port', metricsPort).map((a) =>
      a.replace('/etc/modelgate/tls/', `${tlsDir}/`),
    );
    const webhook = p.start([...args, `--kubeconfig=${kubeconfig}`]);
    expect(
      await until(
        'webhook /readyz',
        async () => ((await httpStatus(metricsPort, '/readyz')) === 200 ? true : undefined),
        webhook,
      ),
    ).toBe(true);
    expect(webhook.logs()).not.toMatch(/forbidden/i);
  });
});

// cert-manager mode against a real cert-manager: its own controllers and CA injector, built from its Go
// module by scripts/cluster/build-cert-manager.sh. The chart's Issuers and Certificates issue the
// serving certificate, the injector fills caBundle, and the real binaries work with what it issued.
describe('cert-manager mode with a real cert-manager', () => {
  const id3 = randomBytes(3).toString('hex');
  const release3 = `e2e-cm-${id3}`;
  const ns3 = `e2e-cm-${id3}`;
  const full3 = `${release3}-modelgate`;
  const serviceNames = [`${full3}-webhook.${ns3}.svc`, `${full3}-webhook.${ns3}.svc.cluster.local`];
  // Where cert-manager keeps the Secrets of ClusterIssuers (its --cluster-resource-namespace).
  const resourceNs = `e2e-cm-resources-${id3}`;
  const p = new ReleaseProcesses(ns3);
  let certManager: ChildProcess | undefined;
  let certManagerLogs = '';
  const issued = { caPem: '', certPem: '', keyPem: '', secretVersion: '' };

  beforeAll(async () => {
    const built = await new Promise<string>((resolve, reject) => {
      execFile(
        'bash',
        [join(import.meta.dirname, '..', '..', 'scripts', 'cluster', 'build-cert-manager.sh')],
        { maxBuffer: 1 << 20 },
        (err, stdout, stderr) =>
          err
            ? reject(new Error(`scripts/cluster/build-cert-manager.sh failed: ${stderr.slice(-2000)}`))
            : resolve(stdout.trim().split('\n').pop() ?? ''),
      );
    });
    await kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', join(built, 'crds')]);
    await kubectlOk([
      'wait',
      '--for=condition=established',
      '--timeout=60s',
      ...['certificates', 'certificaterequests', 'issuers', 'clusterissuers'].map(
        (r) => `crd/${r}.cert-manager.io`,
      ),
    ]);
    await kubectlOk(['create', 'namespace', resourceNs]);
    certManager = spawn(
      join(built, 'bin', 'cert-manager-e2e'),
      ['--kubeconfig', cluster.kubeconfigPath, '--cluster-resource-namespace', resourceNs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    certManager.stdout?.on('data', (d: Buffer) => (certManagerLogs += d.toString()));
    certManager.stderr?.on('data', (d: Buffer) => (certManagerLogs += d.toString()));
  }, 900_000);

  afterAll(async () => {
    await p.stop();
    certManager?.kill('SIGTERM');
    await cluster?.helm(['uninstall', release3, '--namespace', ns3, '--wait=false']);
    await cluster?.helm(['uninstall', `${release3}-ci`, '--namespace', `${ns3}-ci`, '--wait=false']);
    await cluster?.kubectl([
      'delete',
      'clusterissuer',
      `${release3}-selfsigned`,
      `${release3}-ca`,
      '--ignore-not-found',
    ]);
    if (cluster) for (const ns of [ns3, `${ns3}-ci`, resourceNs]) await deleteNamespace(ns);
  });

  const certManagerProcess = (): Started => ({ proc: certManager!, logs: () => certManagerLogs });
  const pemOf = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');

  it("issues the serving certificate from the chart's own CA, and the injector fills caBundle", async () => {
    await helmOk([
      'install',
      release3,
      chartDir,
      '--namespace',
      ns3,
      '--create-namespace',
      '--set',
      'certManager.enabled=true',
      '--set-json',
      `webhook.namespaceSelector={"matchLabels":{"${selectorLabel}":"${id3}"}}`,
    ]);
    const ready = await until(
      'Certificate Ready',
      async () => {
        const c = await getJson<{ status?: { conditions?: { type: string; status: string }[] } }>([
          'get',
          'certificate',
          `${full3}-webhook`,
          '-n',
          ns3,
        ]);
        return c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')
          ? true
          : undefined;
      },
      certManagerProcess(),
      120_000,
    );
    expect(ready).toBe(true);
    const secret = await getJson<{
      type: string;
      metadata: { resourceVersion: string };
      data: Record<string, string>;
    }>(['get', 'secret', `${full3}-webhook-tls`, '-n', ns3]);
    expect(secret.type).toBe('kubernetes.io/tls');
    Object.assign(issued, {
      caPem: pemOf(secret.data['ca.crt']),
      certPem: pemOf(secret.data['tls.crt']),
      keyPem: pemOf(secret.data['tls.key']),
      secretVersion: secret.metadata.resourceVersion,
    });
    const ca = new X509Certificate(issued.caPem);
    const leaf = new X509Certificate(issued.certPem);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe(`CN=${full3}-root-ca`);
    expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe(serviceNames.map((n) => `DNS:${n}`).join(', '));
    expect(leaf.keyUsage).toContain('1.3.6.1.5.5.7.3.1'); // serverAuth
    for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
      const caBundle = await until(
        `${kind} caBundle`,
        async () =>
          (await getJson<WebhookConfiguration>(['get', kind, full3])).webhooks[0]?.clientConfig.caBundle,
        certManagerProcess(),
        60_000,
      );
      expect(pemOf(caBundle), kind).toBe(issued.caPem);
    }
  });

  it('the controller leaves the certificate and caBundle to cert-manager and sets the rules, under the chart RBAC', async () => {
    await kubectlOk(
      ['apply', '-f', '-'],
      yaml.dump({
        apiVersion: 'modelgate.io/v1alpha1',
        kind: 'ModelPolicy',
        metadata: { name: 'e2e-cert-manager', namespace: ns3 },
        spec: { enforcement: 'Audit', match: { kinds: [{ group: 'apps', kind: 'Deployment' }] } },
      }),
    );
    const args = await p.deploymentArgs(`${full3}-controller`);
    expect(args).toContain('--cert-manager');
    const controller = p.start([
      ...withPort(args, 'metrics-port', await freePort()),
      `--kubeconfig=${await p.kubeconfigFor(`${full3}-controller`)}`,
    ]);
    const validating = await until(
      'rules written',
      async () => {
        const v = await getJson<WebhookConfiguration>(['get', 'validatingwebhookconfiguration', full3]);
        return (v.webhooks[0]?.rules ?? []).length > 0 ? v : undefined;
      },
      controller,
    );
    // Its PUT kept what the injector wrote.
    expect(pemOf(validating.webhooks[0]?.clientConfig.caBundle)).toBe(issued.caPem);
    await new Promise((r) => setTimeout(r, 3000));
    const secret = await getJson<{ metadata: { resourceVersion: string } }>([
      'get',
      'secret',
      `${full3}-webhook-tls`,
      '-n',
      ns3,
    ]);
    expect(secret.metadata.resourceVersion).toBe(issued.secretVersion);
    expect(
      pemOf(
        (await getJson<WebhookConfiguration>(['get', 'mutatingwebhookconfiguration', full3])).webhooks[0]
          ?.clientConfig.caBundle,
      ),
    ).toBe(issued.caPem);
    expect(controller.logs()).not.toMatch(/forbidden/i);
    expect(controller.proc.exitCode).toBeNull();
  });

  it('the webhook serves the issued certificate, which the injected caBundle trusts for the Service name', async () => {
    const tlsDir = join(p.work, 'tls');
    mkdirSync(tlsDir, { recursive: true });
    writeFileSync(join(tlsDir, 'tls.crt'), issued.certPem);
    writeFileSync(join(tlsDir, 'tls.key'), issued.keyPem);
    const [httpsPort, metricsPort] = [await freePort(), await freePort()];
    const args = withPort(
      withPort(await p.deploymentArgs(`${full3}-webhook`), 'port', httpsPort),
      'metrics-port',
      metricsPort,
    ).map((a) => a.replace('/etc/modelgate/tls/', `${tlsDir}/`));
    const webhook = p.start([...args, `--kubeconfig=${await p.kubeconfigFor(`${full3}-webhook`)}`]);
    expect(
      await until(
        'webhook /readyz',
        async () => ((await httpStatus(metricsPort, '/readyz')) === 200 ? true : undefined),
        webhook,
      ),
    ).toBe(true);
    // What the API server checks when it calls the Service: the chain against caBundle, for this name.
    const caBundle = pemOf(
      (await getJson<WebhookConfiguration>(['get', 'validatingwebhookconfiguration', full3])).webhooks[0]
        ?.clientConfig.caBundle,
    );
    const authorized = await new Promise<boolean>((resolve, reject) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', port: httpsPort, servername: serviceNames[0], ca: caBundle },
        () => {
          resolve(socket.authorized);
          socket.end();
        },
      );
      socket.once('error', reject);
    });
    expect(authorized).toBe(true);
    expect(webhook.logs()).not.toMatch(/forbidden/i);
  });

  it('keeps the injected caBundle across helm upgrade, and helm uninstall removes the Issuers and Certificates', async () => {
    await helmOk([
      'upgrade',
      release3,
      chartDir,
      '--namespace',
      ns3,
      '--reuse-values',
      '--set',
      'controller.auditInterval=5m',
    ]);
    for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
      expect(
        pemOf((await getJson<WebhookConfiguration>(['get', kind, full3])).webhooks[0]?.clientConfig.caBundle),
        kind,
      ).toBe(issued.caPem);
    }
    await helmOk(['uninstall', release3, '--namespace', ns3]);
    expect(
      (
        await kubectlOk([
          'get',
          'certificates.cert-manager.io,issuers.cert-manager.io',
          '-n',
          ns3,
          '-o',
          'name',
        ])
      ).trim(),
    ).toBe('');
    expect(certManager?.exitCode).toBeNull();
  });
  it('uses an existing ClusterIssuer given in certManager.issuerRef, and creates no Issuer of its own', async () => {
    // An organisation's CA as a ClusterIssuer: a self-signed root kept in the cluster resource namespace.
    const issuer = (name: string, spec: object) => ({
      apiVersion: 'cert-manager.io/v1',
      kind: 'ClusterIssuer',
      metadata: { name },
      spec,
    });
    await kubectlOk(
      ['apply', '-f', '-'],
      [
        issuer(`${release3}-selfsigned`, { selfSigned: {} }),
        {
          apiVersion: 'cert-manager.io/v1',
          kind: 'Certificate',
          metadata: { name: 'org-root', namespace: resourceNs },
          spec: {
            isCA: true,
            commonName: `org root ${id3}`,
            secretName: 'org-root',
            privateKey: { algorithm: 'ECDSA', size: 256 },
            issuerRef: { name: `${release3}-selfsigned`, kind: 'ClusterIssuer', group: 'cert-manager.io' },
          },
        },
        issuer(`${release3}-ca`, { ca: { secretName: 'org-root' } }),
      ]
        .map((o) => yaml.dump(o))
        .join('---\n'),
    );
    const release = `${release3}-ci`;
    const ns = `${ns3}-ci`;
    const full = `${release}-modelgate`;
    await helmOk([
      'install',
      release,
      chartDir,
      '--namespace',
      ns,
      '--create-namespace',
      '--set',
      'certManager.enabled=true',
      '--set-json',
      `certManager.issuerRef={"name":"${release3}-ca","kind":"ClusterIssuer"}`,
      '--set-json',
      `webhook.namespaceSelector={"matchLabels":{"${selectorLabel}":"${id3}-ci"}}`,
    ]);
    expect((await kubectlOk(['get', 'issuers.cert-manager.io', '-n', ns, '-o', 'name'])).trim()).toBe('');
    await until(
      'Certificate Ready',
      async () => {
        const c = await getJson<{ status?: { conditions?: { type: string; status: string }[] } }>([
          'get',
          'certificate',
          `${full}-webhook`,
          '-n',
          ns,
        ]);
        return c.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')
          ? true
          : undefined;
      },
      certManagerProcess(),
      120_000,
    );
    const secret = await getJson<{ data: Record<string, string> }>([
      'get',
      'secret',
      `${full}-webhook-tls`,
      '-n',
      ns,
    ]);
    const orgCa = new X509Certificate(pemOf(secret.data['ca.crt']));
    expect(orgCa.subject).toBe(`CN=org root ${id3}`);
    expect(new X509Certificate(pemOf(secret.data['tls.crt'])).checkIssued(orgCa)).toBe(true);
    const caBundle = await until(
      'caBundle',
      async () =>
        (await getJson<WebhookConfiguration>(['get', 'validatingwebhookconfiguration', full])).webhooks[0]
          ?.clientConfig.caBundle,
      certManagerProcess(),
      60_000,
    );
    expect(pemOf(caBundle)).toBe(pemOf(secret.data['ca.crt']));
  });
});
