import { describe, expect, it } from 'vitest';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import {
  CLUSTER_MODEL_POLICIES,
  EVENTS,
  LEASES,
  SECRETS,
  VALIDATING_WEBHOOKS,
  workloadResource,
} from '../kube/resources.ts';
import { clusterPolicy, modelDeployment, silentLogger } from '../kube/builders.test-support.ts';
import { Controller, type ControllerConfig } from './manager.ts';
import { ControllerMetrics } from './metrics.ts';

const config = (identity: string): ControllerConfig => ({
  namespace: 'modelgate-system',
  identity,
  leaderElect: true,
  leaseName: 'modelgate-controller',
  webhookService: 'modelgate-webhook',
  webhookSecret: 'modelgate-webhook-tls',
  validatingWebhook: 'modelgate',
  mutatingWebhook: '',
  certManager: false,
  auditIntervalMs: 600_000,
});

describe('Controller', () => {
  it('only the leader reconciles; the standby takes over when the leader stops', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    client.seed(VALIDATING_WEBHOOKS, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'modelgate' },
      webhooks: [
        {
          name: 'validate.modelgate.io',
          clientConfig: { url: 'https://127.0.0.1:9443/validate' },
          rules: [],
        },
      ],
    });
    client.seed(workloadResource({ group: 'apps', kind: 'Deployment' }), modelDeployment('team-a', 'llm'));
    const a = new Controller(client, clock, silentLogger, new ControllerMetrics(), config('a'));
    const b = new Controller(client, clock, silentLogger, new ControllerMetrics(), config('b'));
    await a.start();
    await clock.advance(100);
    await b.start();
    expect(a.ready() && b.ready()).toBe(true);
    await clock.advance(3000);
    await a.running?.certificates?.idle();
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);

    // Certificates issued and the caBundle published.
    expect(client.peek(SECRETS, 'modelgate-webhook-tls', 'modelgate-system')?.data).toHaveProperty('tls.crt');
    const hooks = client.peek(VALIDATING_WEBHOOKS, 'modelgate')?.webhooks as {
      clientConfig: { caBundle?: string };
    }[];
    expect(hooks[0]?.clientConfig.caBundle).toBeTruthy();

    // A policy: status, audit Event.
    client.seed(
      CLUSTER_MODEL_POLICIES,
      clusterPolicy('trusted', { sources: ['oci://trusted.example.com/**'] }),
    );
    await clock.advance(200);
    await a.running?.audit.idle();
    await a.running?.status.idle();
    await clock.advance(200);
    expect(client.peek(CLUSTER_MODEL_POLICIES, 'trusted')?.status).toMatchObject({
      observedGeneration: 1,
      conditions: expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]),
      audit: { matched: 1, violating: 1 },
    });
    expect(client.all(EVENTS).map((e) => e.reason)).toContain('PolicyViolation');

    await a.stop();
    await clock.advance(3000);
    expect(b.isLeader()).toBe(true);
    expect(client.peek(LEASES, 'modelgate-controller', 'modelgate-system')?.spec).toMatchObject({
      holderIdentity: 'b',
    });
    await b.stop();
  });
});
