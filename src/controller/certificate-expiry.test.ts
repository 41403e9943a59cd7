import { describe, expect, it } from 'vitest';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { InformerPolicyStore } from '../policy-store/informer-store.ts';
import { CLUSTER_MODEL_POLICIES, EVENTS, workloadResource } from '../kube/resources.ts';
import { clusterPolicy, modelDeployment, silentLogger } from '../kube/builders.test-support.ts';
import { loadSigner, signPayload } from '../signing/sign.ts';
import { makePki } from '../signing/pki.test-support.ts';
import { CertificateExpiryReconciler, EXPIRY_CONDITION } from './certificate-expiry.ts';
import { EventRecorder } from './events.ts';
import { ControllerMetrics } from '../telemetry/metrics.ts';
import { PolicyStatusReconciler } from './policy-status.ts';

const DAY = 86_400_000;
const DEPLOYMENTS = workloadResource({ group: 'apps', kind: 'Deployment' });

async function setup(leafDays: number) {
  const clock = new FakeClock(Date.now());
  const pki = await makePki({ notAfter: new Date(clock.now() + leafDays * DAY) });
  const bundle = signPayload(
    new TextEncoder().encode('{}'),
    loadSigner(pki.leafKeyPem, pki.leafPem + pki.intermediatePem),
  );
  const client = new FakeKubeClient();
  client.seed(
    CLUSTER_MODEL_POLICIES,
    clusterPolicy('corp', { authorities: [{ name: 'corp-pki', certificate: { caBundle: pki.rootPem } }] }),
  );
  const d = modelDeployment('ml', 'llm');
  d.metadata.annotations = {
    'modelgate.io/models': JSON.stringify([
      {
        name: 'llama',
        volume: 'model',
        digest: `sha256:${'a'.repeat(64)}`,
        signature: { inline: Buffer.from(bundle).toString('base64') },
      },
    ]),
  };
  client.seed(DEPLOYMENTS, d);
  const store = new InformerPolicyStore({
    client,
    controllerNamespace: 'modelgate-system',
    logger: silentLogger,
    clock,
    debounceMs: 5,
  });
  await store.start();
  const metrics = new ControllerMetrics();
  const events = new EventRecorder({ client, clock, logger: silentLogger, metrics, instance: 'test' });
  const expiry = new CertificateExpiryReconciler({
    client,
    clock,
    logger: silentLogger,
    metrics,
    events,
    snapshot: () => store.snapshot(),
    states: () => store.compileStates(),
    workloadResources: [DEPLOYMENTS],
  });
  const status = new PolicyStatusReconciler({
    client,
    clock,
    logger: silentLogger,
    states: () => store.compileStates(),
  });
  store.onChange(() => status.resync());
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      await clock.advance(10);
      await status.idle();
    }
  };
  return { client, clock, store, metrics, expiry, status, settle };
}

const condition = (client: FakeKubeClient) =>
  (
    (client.peek(CLUSTER_MODEL_POLICIES, 'corp')?.status as { conditions?: { type: string }[] } | undefined)
      ?.conditions ?? []
  ).find((c) => c.type === EXPIRY_CONDITION);

describe('CertificateExpiryReconciler', () => {
  it('warns 10 days ahead: a Warning Event on the workload, the gauge, and a policy condition the status reconciler keeps', async () => {
    const { client, metrics, expiry, status, settle, store } = await setup(10);
    status.resync();
    await settle();
    await expiry.reconcileNow();
    await settle();
    const events = client.list(EVENTS, {});
    const warning = (await events).items.find((e) => e.reason === 'CertificateExpiring');
    expect(warning).toMatchObject({
      type: 'Warning',
      involvedObject: { kind: 'Deployment', name: 'llm', namespace: 'ml' },
    });
    expect(String(warning?.message)).toMatch(
      /signing certificate CN=model signer in inline bundle of model llama in Deployment ml\/llm expires on .* \(in 9 days\)/,
    );
    const gauge = (
      await metrics.registry.getSingleMetricAsString('modelgate_certificate_expiry_seconds')
    ).split('\n');
    const signing = gauge.find((l) => l.includes('role="signing certificate"'));
    expect(Number(signing?.split(' ').pop())).toBeGreaterThan(9 * 86400);
    expect(Number(signing?.split(' ').pop())).toBeLessThanOrEqual(10 * 86400);
    expect(condition(client)).toMatchObject({ status: 'True', reason: 'CertificateExpiresSoon' });
    // The policy status reconciler writes Ready and KeysResolved without dropping it.
    expect(
      (
        client.peek(CLUSTER_MODEL_POLICIES, 'corp')?.status as { conditions: { type: string }[] }
      ).conditions.map((c) => c.type),
    ).toEqual(['Ready', 'KeysResolved', EXPIRY_CONDITION]);
    await store.stop();
  });

  it('says nothing while every certificate has more than the threshold left, then reports the expiry', async () => {
    const { client, clock, expiry, settle, store } = await setup(60);
    await settle();
    await expiry.reconcileNow();
    await settle();
    expect((await client.list(EVENTS, {})).items).toEqual([]);
    expect(condition(client)).toBeUndefined();
    await clock.advance(61 * DAY);
    await expiry.reconcileNow();
    await settle();
    expect((await client.list(EVENTS, {})).items.map((e) => e.reason)).toContain('CertificateExpired');
    expect(condition(client)).toMatchObject({ status: 'True', reason: 'CertificateExpired' });
    await store.stop();
  });
});
