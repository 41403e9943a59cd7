// Certificate rotation under webhook traffic, on the real API server: the controller issues short-lived
// certificates (CA 40 s, serving 20 s) so that, within a minute, the serving certificate is renewed and the
// CA rotated and its predecessor dropped, while the API server keeps calling the real webhook server
// (failurePolicy Fail). A "kubelet" loop copies the Secret to the files the webhook reloads, with delay.
// No admission request may fail.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import pino from 'pino';
import { HttpKubeClient } from '../../src/kube/client.ts';
import { realClock } from '../../src/kube/clock.ts';
import { PODS, SECRETS } from '../../src/kube/resources.ts';
import { Controller } from '../../src/controller/manager.ts';
import { FilePolicyStore } from '../../src/policy-store/file-store.ts';
import { AdmissionMetrics, ControllerMetrics } from '../../src/telemetry/metrics.ts';
import { createAdmission } from '../../src/webhook/admission.ts';
import { startWebhookServer, type WebhookServer } from '../../src/webhook/server.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { trustProblem } from '../../src/signing/trust.ts';
import { eventually } from './eventually.ts';

const suffix = randomBytes(3).toString('hex');
const controllerNs = `mg-rot-ctl-${suffix}`;
const trafficNs = `mg-rot-${suffix}`;
const webhookName = `mg-rot-${suffix}`;
const policyName = `rot-pods-${suffix}`;
const dir = mkdtempSync(join(tmpdir(), 'mg-rot-'));
const certFile = join(dir, 'tls.crt');
const keyFile = join(dir, 'tls.key');

let cluster: Cluster;
let controller: Controller;
let webhook: WebhookServer;
let kubeletTimer: NodeJS.Timeout | undefined;
const controllerMetrics = new ControllerMetrics();
const admissionMetrics = new AdmissionMetrics();

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

const atomicWrite = (file: string, data: string) => {
  writeFileSync(`${file}.tmp`, data);
  renameSync(`${file}.tmp`, file);
};

