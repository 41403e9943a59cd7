// End to end: the real kube-apiserver calls modelgate's webhook for a deployer's `kubectl apply`, once for
// each way modelgate runs: as local processes registered by URL, and installed as a user installs it
// (helm install of charts/modelgate with the image built here; webhook and controller pods on the real
// node; the API server calls the webhook through its Service).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeNamespace, startLocalModelgate } from '../../scripts/demo/local-modelgate.ts';
import { installInClusterModelgate } from '../../scripts/demo/in-cluster-modelgate.ts';
import { repoRoot } from '../../scripts/cluster/control-plane.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { eventually } from './eventually.ts';

const EX = join(repoRoot, 'examples');
const NS = 'ml-prod';
const SNP = 'feature.node.kubernetes.io/cpu-security.sev.snp.enabled';
let cluster: Cluster;

/** What the tests need from an installation: the failure-policy test stops and restarts the webhook. */
interface Installation {
  stopWebhook(): Promise<void>;
  startWebhook(): Promise<void>;
  stop(): Promise<void>;
}

const installations: { name: string; install: (c: Cluster) => Promise<Installation> }[] = [
  {
    name: 'modelgate as local processes',
    install: async (c) =>
      startLocalModelgate(c, { name: 'modelgate-e2e', failurePolicy: 'Fail', timeoutSeconds: 5 }),
  },
  {
    name: 'modelgate installed with helm (pods on the real node, called through its Service)',
    install: async (c) => {
      const mg = await installInClusterModelgate(c, {
        release: 'mg-admission',
        namespace: 'mg-admission',
        set: ['webhook.timeoutSeconds=5'],
      });
      return { stopWebhook: mg.stopWebhook, startWebhook: mg.startWebhook, stop: mg.uninstall };
    },
  },
];

const example = (file: string) => readFileSync(join(EX, file), 'utf8');
const apply = (manifest: string, ...flags: string[]) =>
  cluster.kubectl(['apply', ...flags, '-f', '-'], { input: manifest });

async function podsOf(app: string): Promise<Record<string, unknown>[]> {
  const r = await cluster.kubectl(['get', 'pods', '-n', NS, '-l', `app=${app}`, '-o', 'json']);
  return r.code === 0 ? ((JSON.parse(r.stdout) as { items: Record<string, unknown>[] }).items ?? []) : [];
}

