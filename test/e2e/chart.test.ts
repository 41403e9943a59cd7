// The Helm chart on the real API server: `helm install` is accepted (CRDs, RBAC, webhook
// configurations), the API server really routes admission to modelgate with the chart's selectors,
// `helm upgrade` keeps what the controller wrote (rules, caBundle, certificate), and `helm uninstall`
// leaves no webhook behind. No kubelet runs here, so the modelgate pods never start: this test plays
// the controller's writes itself, and with failurePolicy Fail a selected namespace is closed, which is
// exactly what the exemption checks need.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { RESOURCE_OF, SUPPORTED_KINDS } from '../../src/workloads/kinds.ts';
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
const admitPod = (namespace: string) => cluster.kubectl(['create', '--dry-run=server', '-f', '-'], { input: pod(namespace) });

/**
 * Asks the real authorizer through a SubjectAccessReview (works for resources whose CRDs are not
 * installed, unlike `kubectl auth can-i`). `resource` is "plural[.group][/name]".
 */
async function canI(serviceAccount: string, verb: string, resource: string, namespace?: string): Promise<boolean> {
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
    clientConfig: { service: { name: string; namespace: string; path: string; port: number }; caBundle?: string };
    namespaceSelector: { matchExpressions?: { key: string; operator: string; values: string[] }[] };
    rules?: unknown[];
  }[];
}