beforeAll(async () => {
  cluster = await startCluster();
  const client = new HttpKubeClient(cluster.kubeConfig());
  await kubectl(['create', 'namespace', controllerNs]);
  await kubectl(['create', 'namespace', trafficNs]);
  await kubectl(['label', 'namespace', trafficNs, `modelgate-rotation=${suffix}`]);
  // A policy that selects Pods (elsewhere), so the controller routes Pods to the webhook.
  await kubectl(
    ['apply', '-f', '-'],
    yaml.dump({
      apiVersion: 'modelgate.io/v1alpha1',
      kind: 'ClusterModelPolicy',
      metadata: { name: policyName },
      spec: {
        enforcement: 'Audit',
        match: {
          kinds: [{ group: '', kind: 'Pod' }],
          namespaceSelector: { matchLabels: { 'modelgate-rotation': 'nobody' } },
        },
      },
    }),
  );

  controller = new Controller(
    client,
    realClock,
    pino({ level: process.env.MODELGATE_E2E_LOG ?? 'warn' }),
    controllerMetrics,
    {
      namespace: controllerNs,
      identity: `rot-${suffix}`,
      leaderElect: false,
      leaseName: 'modelgate-controller',
      webhookService: 'modelgate-webhook',
      webhookSecret: 'modelgate-webhook-tls',
      validatingWebhook: webhookName,
      mutatingWebhook: '',
      certManager: false,
      auditIntervalMs: 3_600_000,
      extraCertNames: ['127.0.0.1'],
      certLifetimes: { caValidityMs: 40_000, servingValidityMs: 20_000, renewFraction: 1 / 3 },
      caPropagationDelayMs: 2_000,
    },
  );
  await controller.start();

  // The kubelet: copies the Secret's pair to the mounted files, a second or so after it changes.
  let served = '';
  const sync = async () => {
    const s = await client.get(SECRETS, 'modelgate-webhook-tls', controllerNs);
    const data = (s?.data ?? {}) as Record<string, string>;
    const crt = data['tls.crt'] ?? '';
    if (!crt || crt === served) return;
    await new Promise((r) => setTimeout(r, 1000));
    atomicWrite(keyFile, Buffer.from(data['tls.key'] ?? '', 'base64').toString());
    atomicWrite(certFile, Buffer.from(crt, 'base64').toString());
    served = crt;
  };
  await eventually('the first certificate', async () => {
    await sync();
    return served !== '';
  });
  kubeletTimer = setInterval(() => void sync().catch(() => undefined), 500);

  const policies = mkdtempSync(join(tmpdir(), 'mg-rot-policies-'));
  const store = new FilePolicyStore({ policyPaths: [policies] });
  await store.start();
  webhook = await startWebhookServer({
    admission: createAdmission({
      store,
      verifier: { image: 'ghcr.io/modelgate/modelgate:0.1.0' },
      validateTrust: trustProblem,
    }),
    tls: { certFile, keyFile, pollIntervalMs: 250 },
    logger: pino({ level: 'warn' }),
    metrics: admissionMetrics,
    notReadyReason: () => undefined,
    host: '127.0.0.1',
    port: 0,
    metricsHost: '127.0.0.1',
    metricsPort: 0,
  });
  await kubectl(
    ['apply', '-f', '-'],
    yaml.dump({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: webhookName },
      webhooks: [
        {
          name: 'validate.modelgate.io',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Fail',
          timeoutSeconds: 5,
          clientConfig: { url: `https://127.0.0.1:${webhook.port}/validate` },
          namespaceSelector: { matchLabels: { 'modelgate-rotation': suffix } },
          rules: [],
        },
      ],
    }),
  );
  await eventually('rules and caBundle', async () => {
    const out = JSON.parse(
      await kubectl(['get', 'validatingwebhookconfiguration', webhookName, '-o', 'json']),
    ) as { webhooks: { rules?: { resources: string[] }[]; clientConfig: { caBundle?: string } }[] };
    return (
      out.webhooks[0]?.clientConfig.caBundle &&
      out.webhooks[0].rules?.some((r) => r.resources.includes('pods'))
    );
  });
}, 600_000);

afterAll(async () => {
  if (kubeletTimer) clearInterval(kubeletTimer);
  if (cluster) {
    await cluster.kubectl(['delete', 'validatingwebhookconfiguration', webhookName, '--ignore-not-found']);
    await cluster.kubectl(['delete', 'clustermodelpolicy', policyName, '--ignore-not-found']);
    await cluster.kubectl(['delete', 'namespace', controllerNs, trafficNs, '--wait=false']);
  }
  await controller?.stop();
  await webhook?.close(1000);
  rmSync(dir, { recursive: true, force: true });
});

describe('webhook certificate rotation under traffic', () => {
  it('drops no admission request while the serving certificate and the CA rotate', async () => {
    const client = new HttpKubeClient(cluster.kubeConfig());
    const failures: string[] = [];
    let ok = 0;
    let n = 0;
    const until = Date.now() + 65_000;
    const worker = async () => {
      while (Date.now() < until) {
        const name = `p-${n++}`;
        try {
          await client.create(PODS, {
            apiVersion: 'v1',
            kind: 'Pod',
            metadata: { name, namespace: trafficNs },
            spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] },
          });
          ok++;
        } catch (err) {
          failures.push(`${name}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await Promise.all([worker(), worker()]);
    const rotations = await controllerMetrics.certRotations.get();
    const count = (c: string) => rotations.values.find((v) => v.labels.certificate === c)?.value ?? 0;
    const answered = (await admissionMetrics.requests.get()).values.reduce((a, v) => a + v.value, 0);
    console.error(
      `[rotation] ${ok} pods admitted, ${failures.length} failed; webhook answered ${answered}; CAs issued ${count('ca')}, serving certificates issued ${count('serving')}`,
    );
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(50);
    expect(answered).toBeGreaterThanOrEqual(ok);
    expect(count('ca')).toBeGreaterThanOrEqual(2);
    expect(count('serving')).toBeGreaterThanOrEqual(3);
  }, 180_000);
});
