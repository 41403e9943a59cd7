// The Helm chart, rendered by the real helm: lint, defaults, each important option, and the
// safety properties DESIGN.md §6 asks for (exemptions, fail-closed values, pod security, RBAC).
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { RESOURCE_OF, SUPPORTED_KINDS } from '../../src/workloads/kinds.ts';
import {
  chartDir,
  findHelm,
  release,
  render,
  runHelm,
  template,
  type Binding,
  type Container,
  type Deployment,
  type K8sObject,
  type PolicyRule,
  type Rendered,
  type Role,
  type Service,
  type WebhookConfiguration,
} from './render.ts';

const chart = yaml.load(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as {
  version: string;
  appVersion: string;
};
const pkg = JSON.parse(readFileSync(join(chartDir, '..', '..', 'package.json'), 'utf8')) as {
  version: string;
};

const webhookName = `${release.name}-modelgate-webhook`;
const controllerName = `${release.name}-modelgate-controller`;
const configName = `${release.name}-modelgate`;
const tlsSecret = `${release.name}-modelgate-webhook-tls`;

function containersOf(d: Deployment): Container[] {
  return [...d.spec.template.spec.containers, ...(d.spec.template.spec.initContainers ?? [])];
}

function argValue(c: Container, flag: string): string | undefined {
  const prefix = `--${flag}=`;
  return c.args?.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

let defaults: Rendered;

beforeAll(() => {
  findHelm(); // fails first, with the build command, when helm is missing
  defaults = render();
});

describe('chart metadata', () => {
  it('passes helm lint --strict with default values and with every option on', () => {
    for (const extra of [
      [],
      [
        '--set',
        'certManager.enabled=true,metrics.serviceMonitor.enabled=true,metrics.prometheusRule.enabled=true',
      ],
    ]) {
      const result = runHelm(['lint', '--strict', chartDir, '--namespace', release.namespace, ...extra]);
      expect(result.stderr + result.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
      expect(result.code).toBe(0);
    }
  });

  it('documents every value in the chart README', () => {
    const readme = readFileSync(join(chartDir, 'README.md'), 'utf8');
    const values = yaml.load(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const opaque = new Set(['resources', 'podSecurityContext', 'containerSecurityContext']);
    const keys: string[] = [];
    const walk = (o: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(o)) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0 && !opaque.has(k))
          walk(v as Record<string, unknown>, key);
        else keys.push(key);
      }
    };
    walk(values, '');
    expect(keys.length).toBeGreaterThan(50);
    expect(keys.filter((k) => !readme.includes(`| \`${k}\` |`))).toEqual([]);
  });

  it('packages into a chart archive that renders exactly like the directory (no symlinks, nothing ignored by mistake)', () => {
    const out = mkdtempSync(join(tmpdir(), 'modelgate-package-'));
    const pack = runHelm(['package', chartDir, '--destination', out]);
    expect(pack.code, pack.stderr).toBe(0);
    const archive = join(out, `modelgate-${chart.version}.tgz`);
    const args = (src: string) => [
      'template',
      release.name,
      src,
      '--namespace',
      release.namespace,
      '--include-crds',
    ];
    const fromArchive = runHelm(args(archive));
    expect(fromArchive.code, fromArchive.stderr).toBe(0);
    expect(fromArchive.stdout).toBe(runHelm(args(chartDir)).stdout);
  });

  it('lints and renders every example in ci/ (the chart-testing convention)', () => {
    const examples = readdirSync(join(chartDir, 'ci')).filter((f) => f.endsWith('-values.yaml'));
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const file of examples) {
      const values = join(chartDir, 'ci', file);
      const lint = runHelm([
        'lint',
        '--strict',
        chartDir,
        '--namespace',
        release.namespace,
        '--values',
        values,
      ]);
      expect(lint.code, `${file}: ${lint.stdout}${lint.stderr}`).toBe(0);
      const rendered = runHelm([
        'template',
        release.name,
        chartDir,
        '--namespace',
        release.namespace,
        '--values',
        values,
      ]);
      expect(rendered.code, `${file}: ${rendered.stderr}`).toBe(0);
    }
  });

  it('ships the application version of package.json', () => {
    expect(chart.appVersion).toBe(pkg.version);
  });

  it('gives every object the standard labels and every namespaced object the release namespace', () => {
    const clusterScoped = new Set([
      'CustomResourceDefinition',
      'ClusterRole',
      'ClusterRoleBinding',
      'ValidatingWebhookConfiguration',
      'MutatingWebhookConfiguration',
    ]);
    for (const o of defaults.objects) {
      if (o.kind === 'CustomResourceDefinition') continue;
      expect(o.metadata.labels?.['app.kubernetes.io/instance'], `${o.kind}/${o.metadata.name}`).toBe(
        release.name,
      );
      expect(o.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
      expect(o.metadata.name.length).toBeLessThanOrEqual(63);
      if (clusterScoped.has(o.kind)) expect(o.metadata.namespace).toBeUndefined();
      else expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(release.namespace);
    }
  });

  it('renders the expected set of objects with default values', () => {
    const kinds = defaults.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        'CustomResourceDefinition/clustermodelpolicies.modelgate.io',
        'CustomResourceDefinition/modelpolicies.modelgate.io',
        `ClusterRole/${configName}-controller`,
        `ClusterRole/${configName}-edit`,
        `ClusterRole/${configName}-view`,
        `ClusterRole/${configName}-webhook`,
        `ClusterRoleBinding/${configName}-controller`,
        `ClusterRoleBinding/${configName}-webhook`,
        `Deployment/${controllerName}`,
        `Deployment/${webhookName}`,
        `MutatingWebhookConfiguration/${configName}`,
        `PodDisruptionBudget/${webhookName}`,
        `Role/${controllerName}`,
        `Role/${webhookName}`,
        `RoleBinding/${controllerName}`,
        `RoleBinding/${webhookName}`,
        `Secret/${tlsSecret}`,
        `Service/${controllerName}-metrics`,
        `Service/${webhookName}`,
        `Service/${webhookName}-metrics`,
        `ServiceAccount/${controllerName}`,
        `ServiceAccount/${webhookName}`,
        `ValidatingWebhookConfiguration/${configName}`,
      ].sort(),
    );
  });
});

