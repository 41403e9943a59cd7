import { generateKeyPairSync } from 'node:crypto';
// The controller against the real local control plane: the API server's CRD schema, status
// subresource, watches, Leases and Events, with no fake in between.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import pino from 'pino';
import { HttpKubeClient } from '../../src/kube/client.ts';
import { realClock } from '../../src/kube/clock.ts';
import { Controller } from '../../src/controller/manager.ts';
import { ControllerMetrics } from '../../src/telemetry/metrics.ts';
import { verifierInjection } from '../../src/mutation/inject.ts';
import { applyJsonPatch } from '../../src/mutation/json-patch.test-support.ts';
import { DEFAULT_VERIFIER_IMAGE } from '../../src/mutation/verifier-container.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { eventually } from './eventually.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const suffix = randomBytes(3).toString('hex');
const controllerNs = `mg-ctl-${suffix}`;
const workloadNs = `mg-work-${suffix}`;
const webhookName = `mg-e2e-${suffix}`;
const policyName = `trusted-${suffix}`;

let cluster: Cluster;
let controller: Controller;
let metrics: ControllerMetrics;
const children: ChildProcess[] = [];

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function getJson<T>(args: string[]): Promise<T | undefined> {
  const r = await cluster.kubectl([...args, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as T) : undefined;
}

const apply = (obj: unknown) => kubectl(['apply', '-f', '-'], yaml.dump(obj));

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}
interface PolicyObj {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    audit?: { matched?: number; violating?: number; lastScan?: string };
  };
}

beforeAll(async () => {
  cluster = await startCluster();
  await kubectl(['apply', '-f', join(ROOT, 'crds', 'wgpolicyk8s', 'wgpolicyk8s.io_policyreports.yaml')]);
  await kubectl(['wait', '--for=condition=established', '--timeout=60s', 'crd/policyreports.wgpolicyk8s.io']);
  await kubectl(['create', 'namespace', controllerNs]);
  await kubectl(['create', 'namespace', workloadNs]);
  await kubectl(['label', 'namespace', workloadNs, `modelgate-e2e=${suffix}`]);
  // A webhook configuration that the API server never calls for anyone (failurePolicy Ignore, an object
  // selector nothing carries): the controller keeps its rules, exemptions and caBundle.
  await apply({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: webhookName },
    webhooks: [
      {
        name: 'validate.modelgate.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Ignore',
        timeoutSeconds: 1,
        clientConfig: { url: 'https://127.0.0.1:1/validate' },
        objectSelector: { matchLabels: { 'modelgate-e2e-never': 'true' } },
        namespaceSelector: {
          matchExpressions: [
            { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] },
          ],
        },
      },
    ],
  });
  // An existing Deployment serving a model from an untrusted registry, before any policy exists.
  await apply({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'llm', namespace: workloadNs, labels: { app: 'llm' } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'llm' } },
      template: {
        metadata: { labels: { app: 'llm' } },
        spec: {
          containers: [
            {
              name: 'server',
              image: 'vllm/vllm-openai:v0.6.0',
              args: ['--model', '/models'],
              volumeMounts: [{ name: 'model', mountPath: '/models' }],
            },
          ],
          volumes: [{ name: 'model', image: { reference: 'untrusted.example.com/models/llama:v1' } }],
        },
      },
    },
  });

  metrics = new ControllerMetrics();
  controller = new Controller(
    new HttpKubeClient(cluster.kubeConfig()),
    realClock,
    pino({ level: process.env.MODELGATE_E2E_LOG ?? 'warn' }),
    metrics,
    {
      namespace: controllerNs,
      identity: `e2e-${suffix}`,
      leaderElect: true,
      leaseName: 'modelgate-controller',
      leaseDurationMs: 6000,
      renewDeadlineMs: 4000,
      retryPeriodMs: 1000,
      webhookService: 'modelgate-webhook',
      webhookSecret: 'modelgate-webhook-tls',
      validatingWebhook: webhookName,
      mutatingWebhook: '',
      certManager: false,
      auditIntervalMs: 600_000,
      extraCertNames: ['127.0.0.1'],
    },
  );
  await controller.start();
  await eventually('leadership', async () => controller.isLeader());
}, 600_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await controller?.stop();
  if (!cluster) return;
  await cluster.kubectl([
    'delete',
    'clustermodelpolicy',
    policyName,
    `keys-${suffix}`,
    `inject-${suffix}`,
    '--ignore-not-found',
  ]);
  await cluster.kubectl(['delete', 'validatingwebhookconfiguration', webhookName, '--ignore-not-found']);
  await cluster.kubectl(['delete', 'namespace', controllerNs, workloadNs, '--wait=false']);
});