describe.each(installations)('admission through the real API server: $name', ({ install }) => {
  let mg: Installation;

  beforeAll(async () => {
    cluster = await startCluster();
    await removeNamespace(cluster, NS);
    mg = await install(cluster);
    expect((await apply(example('cluster.yaml'))).code).toBe(0);
    expect((await apply(example('policies/production-models.yaml'))).code).toBe(0);
    // The webhook learns the policy through its informers: wait until it enforces it.
    await eventually('the policy to be enforced', async () => {
      const r = await apply(example('workloads/unpinned-model.yaml'), '--dry-run=server');
      return r.code !== 0 ? r : undefined;
    });
  }, 900_000);

  afterAll(async () => {
    if (cluster) await removeNamespace(cluster, NS);
    await cluster?.kubectl(['delete', 'clustermodelpolicy', '--all']);
    await mg?.stop();
  });

  it("rejects an unpinned model from an unvetted source with modelgate's message", async () => {
    const r = await apply(example('workloads/unpinned-model.yaml'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('admission webhook "validate.modelgate.io" denied the request');
    expect(r.stderr).toContain('hf://random-user/llama-finetune:main');
    expect(r.stderr).toMatch(/not from an allowed source.*Fix:/);
    expect((await cluster.kubectl(['get', 'deployment', 'chat-unpinned', '-n', NS])).code).not.toBe(0);
  });

  it('--dry-run=server gives the same answer and creates nothing', async () => {
    const r = await apply(example('workloads/tampered-model.yaml'), '--dry-run=server');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('is for model digest sha256:92745110');
    const ok = await apply(example('workloads/signed-model.yaml'), '--dry-run=server');
    expect(ok.code, ok.stderr).toBe(0);
    expect((await cluster.kubectl(['get', 'deployment', 'sentiment-signed', '-n', NS])).code).not.toBe(0);
  });

  it('admits a signed model; the controller manager creates its pods, with the verifier injected first', async () => {
    const r = await apply(example('workloads/signed-model.yaml'));
    expect(r.code, r.stderr).toBe(0);
    const [pod] = await eventually('a pod of sentiment-signed', async () => {
      const pods = await podsOf('sentiment-signed');
      return pods.length > 0 ? pods : undefined;
    });
    const spec = pod!.spec as {
      initContainers?: { name: string; args?: string[]; env?: { name: string; value?: string }[] }[];
    };
    expect(spec.initContainers?.[0]?.name).toBe('modelgate-verifier');
    const config = JSON.parse(
      spec.initContainers![0]!.env!.find((e) => e.name === 'MODELGATE_VERIFIER_CONFIG')!.value!,
    ) as {
      models: { name: string; digest?: string }[];
      authorities: { name: string }[];
    };
    expect(config.models.map((m) => [m.name, m.digest])).toEqual([
      ['sentiment', 'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4'],
    ]);
    expect(config.authorities.map((a) => a.name)).toEqual(['ml-release']);
  });

  it('a high-sensitivity model is refused on ordinary nodes and scheduled only on the confidential node', async () => {
    const bad = await apply(example('workloads/sensitive-ordinary.yaml'));
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('runtimeClassName is not set');
    expect((await apply(example('workloads/sensitive-confidential.yaml'))).code).toBe(0);
    const node = await eventually('the sensitive pod to be scheduled', async () => {
      const [pod] = await podsOf('fraud-model-confidential');
      return (pod?.spec as { nodeName?: string } | undefined)?.nodeName;
    });
    const labels = JSON.parse(
      (await cluster.kubectl(['get', 'node', node, '-o', 'jsonpath={.metadata.labels}'])).stdout,
    ) as Record<string, string>;
    expect(labels[SNP]).toBe('true');
  });

  it('Warn mode admits and kubectl prints the warnings', async () => {
    const warn = yaml.load(example('policies/production-models.yaml')) as {
      metadata: { name: string };
      spec: Record<string, unknown>;
    };
    warn.metadata.name = 'warn-only';
    warn.spec = {
      enforcement: 'Warn',
      match: { namespaceSelector: { matchLabels: { env: 'staging' } } },
      requirePinned: true,
    };
    expect((await apply(yaml.dump(warn))).code).toBe(0);
    await cluster.kubectl(['create', 'namespace', 'ml-staging']);
    await cluster.kubectl(['label', 'namespace', 'ml-staging', 'env=staging', '--overwrite']);
    const manifest = example('workloads/unpinned-model.yaml').replace(
      /namespace: ml-prod/g,
      'namespace: ml-staging',
    );
    const r = await eventually('a warning', async () => {
      const res = await apply(manifest, '--dry-run=server');
      return res.stderr.includes('Warning:') ? res : undefined;
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /Warning: \[ClusterModelPolicy\/warn-only\] pinned \(hf:\/\/random-user\/llama-finetune:main\)/,
    );
    await removeNamespace(cluster, 'ml-staging');
  });

  it('system namespaces are never blocked', async () => {
    const manifest = example('workloads/unpinned-model.yaml').replace(
      /namespace: ml-prod/g,
      'namespace: kube-system',
    );
    const r = await apply(manifest, '--dry-run=server');
    expect(r.code, r.stderr).toBe(0);
  });

  it('with the webhook down, failurePolicy Fail refuses matched workloads (fail closed) and spares exempt namespaces', async () => {
    await mg.stopWebhook();
    try {
      const r = await apply(
        example('workloads/signed-model.yaml').replace('sentiment-signed', 'sentiment-while-down'),
        '--dry-run=server',
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('failed calling webhook "validate.modelgate.io"');
      const sys = await apply(
        example('workloads/unpinned-model.yaml').replace(/namespace: ml-prod/g, 'namespace: kube-system'),
        '--dry-run=server',
      );
      expect(sys.code, sys.stderr).toBe(0);
    } finally {
      await mg.startWebhook();
    }
  });

  it('fail closed by scope: an unapproved container is refused, an approved web frontend admitted', async () => {
    const web = await apply(example('workloads/web-frontend.yaml'), '--dry-run=server');
    expect(web.code, web.stderr).toBe(0);
    const script = await apply(example('workloads/unknown-server.yaml'), '--dry-run=server');
    expect(script.code).not.toBe(0);
    expect(script.stderr).toContain('runs a sh script, which modelgate cannot read');
    expect(script.stderr).toContain('Fix: if this image loads no model, ask the platform team to approve it');
  });

  it('a debug container added to a running pod goes through the webhook (pods/ephemeralcontainers)', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-debug', namespace: NS },
      spec: {
        containers: [{ name: 'web', image: `registry.example.com/web/storefront@sha256:${'4'.repeat(64)}` }],
      },
    };
    const created = await apply(yaml.dump(pod));
    expect(created.code, created.stderr).toBe(0);
    const r = await cluster.kubectl(['replace', '--subresource=ephemeralcontainers', '-f', '-'], {
      input: JSON.stringify({
        ...pod,
        spec: {
          ...pod.spec,
          ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36', command: ['sh'] }],
        },
      }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('ephemeral container "debugger"');
    await cluster.kubectl(['delete', 'pod', '-n', NS, 'web-debug', '--wait=false']);
  });

  it('a policy that could not be enforced is refused at create (the policy webhook), a tenant ModelPolicy cannot pick the verifier (CEL)', async () => {
    const badKey = yaml.dump({
      apiVersion: 'modelgate.io/v1alpha1',
      kind: 'ClusterModelPolicy',
      metadata: { name: 'bad-key' },
      spec: {
        match: { namespaceSelector: { matchLabels: { env: 'nowhere' } } },
        authorities: [
          {
            name: 'release',
            key: { pem: '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n' },
          },
        ],
      },
    });
    const r = await apply(badKey, '--dry-run=server');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('cannot be enforced as written (TrustMaterialInvalid)');
    expect(r.stderr).toContain('spec.authorities[0] (release)');
    const tenant = await apply(
      yaml.dump({
        apiVersion: 'modelgate.io/v1alpha1',
        kind: 'ModelPolicy',
        metadata: { name: 'mine', namespace: NS },
        spec: { verifier: { inject: true, image: `evil.example.com/noop@sha256:${'e'.repeat(64)}` } },
      }),
      '--dry-run=server',
    );
    expect(tenant.code).not.toBe(0);
    expect(tenant.stderr).toContain('spec.verifier.image may be set only in a ClusterModelPolicy');
  });

  it('the API server enforces the CRD schema and CEL rules', async () => {
    const bad = (spec: object) =>
      apply(
        yaml.dump({
          apiVersion: 'modelgate.io/v1alpha1',
          kind: 'ClusterModelPolicy',
          metadata: { name: 'invalid' },
          spec,
        }),
        '--dry-run=server',
      );
    const cases: [object, string][] = [
      [{ enforcement: 'Block' }, 'Unsupported value: "Block"'],
      [{ authorities: [{ name: 'a' }] }, 'an authority needs exactly one of key, certificate or keyless'],
      [
        { authorities: [{ name: 'a', key: { pem: 'x' } }], threshold: 2 },
        'threshold cannot exceed the number of authorities',
      ],
      [
        { confidentialComputing: { runtimeClassNames: ['kata-qemu-snp'] } },
        'exactly one of when or always: true',
      ],
      [
        { authorities: [{ name: 'a', keyless: { issuer: 'i', trustedRootRef: { name: 'r', key: 'k' } } }] },
        'keyless needs exactly one of subject or subjectRegExp',
      ],
    ];
    for (const [spec, message] of cases) {
      const r = await bad(spec);
      expect(r.code, JSON.stringify(spec)).not.toBe(0);
      expect(r.stderr).toContain(message);
    }
  });
});