// What the controller writes once policies select every kind and inject the verifier
// (src/controller/webhook-config.ts): one rule per API group.
const allKindsRules = [...new Set(SUPPORTED_KINDS.map((k) => k.group))].map((group) => ({
  apiGroups: [group],
  apiVersions: ['', 'apps', 'batch'].includes(group) ? ['v1'] : ['*'],
  resources: SUPPORTED_KINDS.filter((k) => k.group === group).map((k) => RESOURCE_OF[k.kind]!).sort(),
  operations: ['CREATE', 'UPDATE'],
  scope: 'Namespaced',
}));
const podRules = [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'], scope: 'Namespaced' }];

beforeAll(async () => {
  cluster = await startCluster();
  await kubectlOk(['create', 'namespace', selectedNs]);
  await kubectlOk(['label', 'namespace', selectedNs, `${selectorLabel}=${id}`]);
  await kubectlOk(['create', 'namespace', otherNs]);
});

afterAll(async () => {
  if (!cluster) return;
  await cluster.helm(['uninstall', releaseName, '--namespace', releaseNs, '--wait=false']);
  for (const ns of [releaseNs, selectedNs, otherNs]) await cluster.kubectl(['delete', 'namespace', ns, '--wait=false', '--ignore-not-found']);
});

describe('helm chart on a real API server', () => {
  it('installs with default values (plus a namespace selector that confines it to this test)', async () => {
    await helmOk([
      'install', releaseName, chartDir,
      '--namespace', releaseNs, '--create-namespace',
      '--set-json', `webhook.namespaceSelector={"matchLabels":{"${selectorLabel}":"${id}"}}`,
    ]);
    const status = JSON.parse(await helmOk(['status', releaseName, '--namespace', releaseNs, '-o', 'json'])) as { info: { status: string; notes: string } };
    expect(status.info.status).toBe('deployed');
    expect(status.info.notes).toContain(`kubectl delete validatingwebhookconfiguration ${fullname}`);
  });

  it('leaves both CRDs established', async () => {
    for (const crd of ['clustermodelpolicies.modelgate.io', 'modelpolicies.modelgate.io']) {
      const obj = await getJson<{ status: { conditions: { type: string; status: string }[] } }>(['get', 'crd', crd]);
      expect(obj.status.conditions.find((c) => c.type === 'Established')?.status).toBe('True');
    }
  });

  it('registers both webhook configurations as rendered, calling nothing until the controller sets rules', async () => {
    const validating = await getJson<WebhookConfiguration>(['get', 'validatingwebhookconfiguration', fullname]);
    expect(validating.webhooks.map((w) => w.name)).toEqual(['validate.modelgate.io']);
    expect(validating.webhooks[0]).toMatchObject({
      failurePolicy: 'Fail',
      sideEffects: 'None',
      matchPolicy: 'Equivalent',
      timeoutSeconds: 10,
      clientConfig: { service: { name: `${fullname}-webhook`, namespace: releaseNs, path: '/validate', port: 443 } },
    });
    expect(validating.webhooks[0]?.namespaceSelector.matchExpressions?.[0]?.values).toEqual(['kube-system', 'kube-node-lease', 'kube-public', releaseNs]);
    expect(validating.webhooks[0]?.rules ?? []).toEqual([]);
    const mutating = await getJson<WebhookConfiguration>(['get', 'mutatingwebhookconfiguration', fullname]);
    expect(mutating.webhooks.map((w) => w.name)).toEqual(['mutate.modelgate.io']);
    expect(mutating.webhooks[0]?.rules ?? []).toEqual([]);
    // A fresh install blocks nothing, even in a selected namespace, before the controller has run.
    const beforeController = await admitPod(selectedNs);
    expect(beforeController.code, beforeController.stderr).toBe(0);
  });

  it('accepts the rules and caBundle the controller writes', async () => {
    const ca = readFileSync(cluster.caCertPath).toString('base64');
    for (const [kind, rules] of [
      ['validatingwebhookconfiguration', allKindsRules],
      ['mutatingwebhookconfiguration', podRules],
    ] as const) {
      await kubectlOk(['patch', kind, fullname, '--type=json', '-p', JSON.stringify([
        { op: 'add', path: '/webhooks/0/rules', value: rules },
        { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: ca },
      ])]);
    }
  });

  it('routes admission in selected namespaces to modelgate (fail closed while it is down), and nowhere else', async () => {
    const denied = await admitPod(selectedNs);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/failed calling webhook "(mutate|validate)\.modelgate\.io"/);
    const notSelected = await admitPod(otherNs);
    expect(notSelected.code, notSelected.stderr).toBe(0);
    // Its own namespace is exempt even if someone labels it: the webhook must always be able to start.
    await kubectlOk(['label', 'namespace', releaseNs, `${selectorLabel}=${id}`]);
    const own = await admitPod(releaseNs);
    expect(own.code, own.stderr).toBe(0);
  });

  it('grants the least privilege the chart declares, as the real authorizer sees it', async () => {
    const controller = `${fullname}-controller`;
    const webhook = `${fullname}-webhook`;
    const tlsSecret = `secrets/${fullname}-webhook-tls`;
    expect(await canI(controller, 'update', tlsSecret, releaseNs)).toBe(true);
    expect(await canI(controller, 'update', 'secrets/something-else', releaseNs)).toBe(false);
    expect(await canI(controller, 'create', 'secrets', releaseNs)).toBe(false);
    expect(await canI(controller, 'patch', `validatingwebhookconfigurations.admissionregistration.k8s.io/${fullname}`)).toBe(true);
    expect(await canI(controller, 'patch', 'validatingwebhookconfigurations.admissionregistration.k8s.io/someone-elses')).toBe(false);
    expect(await canI(controller, 'delete', `validatingwebhookconfigurations.admissionregistration.k8s.io/${fullname}`)).toBe(false);
    expect(await canI(controller, 'patch', 'clustermodelpolicies.modelgate.io/x', undefined)).toBe(false);
    expect(await canI(controller, 'list', 'inferenceservices.serving.kserve.io')).toBe(true);
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
    await kubectlOk(['patch', 'secret', secret, '-n', releaseNs, '--type=merge', '-p', JSON.stringify({ data: { 'tls.crt': ca, 'tls.key': 'a2V5', 'ca.crt': ca } })]);
    await helmOk(['upgrade', releaseName, chartDir, '--namespace', releaseNs, '--reuse-values', '--set', 'controller.auditInterval=5m']);
    for (const [kind, rules] of [
      ['validatingwebhookconfiguration', allKindsRules],
      ['mutatingwebhookconfiguration', podRules],
    ] as const) {
      const obj = await getJson<WebhookConfiguration>(['get', kind, fullname]);
      expect(obj.webhooks[0]?.clientConfig.caBundle, kind).toBe(ca);
      expect(obj.webhooks[0]?.rules, kind).toEqual(rules);
    }
    const after = await getJson<{ data?: Record<string, string> }>(['get', 'secret', secret, '-n', releaseNs]);
    expect(after.data?.['tls.crt']).toBe(ca);
    const deployment = await getJson<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>(['get', 'deployment', `${fullname}-controller`, '-n', releaseNs]);
    expect(deployment.spec.template.spec.containers[0]?.args).toContain('--audit-interval=5m');
  });

  it('rejects a values typo at install time', async () => {
    const result = await cluster.helm(['upgrade', releaseName, chartDir, '--namespace', releaseNs, '--reuse-values', '--set', 'webhook.failurPolicy=Ignore']);
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
    expect(admitted.code, admitted.stderr).toBe(0);
    // Nothing cluster-scoped is left behind but the CRDs (Helm never deletes those: they hold user data).
    for (const kind of ['clusterrole', 'clusterrolebinding']) {
      const left = await cluster.kubectl(['get', kind, '-l', `app.kubernetes.io/instance=${releaseName}`, '-o', 'name']);
      expect(left.stdout.trim(), kind).toBe('');
    }
  });
});