describe('modelgate controller on a real API server', () => {
  it('is ready after the initial sync and serves certificates with the caBundle published', async () => {
    expect(controller.ready()).toBe(true);
    const secret = await eventually('TLS secret', () =>
      getJson<{ data?: Record<string, string> }>([
        '-n',
        controllerNs,
        'get',
        'secret',
        'modelgate-webhook-tls',
      ]).then((s) => (s?.data?.['tls.crt'] ? s : undefined)),
    );
    const hook = await eventually('caBundle', () =>
      getJson<{
        webhooks: {
          clientConfig: { caBundle?: string };
          namespaceSelector: { matchExpressions: { values: string[] }[] };
        }[];
      }>(['get', 'validatingwebhookconfiguration', webhookName]).then((w) =>
        w?.webhooks[0]?.clientConfig.caBundle ? w : undefined,
      ),
    );
    expect(Buffer.from(hook.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString()).toBe(
      Buffer.from(secret.data?.['ca.crt'] ?? '', 'base64').toString(),
    );
    expect(hook.webhooks[0]?.namespaceSelector.matchExpressions[0]?.values).toEqual(
      expect.arrayContaining(['kube-system', 'kube-node-lease', 'kube-public', controllerNs]),
    );
  });

  it('writes Ready with the observed generation, and follows a new generation', async () => {
    await apply({
      apiVersion: 'modelgate.io/v1alpha1',
      kind: 'ClusterModelPolicy',
      metadata: { name: policyName },
      spec: {
        enforcement: 'Audit',
        match: { namespaceSelector: { matchLabels: { 'modelgate-e2e': suffix } } },
        sources: ['oci://trusted.example.com/**'],
      },
    });
    const ready = (p: PolicyObj | undefined, gen: number) =>
      p?.status?.observedGeneration === gen &&
      p.status.conditions?.some(
        (c) => c.type === 'Ready' && c.status === 'True' && c.observedGeneration === gen,
      )
        ? p
        : undefined;
    const p1 = await eventually('Ready at generation 1', () =>
      getJson<PolicyObj>(['get', 'clustermodelpolicy', policyName]).then((p) =>
        ready(p, p?.metadata.generation ?? -1),
      ),
    );
    const gen = p1.metadata.generation;
    await kubectl([
      'patch',
      'clustermodelpolicy',
      policyName,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { enforcement: 'Warn' } }),
    ]);
    const p2 = await eventually('Ready at the next generation', () =>
      getJson<PolicyObj>(['get', 'clustermodelpolicy', policyName]).then((p) => ready(p, gen + 1)),
    );
    expect(p2.metadata.generation).toBe(gen + 1);
  });

  it('says why a policy is not ready (the field and the missing Secret), and recovers', async () => {
    const name = `keys-${suffix}`;
    await apply({
      apiVersion: 'modelgate.io/v1alpha1',
      kind: 'ClusterModelPolicy',
      metadata: { name },
      spec: {
        enforcement: 'Audit',
        match: { namespaceSelector: { matchLabels: { 'modelgate-e2e': 'nobody' } } },
        authorities: [{ name: 'release', key: { secretRef: { name: 'release-pub', key: 'cosign.pub' } } }],
      },
    });
    const failed = await eventually('KeysUnresolved', () =>
      getJson<PolicyObj>(['get', 'clustermodelpolicy', name]).then((p) =>
        p?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'False'),
      ),
    );
    expect(failed.reason).toBe('KeysUnresolved');
    expect(failed.message).toContain('spec.authorities[0]');
    expect(failed.message).toContain(`Secret ${controllerNs}/release-pub`);
    expect(await metrics.registry.getSingleMetricAsString('modelgate_policy_ready')).toContain(
      `policy="ClusterModelPolicy/${name}"} 0`,
    );

    // A real key: trust material is parsed when the policy compiles (a key that is not a key is not Ready).
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    await kubectl([
      '-n',
      controllerNs,
      'create',
      'secret',
      'generic',
      'release-pub',
      `--from-literal=cosign.pub=${pem}`,
    ]);
    await eventually('Ready once the Secret exists', () =>
      getJson<PolicyObj>(['get', 'clustermodelpolicy', name]).then((p) =>
        p?.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True'),
      ),
    );
  });

  it('reports an existing violating Deployment in Events, a PolicyReport, status.audit and metrics', async () => {
    const events = await eventually('a PolicyViolation Event', () =>
      getJson<{
        items: { reason: string; message: string; involvedObject: { kind: string; name: string } }[];
      }>(['-n', workloadNs, 'get', 'events', '--field-selector', 'involvedObject.name=llm']).then((l) => {
        const items =
          l?.items.filter((e) => e.involvedObject.kind === 'Deployment' && e.reason.startsWith('Policy')) ??
          [];
        return items.length ? items : undefined;
      }),
    );
    expect(events[0]?.message).toContain(`ClusterModelPolicy/${policyName}`);
    expect(events[0]?.message).toContain('untrusted.example.com');

    const report = await eventually('PolicyReport', () =>
      getJson<{
        summary: Record<string, number>;
        results: { policy: string; result: string; rule: string; resources: { name: string }[] }[];
      }>(['-n', workloadNs, 'get', 'policyreport', 'modelgate-audit']),
    );
    const fail = report.results.find(
      (r) => r.policy === `ClusterModelPolicy/${policyName}` && r.rule === 'source',
    );
    expect(fail).toMatchObject({ resources: [{ name: 'llm' }] });
    expect(['fail', 'warn']).toContain(fail?.result);

    const p = await eventually('status.audit', () =>
      getJson<PolicyObj>(['get', 'clustermodelpolicy', policyName]).then((x) =>
        x?.status?.audit?.violating === 1 ? x : undefined,
      ),
    );
    expect(p.status?.audit).toMatchObject({ matched: 1, violating: 1 });
    expect(p.status?.audit?.lastScan).toMatch(/^\d{4}-\d\d-\d\dT/);
    const text = await metrics.registry.metrics();
    expect(text).toContain(
      `modelgate_policy_violating_workloads{policy="ClusterModelPolicy/${policyName}"} 1`,
    );

    // The webhook now receives Deployments (the kinds the policies select, here all of them).
    const hook = await getJson<{ webhooks: { rules: { resources: string[] }[] }[] }>([
      'get',
      'validatingwebhookconfiguration',
      webhookName,
    ]);
    expect(hook?.webhooks[0]?.rules.flatMap((r) => r.resources)).toContain('deployments');
  });

  it('records a verifier result written to pod status through the status subresource', async () => {
    // A policy that has modelgate inject the verifier into labelled pods of the test namespace.
    const injectName = `inject-${suffix}`;
    await apply({
      apiVersion: 'modelgate.io/v1alpha1',
      kind: 'ClusterModelPolicy',
      metadata: { name: injectName },
      spec: {
        enforcement: 'Audit',
        match: {
          namespaceSelector: { matchLabels: { 'modelgate-e2e': suffix } },
          objectSelector: { matchLabels: { 'modelgate-e2e-verifier': 'true' } },
        },
        verifier: { inject: true },
      },
    });
    const injecting = await eventually('the injecting policy compiled', async () =>
      controller.store.snapshot().policies.policies.find((p) => p.name === injectName && p.verifier.inject),
    );
    const modelPod = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: workloadNs, labels: { 'modelgate-e2e-verifier': 'true' } },
      spec: {
        nodeName: 'no-such-node',
        // Created with the verifier already in it, the pod would get the service account token mount
        // in the verifier too (admission plugins run before webhooks; the verifier never has it).
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'server',
            image: 'registry.k8s.io/pause:3.10',
            args: ['--model', '/models/llama'],
            volumeMounts: [{ name: 'model', mountPath: '/models/llama' }],
          },
        ],
        volumes: [
          {
            name: 'model',
            image: { reference: `trusted.example.com/models/llama@sha256:${'b'.repeat(64)}` },
          },
        ],
      },
    });
    // The pod as modelgate's mutating webhook admits it (its own code computes the verifier).
    const base = modelPod('verified');
    const injection = verifierInjection(base, {
      namespace: workloadNs,
      policies: [injecting],
      cluster: controller.store.snapshot().cluster,
      defaults: { image: DEFAULT_VERIFIER_IMAGE },
    });
    expect(injection.patch).not.toEqual([]);
    await apply(applyJsonPatch(base, injection.patch));
    // And a pod whose own init container merely carries the verifier's name.
    const forged = modelPod('forged');
    (forged.spec as Record<string, unknown>).initContainers = [
      { name: 'modelgate-verifier', image: 'registry.k8s.io/pause:3.10' },
    ];
    await apply(forged);
    const message = JSON.stringify({
      model: '/models/llama',
      verdict: 'valid',
      digest: 'sha256:' + 'ab'.repeat(32),
      signer: 'ml-release',
      durationMs: 1234,
    });
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    // What the kubelet does: PATCH pods/<name>/status.
    for (const name of ['verified', 'forged'])
      await kubectl([
        '-n',
        workloadNs,
        'patch',
        'pod',
        name,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({
          status: {
            phase: 'Pending',
            initContainerStatuses: [
              {
                name: 'modelgate-verifier',
                image: DEFAULT_VERIFIER_IMAGE,
                imageID: '',
                ready: true,
                restartCount: 0,
                state: {
                  terminated: { exitCode: 0, reason: 'Completed', message, startedAt: now, finishedAt: now },
                },
              },
            ],
          },
        }),
      ]);
    const ev = await eventually('ModelVerified Event', () =>
      getJson<{ items: { reason: string; message: string }[] }>([
        '-n',
        workloadNs,
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=verified',
      ]).then((l) => l?.items.find((e) => e.reason === 'ModelVerified')),
    );
    expect(ev.message).toContain('signed by ml-release');
    const report = await eventually('verification PolicyReport', () =>
      getJson<{ results: { result: string; properties: Record<string, string> }[] }>([
        '-n',
        workloadNs,
        'get',
        'policyreport',
        'modelgate-verification',
      ]).then((r) => (r?.results.some((x) => x.result === 'pass') ? r : undefined)),
    );
    expect(report.results.find((r) => r.result === 'pass')).toMatchObject({
      properties: { model: '/models/llama', verdict: 'valid', signer: 'ml-release' },
    });
    expect(await metrics.registry.metrics()).toContain('modelgate_verifications_total{verdict="valid"} 1');

    // The forged container's result is not evidence: a Warning, a failed provenance entry, no pass.
    const untrusted = await eventually('ModelVerificationUntrusted Event', () =>
      getJson<{ items: { reason: string; message: string }[] }>([
        '-n',
        workloadNs,
        'get',
        'events',
        '--field-selector',
        'involvedObject.name=forged',
      ]).then((l) => l?.items.find((e) => e.reason === 'ModelVerificationUntrusted')),
    );
    expect(untrusted.message).toMatch(
      /not counted as verification: it is not the verifier modelgate injects/,
    );
    const both = await eventually('both pods in the verification PolicyReport', () =>
      getJson<{ results: { result: string; rule: string; resources: { name: string }[] }[] }>([
        '-n',
        workloadNs,
        'get',
        'policyreport',
        'modelgate-verification',
      ]).then((r) => (r && r.results.length === 2 ? r : undefined)),
    );
    expect(both.results.find((r) => r.resources[0]?.name === 'forged')).toMatchObject({
      result: 'fail',
      rule: 'provenance',
    });
    expect(await metrics.registry.metrics()).toContain(
      'modelgate_verifications_total{verdict="untrusted"} 1',
    );
  });

  it('moves the lease to another replica when the leader is killed, and records no Event twice', async () => {
    const ns = `mg-lease-${suffix}`;
    await kubectl(['create', 'namespace', ns]);
    // The llm Deployment's violation Events, recorded by the controller of the tests above.
    const violationEvents = async () =>
      (
        (
          await getJson<{ items: { reason: string; involvedObject: { kind: string } }[] }>([
            '-n',
            workloadNs,
            'get',
            'events',
            '--field-selector',
            'involvedObject.name=llm',
          ])
        )?.items ?? []
      ).filter((e) => e.involvedObject.kind === 'Deployment' && e.reason.startsWith('Policy')).length;
    const before = await violationEvents();
    expect(before).toBeGreaterThan(0);
    const logs = ['', ''];
    const start = (i: number) => {
      const child = spawn(
        process.execPath,
        [
          join(ROOT, 'bin', 'modelgate.js'),
          'controller',
          '--kubeconfig',
          cluster.kubeconfigPath,
          '--namespace',
          ns,
          '--metrics-port',
          '0',
          '--lease-duration',
          '6s',
          '--validating-webhook',
          '',
          '--mutating-webhook',
          '',
          '--log-level',
          'info',
        ],
        { env: { ...process.env, POD_NAME: `replica-${i}` }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      child.stdout?.on('data', (d: Buffer) => (logs[i] += d.toString()));
      children.push(child);
      return child;
    };
    const scanned = (i: number) => logs[i]?.includes('"msg":"audit scan finished"') || undefined;
    const replicas = [start(0), start(1)];
    const holder = () =>
      getJson<{ spec: { holderIdentity?: string; leaseTransitions?: number; acquireTime?: string } }>([
        '-n',
        ns,
        'get',
        'lease',
        'modelgate-controller',
      ]).then((l) => l?.spec);
    const first = await eventually(
      'a leader',
      () => holder().then((s) => (s?.holderIdentity ? s : undefined)),
      120_000,
    );
    const leaderIndex = first.holderIdentity?.startsWith('replica-0_') ? 0 : 1;
    // Let the standby finish starting, so it is campaigning when the leader dies.
    await new Promise((r) => setTimeout(r, 15_000));
    await eventually("the first leader's audit scan", async () => scanned(leaderIndex));
    const killedAt = Date.now();
    replicas[leaderIndex]?.kill('SIGKILL');
    const next = await eventually(
      'a new leader',
      () =>
        holder().then((s) =>
          s?.holderIdentity && s.holderIdentity !== first.holderIdentity ? s : undefined,
        ),
      60_000,
    );
    const seenMs = Date.now() - killedAt;
    // The new holder's acquireTime (its clock is this machine's) says when it took over, free of this
    // test's polling and kubectl's start-up, which a busy machine can stretch by seconds.
    const tookMs = Date.parse(next.acquireTime ?? '') - killedAt;
    console.error(
      `[lease] ${first.holderIdentity} killed; ${next.holderIdentity} took the lease ${tookMs} ms later, seen here after ${seenMs} ms (lease duration 6000 ms)`,
    );
    expect(next.holderIdentity?.startsWith(`replica-${1 - leaderIndex}_`)).toBe(true);
    expect(next.leaseTransitions).toBe((first.leaseTransitions ?? 0) + 1);
    // The old leader renewed at most just before it died, and the standby wakes when that renewal
    // expires: within the lease duration (6 s), or one retry period (2 s) later when the standby saw
    // the renewal late and counts from its own reading.
    expect(tookMs).toBeGreaterThan(0);
    expect(tookMs).toBeLessThan(6_000 + 2_000);
    // Each leader read back the Events recorded before it (by the in-process controller, then by the
    // killed leader) and recorded none of the standing violations again.
    await eventually("the new leader's audit scan", async () => scanned(1 - leaderIndex));
    expect(await violationEvents()).toBe(before);
    expect(logs[1 - leaderIndex]).toMatch(/"msg":"read back earlier Events for de-duplication"/);
    for (const c of replicas) c.kill('SIGKILL');
    await cluster.kubectl(['delete', 'namespace', ns, '--wait=false']);
  }, 240_000);
});