describe('pod security', () => {
  it('runs every container non-root, read-only, without capabilities, with RuntimeDefault seccomp', () => {
    for (const d of defaults.all('Deployment') as Deployment[]) {
      const pod = d.spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      for (const c of containersOf(d)) {
        expect(c.securityContext, `${d.metadata.name}/${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect((c.securityContext?.capabilities as { add?: unknown }).add).toBeUndefined();
        // Requests for scheduling, a memory limit against leaks; the V8 heap sits below it.
        expect(c.resources?.requests?.cpu).toBeDefined();
        expect(c.resources?.requests?.memory).toBeDefined();
        // The controller's limit comes from its measured sizing (docs/operations.md), with a small young
        // generation; the webhook's from its own.
        const controller = d.metadata.name === controllerName;
        expect(c.resources?.limits?.memory).toBe(controller ? '256Mi' : '512Mi');
        expect(c.env?.find((e) => e.name === 'NODE_OPTIONS')?.value).toBe(
          controller ? '--max-old-space-size=192 --max-semi-space-size=4' : '--max-old-space-size=384',
        );
        expect(c.livenessProbe).toBeDefined();
        expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
      }
      expect(pod.hostNetwork).toBeUndefined();
    }
  });

  it('keeps the webhook available: 2 replicas, spread over nodes, a PDB, no surge-less rollout', () => {
    const d = defaults.get<Deployment>('Deployment', webhookName);
    expect(d.spec.replicas).toBe(2);
    expect(d.spec).toMatchObject({ strategy: { rollingUpdate: { maxUnavailable: 0 } } });
    const anti = d.spec.template.spec.affinity?.podAntiAffinity as {
      preferredDuringSchedulingIgnoredDuringExecution: {
        podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } };
      }[];
    };
    const term = anti.preferredDuringSchedulingIgnoredDuringExecution[0]?.podAffinityTerm;
    expect(term?.topologyKey).toBe('kubernetes.io/hostname');
    expect(term?.labelSelector.matchLabels).toEqual(d.spec.selector.matchLabels);
    const pdb = defaults.get<K8sPdb>('PodDisruptionBudget', webhookName);
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: d.spec.selector.matchLabels } });
    expect(defaults.find('PodDisruptionBudget', controllerName)).toBeUndefined();
    expect(d.spec.template.spec.priorityClassName).toBeUndefined();
  });

  it('drops the PDB with one replica (it would block every drain) and warns in NOTES', () => {
    const r = render({ webhook: { replicas: 1 } });
    expect(r.get<Deployment>('Deployment', webhookName).spec.replicas).toBe(1);
    expect(r.all('PodDisruptionBudget')).toEqual([]);
    expect(r.notes).toMatch(/WARNING: webhook.replicas is 1/);
  });

  it('refuses a PDB that would block every drain (minAvailable >= replicas)', () => {
    const result = template({ webhook: { replicas: 2, podDisruptionBudget: { minAvailable: 2 } } });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'webhook.podDisruptionBudget.minAvailable (2) must be below webhook.replicas (2)',
    );
    expect(
      render({ webhook: { replicas: 3, podDisruptionBudget: { minAvailable: 2 } } }).get<K8sPdb>(
        'PodDisruptionBudget',
        webhookName,
      ).spec,
    ).toMatchObject({ minAvailable: 2 });
  });

  it('applies priorityClassName, hard anti-affinity, hostNetwork and a controller PDB when asked', () => {
    const r = render({
      webhook: { priorityClassName: 'system-cluster-critical', podAntiAffinity: 'hard', hostNetwork: true },
      controller: { replicas: 2 },
    });
    const pod = r.get<Deployment>('Deployment', webhookName).spec.template.spec;
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(pod.affinity?.podAntiAffinity).toHaveProperty('requiredDuringSchedulingIgnoredDuringExecution');
    expect(pod.hostNetwork).toBe(true);
    expect(pod).toMatchObject({ dnsPolicy: 'ClusterFirstWithHostNet' });
    expect(r.find('PodDisruptionBudget', controllerName)).toBeDefined();
  });
});

interface K8sPdb {
  spec: unknown;
}

describe('webhook configurations', () => {
  const exempt = ['kube-system', 'kube-node-lease', 'kube-public', release.namespace];

  it('validates through the webhook Service, with rules left to the controller (none on a fresh install)', () => {
    const v = defaults.get<WebhookConfiguration>('ValidatingWebhookConfiguration', configName);
    expect(v.webhooks).toHaveLength(2);
    expect(v.webhooks[0]).toEqual({
      name: 'validate.modelgate.io',
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      matchPolicy: 'Equivalent',
      failurePolicy: 'Fail',
      timeoutSeconds: 10,
      clientConfig: {
        service: { name: webhookName, namespace: release.namespace, path: '/validate', port: 443 },
      },
      namespaceSelector: expect.any(Object),
      // No rules and no caBundle: the controller sets the rules to the kinds policies select and the
      // caBundle to its CA in one write, so nothing reaches (or fails closed on) the webhook before it
      // can answer, and no re-apply of the manifest can reset what it wrote.
    });
    // The policies themselves: static rules, and Ignore on failure so a webhook outage never blocks a fix.
    expect(v.webhooks[1]).toEqual({
      name: 'policies.modelgate.io',
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      matchPolicy: 'Equivalent',
      failurePolicy: 'Ignore',
      timeoutSeconds: 10,
      clientConfig: {
        service: { name: webhookName, namespace: release.namespace, path: '/validate', port: 443 },
      },
      rules: [
        {
          apiGroups: ['modelgate.io'],
          apiVersions: ['v1alpha1'],
          resources: ['clustermodelpolicies', 'modelpolicies'],
          operations: ['CREATE', 'UPDATE'],
          scope: '*',
        },
      ],
    });
  });

  it('injects the verifier through the mutating webhook, re-invoked after other mutators', () => {
    const m = defaults.get<WebhookConfiguration>('MutatingWebhookConfiguration', configName);
    expect(m.webhooks).toHaveLength(1);
    expect(m.webhooks[0]).toEqual({
      name: 'mutate.modelgate.io',
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      matchPolicy: 'Equivalent',
      failurePolicy: 'Fail',
      timeoutSeconds: 10,
      reinvocationPolicy: 'IfNeeded',
      clientConfig: {
        service: { name: webhookName, namespace: release.namespace, path: '/mutate', port: 443 },
      },
      namespaceSelector: expect.any(Object),
    });
  });

  it('exempts the control-plane namespaces and its own, by the immutable name label', () => {
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      const hook = defaults.get<WebhookConfiguration>(kind, configName).webhooks[0]!;
      expect(hook.namespaceSelector).toEqual({
        matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: exempt }],
      });
      expect(hook.objectSelector).toBeUndefined();
    }
  });

  it('adds excluded namespaces and selector terms without losing the built-in exemptions', () => {
    const r = render({
      webhook: {
        excludedNamespaces: ['gpu-operator', 'kube-system'],
        namespaceSelector: {
          matchLabels: { 'modelgate.io/enforce': 'true' },
          matchExpressions: [{ key: 'team', operator: 'Exists' }],
        },
        objectSelector: { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['legacy'] }] },
      },
    });
    const hook = r.get<WebhookConfiguration>('ValidatingWebhookConfiguration', configName).webhooks[0]!;
    expect(hook.namespaceSelector).toEqual({
      matchLabels: { 'modelgate.io/enforce': 'true' },
      matchExpressions: [
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [...exempt, 'gpu-operator'] },
        { key: 'team', operator: 'Exists' },
      ],
    });
    expect(hook.objectSelector).toEqual({
      matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['legacy'] }],
    });
  });

  it('exempts whatever namespace the release is installed in', () => {
    const r = render({}, ['--namespace', 'security-tools']);
    const hook = r.get<WebhookConfiguration>('ValidatingWebhookConfiguration', configName).webhooks[0]!;
    expect(hook.namespaceSelector.matchExpressions?.[0]?.values).toContain('security-tools');
    expect(hook.clientConfig.service.namespace).toBe('security-tools');
  });

  it('makes failurePolicy and timeoutSeconds explicit values (fail open on request)', () => {
    const r = render({
      webhook: {
        failurePolicy: 'Ignore',
        timeoutSeconds: 5,
        mutating: { failurePolicy: 'Ignore', timeoutSeconds: 3, reinvocationPolicy: 'Never' },
      },
    });
    expect(r.get<WebhookConfiguration>('ValidatingWebhookConfiguration').webhooks[0]).toMatchObject({
      failurePolicy: 'Ignore',
      timeoutSeconds: 5,
    });
    expect(r.get<WebhookConfiguration>('MutatingWebhookConfiguration').webhooks[0]).toMatchObject({
      failurePolicy: 'Ignore',
      timeoutSeconds: 3,
      reinvocationPolicy: 'Never',
    });
    expect(r.notes).toMatch(/fail open/);
    expect(defaults.notes).toMatch(/fail closed/);
    expect(defaults.notes).toContain(`kubectl delete validatingwebhookconfiguration ${configName}`);
  });

  it('can leave out the mutating webhook (and tells the controller)', () => {
    const r = render({ webhook: { mutating: { enabled: false } } });
    expect(r.all('MutatingWebhookConfiguration')).toEqual([]);
    const c = r.get<Deployment>('Deployment', controllerName).spec.template.spec.containers[0]!;
    expect(argValue(c, 'mutating-webhook')).toBe(''); // "none"; omitted, the binary would default to "modelgate"
    expect(argValue(c, 'validating-webhook')).toBe(configName);
  });

  it('exposes the webhook on 443 -> the HTTPS container port, and metrics on their own Services', () => {
    const svc = defaults.get<Service>('Service', webhookName);
    expect(svc.spec.ports).toEqual([{ name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }]);
    const d = defaults.get<Deployment>('Deployment', webhookName);
    expect(svc.spec.selector).toEqual(d.spec.selector.matchLabels);
    expect(d.spec.template.spec.containers[0]?.ports).toEqual([
      { name: 'https', containerPort: 9443, protocol: 'TCP' },
      { name: 'metrics', containerPort: 8080, protocol: 'TCP' },
    ]);
    expect(defaults.get<Service>('Service', `${webhookName}-metrics`).spec.ports[0]).toMatchObject({
      port: 8080,
      targetPort: 'metrics',
    });
    expect(defaults.get<Service>('Service', `${controllerName}-metrics`).spec.ports[0]).toMatchObject({
      port: 8081,
      targetPort: 'metrics',
    });
  });
});

describe('containers', () => {
  it('runs the webhook with its TLS files, ports, verifier image and log level', () => {
    const d = defaults.get<Deployment>('Deployment', webhookName);
    const c = d.spec.template.spec.containers[0]!;
    expect(c.image).toBe(`ghcr.io/modelgate/modelgate:${chart.appVersion}`);
    expect(c.args).toEqual([
      'webhook',
      '--tls-cert-file=/etc/modelgate/tls/tls.crt',
      '--tls-private-key-file=/etc/modelgate/tls/tls.key',
      '--port=9443',
      '--metrics-port=8080',
      `--controller-namespace=${release.namespace}`,
      `--verifier-image=ghcr.io/modelgate/modelgate:${chart.appVersion}`,
      '--log-level=info',
    ]);
    expect(c.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/modelgate/tls', readOnly: true });
    // The serving pair only: never the CA key the controller keeps in the same Secret.
    expect(d.spec.template.spec.volumes).toContainEqual({
      name: 'tls',
      secret: {
        secretName: tlsSecret,
        items: [
          { key: 'tls.crt', path: 'tls.crt' },
          { key: 'tls.key', path: 'tls.key' },
        ],
      },
    });
    expect(d.spec.template.spec.serviceAccountName).toBe(webhookName);
  });

  it('runs the controller leader-elected, pointed at the chart-owned names', () => {
    const d = defaults.get<Deployment>('Deployment', controllerName);
    const c = d.spec.template.spec.containers[0]!;
    expect(d.spec.replicas).toBe(1);
    expect(c.args).toEqual([
      'controller',
      `--namespace=${release.namespace}`,
      '--metrics-port=8081',
      `--lease-name=${controllerName}`,
      `--webhook-service=${webhookName}`,
      `--webhook-secret=${tlsSecret}`,
      `--validating-webhook=${configName}`,
      `--mutating-webhook=${configName}`,
      '--audit-interval=10m',
      `--verifier-image=ghcr.io/modelgate/modelgate:${chart.appVersion}`,
      '--log-level=info',
      '--oci-pull-secrets=true',
      '--oci-scan-dir=/var/run/modelgate/scan',
      '--oci-scan-max-layer-bytes=32212254720',
    ]);
    expect(d.spec.template.spec.serviceAccountName).toBe(controllerName);
    const off = render({ controller: { leaderElection: { enabled: false } } }).get<Deployment>(
      'Deployment',
      controllerName,
    );
    expect(off.spec.template.spec.containers[0]?.args).toContain('--leader-elect=false');
  });

  it('pins images by digest, and lets the verifier use its own image', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const r = render({
      image: { repository: 'registry.example.com/mg', tag: '9.9.9', digest, pullPolicy: 'Always' },
      verifier: { image: { repository: 'registry.example.com/mg-verifier', tag: '1.2.3' } },
      imagePullSecrets: [{ name: 'regcred' }],
      logLevel: 'debug',
    });
    for (const name of [webhookName, controllerName]) {
      const d = r.get<Deployment>('Deployment', name);
      expect(d.spec.template.spec.containers[0]).toMatchObject({
        image: `registry.example.com/mg@${digest}`,
        imagePullPolicy: 'Always',
      });
      expect(d.spec.template.spec).toMatchObject({ imagePullSecrets: [{ name: 'regcred' }] });
      expect(argValue(d.spec.template.spec.containers[0]!, 'log-level')).toBe('debug');
    }
    const webhook = r.get<Deployment>('Deployment', webhookName).spec.template.spec.containers[0]!;
    expect(argValue(webhook, 'verifier-image')).toBe('registry.example.com/mg-verifier:1.2.3');
    // The controller counts only results of the verifier the webhook injects.
    const ctl = r.get<Deployment>('Deployment', controllerName).spec.template.spec.containers[0]!;
    expect(argValue(ctl, 'verifier-image')).toBe('registry.example.com/mg-verifier:1.2.3');
    const tagOnly = render({ image: { tag: '0.2.0' }, verifier: { image: { digest } } });
    const w2 = tagOnly.get<Deployment>('Deployment', webhookName).spec.template.spec.containers[0]!;
    expect(w2.image).toBe('ghcr.io/modelgate/modelgate:0.2.0');
    expect(argValue(w2, 'verifier-image')).toBe(`ghcr.io/modelgate/modelgate@${digest}`);
  });

  it('sizes the V8 heap from the memory limit, and leaves it alone without one', () => {
    const r = render({
      webhook: { resources: { limits: { memory: '1Gi' } } },
      controller: { resources: { limits: null, requests: { cpu: '10m' } } },
    });
    const env = (name: string) =>
      r.get<Deployment>('Deployment', name).spec.template.spec.containers[0]!.env ?? [];
    expect(env(webhookName)).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-old-space-size=768' });
    expect(env(controllerName)).toContainEqual({ name: 'NODE_OPTIONS', value: '--max-semi-space-size=4' });
  });

  it('appends extra flags and environment', () => {
    const r = render({ webhook: { extraArgs: ['--foo=bar'], extraEnv: [{ name: 'X', value: '1' }] } });
    const c = r.get<Deployment>('Deployment', webhookName).spec.template.spec.containers[0]!;
    expect(c.args?.at(-1)).toBe('--foo=bar');
    expect(c.env).toContainEqual({ name: 'X', value: '1' });
  });
});

describe('TLS', () => {
  it('self-managed: the chart creates an empty Secret for the controller to fill (no data: upgrades keep the certificate)', () => {
    const s = defaults.get<K8sObject & { type: string; data?: unknown }>('Secret', tlsSecret);
    expect(s.type).toBe('Opaque');
    expect(s.data).toBeUndefined();
    expect(defaults.objects.filter((o) => o.apiVersion.startsWith('cert-manager.io'))).toEqual([]);
  });

  it('cert-manager: self-signed CA, serving Certificate into the same Secret, CA injected into both webhooks', () => {
    const r = render({ certManager: { enabled: true } });
    expect(r.find('Secret', tlsSecret)).toBeUndefined();
    const cert = r.get<K8sObject & { spec: Record<string, unknown> }>('Certificate', webhookName);
    expect(cert.spec).toMatchObject({
      secretName: tlsSecret,
      dnsNames: [
        `${webhookName}.${release.namespace}.svc`,
        `${webhookName}.${release.namespace}.svc.cluster.local`,
      ],
      issuerRef: { name: `${configName}-ca`, kind: 'Issuer', group: 'cert-manager.io' },
    });
    expect(r.get<K8sObject & { spec: unknown }>('Certificate', `${configName}-root-ca`).spec).toMatchObject({
      isCA: true,
      issuerRef: { name: `${configName}-selfsigned` },
    });
    expect(
      r
        .all('Issuer')
        .map((i) => i.metadata.name)
        .sort(),
    ).toEqual([`${configName}-ca`, `${configName}-selfsigned`]);
    for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
      expect(r.get(kind).metadata.annotations).toEqual({
        'cert-manager.io/inject-ca-from': `${release.namespace}/${webhookName}`,
      });
    }
    const controller = r.get<Deployment>('Deployment', controllerName).spec.template.spec.containers[0]!;
    expect(controller.args).toContain('--cert-manager');
    // cert-manager owns the Secret: the controller gets no write access to it.
    const role = r.get<Role>('Role', controllerName);
    expect(role.rules.filter((rule) => rule.resources?.includes('secrets'))).toEqual([]);
    expect(
      defaults.get<Deployment>('Deployment', controllerName).spec.template.spec.containers[0]?.args,
    ).not.toContain('--cert-manager');
  });

  it('cert-manager with an existing issuer creates no CA of its own', () => {
    const r = render({
      certManager: { enabled: true, issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } },
    });
    expect(r.all('Issuer')).toEqual([]);
    expect(r.all('Certificate')).toHaveLength(1);
    expect(r.get<K8sObject & { spec: unknown }>('Certificate').spec).toMatchObject({
      issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' },
    });
  });
});

describe('RBAC', () => {
  const roles = () => [...defaults.all('ClusterRole'), ...defaults.all('Role')] as Role[];

  it('uses no wildcard and no privilege-escalating verb anywhere', () => {
    for (const role of roles()) {
      for (const rule of role.rules) {
        const where = `${role.kind}/${role.metadata.name}`;
        expect(rule.verbs, where).not.toContain('*');
        expect(rule.resources ?? [], where).not.toContain('*');
        expect(rule.apiGroups ?? [], where).not.toContain('*');
        expect(rule.nonResourceURLs, where).toBeUndefined();
        for (const verb of ['escalate', 'bind', 'impersonate']) expect(rule.verbs, where).not.toContain(verb);
        for (const sub of ['pods/exec', 'pods/attach', 'serviceaccounts/token', 'nodes/proxy'])
          expect(rule.resources ?? [], where).not.toContain(sub);
      }
    }
  });

  it('gives the webhook read-only access', () => {
    const role = defaults.get<Role>('ClusterRole', `${configName}-webhook`);
    for (const rule of role.rules) expect(rule.verbs).toEqual(['get', 'list', 'watch']);
    const readable = role.rules.flatMap((r) => r.resources ?? []);
    for (const res of [
      'clustermodelpolicies',
      'modelpolicies',
      'namespaces',
      'configmaps',
      'secrets',
      'runtimeclasses',
    ])
      expect(readable).toContain(res);
    expect(defaults.get<Binding>('ClusterRoleBinding', `${configName}-webhook`).subjects).toEqual([
      { kind: 'ServiceAccount', name: webhookName, namespace: release.namespace },
    ]);
    // Its one write: OCI evidence requests (ConfigMaps) in its own namespace, for the controller.
    expect(defaults.get<Role>('Role', webhookName).rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
    ]);
    expect(
      render({ ociEvidence: { enabled: false } }).objects.map((o) => `${o.kind}/${o.metadata.name}`),
    ).not.toContain(`Role/${webhookName}`);
  });

  it('OCI evidence: the controller scans into a sized emptyDir, reads its own registry credential from a Secret', () => {
    const r = render({
      ociEvidence: {
        registryCredentialsSecret: 'regcred',
        insecureRegistries: ['10.0.0.5:5000'],
        scan: { sizeLimit: '8Gi' },
      },
    });
    const d = r.get<Deployment>('Deployment', controllerName);
    const c = d.spec.template.spec.containers[0]!;
    expect(c.args).toEqual(
      expect.arrayContaining([
        '--insecure-registry=10.0.0.5:5000',
        '--registry-credentials=/etc/modelgate/registry/.dockerconfigjson',
      ]),
    );
    expect(JSON.stringify(d.spec.template.spec)).toMatch(/"sizeLimit":"8Gi"/);
    expect(JSON.stringify(d.spec.template.spec)).toMatch(/"secretName":"regcred"/);
    const off = render({ ociEvidence: { enabled: false } }).get<Deployment>('Deployment', controllerName);
    expect(off.spec.template.spec.containers[0]?.args).toContain('--oci-evidence=false');
  });

  const writeVerbs = ['create', 'update', 'patch', 'delete', 'deletecollection'];
  const writes = (rules: PolicyRule[], resource: string) =>
    rules.filter((r) => r.resources?.includes(resource) && r.verbs.some((v) => writeVerbs.includes(v)));

  it('lets the controller write Secrets only to its own TLS Secret, in its namespace', () => {
    const cluster = defaults.get<Role>('ClusterRole', `${configName}-controller`);
    expect(writes(cluster.rules, 'secrets')).toEqual([]);
    const ns = defaults.get<Role>('Role', controllerName);
    expect(writes(ns.rules, 'secrets')).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: [tlsSecret], verbs: ['get', 'update'] },
    ]);
    for (const role of roles()) {
      if (role.metadata.name === controllerName && role.kind === 'Role') continue;
      expect(writes(role.rules, 'secrets'), role.metadata.name).toEqual([]);
    }
  });

  it('lets the controller write only status, events, reports, its lease and its own webhook configurations', () => {
    const cluster = defaults.get<Role>('ClusterRole', `${configName}-controller`);
    const written = cluster.rules
      .filter((r) => r.verbs.some((v) => writeVerbs.includes(v)))
      .flatMap((r) => r.resources ?? [])
      .sort();
    expect(written).toEqual(
      [
        'clustermodelpolicies/status',
        'events',
        'modelpolicies/status',
        'mutatingwebhookconfigurations',
        'policyreports',
        'reports',
        'validatingwebhookconfigurations',
      ].sort(),
    );
    for (const res of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations']) {
      const w = writes(cluster.rules, res);
      expect(w).toEqual([
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations'],
          resourceNames: [configName],
          verbs: ['update'],
        },
      ]);
    }
    for (const r of cluster.rules.filter((r) => r.resources?.some((x) => x.endsWith('/status'))))
      expect(r.verbs).not.toContain('create');
    const ns = defaults.get<Role>('Role', controllerName);
    expect(ns.rules).toContainEqual({
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      resourceNames: [controllerName],
      verbs: ['get', 'update'],
    });
    expect(cluster.rules).toContainEqual({
      apiGroups: [''],
      resources: ['events'],
      verbs: ['create', 'list'],
    });
    expect(ns.rules).toContainEqual({
      apiGroups: ['coordination.k8s.io'],
      resources: ['leases'],
      verbs: ['create'],
    });
  });

  it('lets the controller read every audited kind', () => {
    const cluster = defaults.get<Role>('ClusterRole', `${configName}-controller`);
    for (const k of SUPPORTED_KINDS) {
      const res = RESOURCE_OF[k.kind]!;
      const rule = cluster.rules.find((r) => r.apiGroups?.includes(k.group) && r.resources?.includes(res));
      expect(rule?.verbs, `${k.group}/${res}`).toEqual(['get', 'list', 'watch']);
    }
  });

  it('aggregates namespaced ModelPolicy access into view/edit/admin, never ClusterModelPolicy', () => {
    const view = defaults.get<Role>('ClusterRole', `${configName}-view`);
    const edit = defaults.get<Role>('ClusterRole', `${configName}-edit`);
    expect(view.metadata.labels).toMatchObject({ 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
    expect(edit.metadata.labels).toMatchObject({
      'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
      'rbac.authorization.k8s.io/aggregate-to-admin': 'true',
    });
    expect(edit.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-view']).toBeUndefined();
    for (const r of [...view.rules, ...edit.rules])
      expect(r.resources?.some((x) => x.startsWith('clustermodelpolicies'))).toBe(false);
    const off = render({ rbac: { aggregateToDefaultRoles: false } });
    expect(off.find('ClusterRole', `${configName}-view`)).toBeUndefined();
  });
});

describe('monitoring', () => {
  it('ServiceMonitor selects both metrics Services and nothing else', () => {
    const r = render({
      metrics: { serviceMonitor: { enabled: true, labels: { release: 'prom' }, interval: '15s' } },
    });
    const sm = r.get<
      K8sObject & {
        spec: {
          selector: { matchLabels: Record<string, string> };
          endpoints: { port: string; interval: string }[];
        };
      }
    >('ServiceMonitor');
    expect(sm.metadata.labels?.release).toBe('prom');
    expect(sm.spec.endpoints).toEqual([
      { port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '10s' },
    ]);
    const selected = (r.all('Service') as Service[]).filter((s) =>
      Object.entries(sm.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v),
    );
    expect(selected.map((s) => s.metadata.name).sort()).toEqual([
      `${controllerName}-metrics`,
      `${webhookName}-metrics`,
    ]);
    expect(defaults.all('ServiceMonitor')).toEqual([]);
  });

  it('PrometheusRule alerts on webhook failures as the API server sees them', () => {
    const r = render({ metrics: { prometheusRule: { enabled: true } } });
    const rule = r.get<K8sObject & { spec: { groups: { rules: { alert: string; expr: string }[] }[] } }>(
      'PrometheusRule',
    );
    const alerts = rule.spec.groups.flatMap((g) => g.rules);
    expect(alerts.map((a) => a.alert)).toContain('ModelgateWebhookCallsFailing');
    expect(alerts.find((a) => a.alert === 'ModelgateWebhookCallsFailing')?.expr).toContain(
      'apiserver_admission_webhook_rejection_count',
    );
    expect(defaults.all('PrometheusRule')).toEqual([]);
  });
});

describe('network policy', () => {
  it('is off by default; when on, admits the API server to the webhook and scrapers to metrics only', () => {
    expect(defaults.all('NetworkPolicy')).toEqual([]);
    const monitoring = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
    };
    const r = render({ networkPolicy: { enabled: true, metricsFrom: [monitoring] } });
    const webhook = r.get<
      K8sObject & { spec: { podSelector: unknown; policyTypes: string[]; ingress: unknown[] } }
    >('NetworkPolicy', webhookName);
    expect(webhook.spec.podSelector).toEqual({
      matchLabels: r.get<Deployment>('Deployment', webhookName).spec.selector.matchLabels,
    });
    expect(webhook.spec.policyTypes).toEqual(['Ingress']);
    expect(webhook.spec.ingress).toEqual([
      { ports: [{ port: 'https', protocol: 'TCP' }] },
      { ports: [{ port: 'metrics', protocol: 'TCP' }], from: [monitoring] },
    ]);
    const controller = r.get<K8sObject & { spec: { ingress: unknown[] } }>('NetworkPolicy', controllerName);
    expect(controller.spec.ingress).toEqual([
      { ports: [{ port: 'metrics', protocol: 'TCP' }], from: [monitoring] },
    ]);
  });
});

describe('values.schema.json', () => {
  const rejected: [string, unknown][] = [
    ['a misspelt top-level key', { replicas: 3 }],
    ['a misspelt nested key', { webhook: { replcias: 3 } }],
    ['a lower-case failure policy', { webhook: { failurePolicy: 'fail' } }],
    ['a timeout above 30s', { webhook: { timeoutSeconds: 31 } }],
    ['zero webhook replicas', { webhook: { replicas: 0 } }],
    ['a string replica count', { webhook: { replicas: 'two' } }],
    ['an unknown log level', { logLevel: 'verbose' }],
    ['a malformed digest', { image: { digest: 'sha256:abc' } }],
    ['an unknown pull policy', { image: { pullPolicy: 'Sometimes' } }],
    ['an invalid namespace name', { webhook: { excludedNamespaces: ['Not_A_Namespace'] } }],
    ['an extra arg that is not a flag', { controller: { extraArgs: ['oops'] } }],
    ['an unknown anti-affinity mode', { webhook: { podAntiAffinity: 'always' } }],
    ['a bad audit interval', { controller: { auditInterval: 'ten minutes' } }],
    ['an unknown issuer kind', { certManager: { enabled: true, issuerRef: { name: 'x', kind: 'Vault' } } }],
    ['a malformed memory quantity', { webhook: { resources: { limits: { memory: 'lots' } } } }],
    [
      'a bad selector operator',
      { webhook: { namespaceSelector: { matchExpressions: [{ key: 'a', operator: 'Equals' }] } } },
    ],
    [
      'a misspelt network policy peer',
      { networkPolicy: { enabled: true, metricsFrom: [{ namespaceSelecter: {} }] } },
    ],
  ];
  it.each(rejected)('rejects %s', (_what, values) => {
    const result = template(values);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/values don't meet the specifications of the schema/);
  });

  it('accepts every documented option together', () => {
    expect(() =>
      render({
        global: {},
        commonLabels: { team: 'platform' },
        webhook: {
          replicas: 3,
          failurePolicy: 'Ignore',
          excludedNamespaces: ['gpu-operator'],
          podDisruptionBudget: { minAvailable: '50%' },
          resources: { requests: { cpu: 0.5, memory: '256Mi' } },
        },
        controller: { replicas: 2, auditInterval: '1h30m' },
        certManager: { enabled: true, duration: '720h', renewBefore: '240h' },
        metrics: { serviceMonitor: { enabled: true }, prometheusRule: { enabled: true } },
      }),
    ).not.toThrow();
  });
});