describe('manifests/install.yaml on a real API server', () => {
  const manifest = join(import.meta.dirname, '..', '..', 'manifests', 'install.yaml');

  it('applies server-side, and uninstalls in the documented order with no webhook left', async () => {
    // install.yaml has fixed names (namespace and release "modelgate"): leave a cluster that already
    // has them alone.
    const taken = await cluster.kubectl(['get', 'namespace/modelgate', 'validatingwebhookconfiguration/modelgate', '--ignore-not-found', '-o', 'name']);
    if (taken.stdout.trim() !== '') {
      console.warn(`[e2e] skipped install.yaml check: ${taken.stdout.trim()} already exists`);
      return;
    }
    await kubectlOk(['apply', '--server-side', '--field-manager=e2e-install', '-f', manifest]);
    const ns = await getJson<{ metadata: { labels: Record<string, string> } }>(['get', 'namespace', 'modelgate']);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    // The restricted Pod Security level admits modelgate's own pod templates (a violation would be
    // reported as a warning on the Deployments, and the ReplicaSets' pods refused).
    const deployments = await cluster.kubectl(['apply', '--server-side', '--field-manager=e2e-install', '--dry-run=server', '-f', manifest]);
    expect(deployments.code, deployments.stderr).toBe(0);
    expect(deployments.stderr).not.toMatch(/would violate PodSecurity/);
    // Re-applying is a no-op for what the controller owns: no conflict on the Secret or the rules.
    await kubectlOk(['patch', 'secret', 'modelgate-webhook-tls', '-n', 'modelgate', '--type=merge', '-p', '{"data":{"tls.crt":"Y2VydA==","tls.key":"a2V5"}}']);
    await kubectlOk(['apply', '--server-side', '--field-manager=e2e-install', '-f', manifest]);
    const secret = await getJson<{ data?: Record<string, string> }>(['get', 'secret', 'modelgate-webhook-tls', '-n', 'modelgate']);
    expect(secret.data?.['tls.crt']).toBe('Y2VydA==');
    // docs/operations.md: webhook configurations first, then everything else.
    await kubectlOk(['delete', 'validatingwebhookconfiguration', 'modelgate']);
    await kubectlOk(['delete', 'mutatingwebhookconfiguration', 'modelgate']);
    // CRDs stay (they hold every policy); the rest goes.
    const docs = (yaml.loadAll(readFileSync(manifest, 'utf8')) as { kind?: string }[]).filter((d) => d?.kind && d.kind !== 'CustomResourceDefinition');
    await kubectlOk(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], docs.map((d) => yaml.dump(d)).join('---\n'));
    const left = await cluster.kubectl(['get', 'validatingwebhookconfigurations,mutatingwebhookconfigurations,clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/instance=modelgate', '-o', 'name']);
    expect(left.stdout.trim()).toBe('');
  });
});
