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
import type { KubeClient, ResourceRef } from '../kube/types.ts';
import { Controller, type ControllerConfig } from './manager.ts';
import { ControllerMetrics } from '../telemetry/metrics.ts';

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
    const watches = new Map<string, number>();
    const watch = client.watch.bind(client);
    client.watch = (ref, ...rest) => {
      watches.set(ref.resource, (watches.get(ref.resource) ?? 0) + 1);
      return watch(ref, ...rest);
    };
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
    // One Pod watch, shared by the audit and the verification results (only the leader has it).
    expect(watches.get('pods')).toBe(1);

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

  it('a leader that loses its lease stops every write before another replica can lead', async () => {
    const api = new FakeKubeClient();
    const clock = new FakeClock();
    const deployments = workloadResource({ group: 'apps', kind: 'Deployment' });
    api.seed(CLUSTER_MODEL_POLICIES, clusterPolicy('trusted', { sources: ['oci://trusted.example.com/**'] }));
    // Enough violations that Event writes (rate-limited) go on for longer than the lease lasts.
    for (let i = 0; i < 400; i++) api.seed(deployments, modelDeployment('team-a', `llm-${i}`));

    const writes: { who: string; what: string; at: number }[] = [];
    let partitioned = false;
    let holdLists: Promise<void> | undefined;
    const clientOf = (who: string): KubeClient => {
      const c: KubeClient = Object.create(api) as KubeClient;
      const leases = (ref: ResourceRef) => {
        // a's replica can still reach everything but its Lease (a partial partition: the worst case).
        if (who === 'a' && partitioned && ref.resource === 'leases') throw new Error('i/o timeout');
      };
      const tracked =
        <A extends unknown[], R>(op: string, fn: (ref: ResourceRef, ...a: A) => Promise<R>) =>
        async (ref: ResourceRef, ...a: A): Promise<R> => {
          leases(ref);
          if (who === 'a' && op === 'list' && ref.resource === 'deployments' && holdLists) await holdLists;
          if (op !== 'get' && op !== 'list' && ref.resource !== 'leases')
            writes.push({ who, what: `${op} ${ref.resource}`, at: clock.now() });
          return fn.call(api, ref, ...a);
        };
      c.get = tracked('get', api.get);
      c.list = tracked('list', api.list);
      c.create = tracked('create', api.create);
      c.replace = tracked('replace', api.replace);
      c.patch = tracked('patch', api.patch);
      c.delete = tracked('delete', api.delete);
      return c;
    };
    const leaseConfig = (id: string) => ({
      ...config(id),
      certManager: true,
      validatingWebhook: '',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    const a = new Controller(clientOf('a'), clock, silentLogger, new ControllerMetrics(), leaseConfig('a'));
    const b = new Controller(clientOf('b'), clock, silentLogger, new ControllerMetrics(), leaseConfig('b'));
    await a.start();
    await clock.advance(100);
    await b.start();
    await clock.advance(1000);
    expect(a.isLeader()).toBe(true);
    expect(writes.some((w) => w.who === 'a' && w.what === 'create events')).toBe(true);

    // A new policy: a's next full audit starts, and its first list hangs (a slow API server).
    let releaseLists: () => void = () => undefined;
    holdLists = new Promise<void>((r) => (releaseLists = r));
    api.seed(CLUSTER_MODEL_POLICIES, clusterPolicy('second', { sources: ['oci://other.example.com/**'] }));
    await clock.advance(200);
    // a can no longer renew; its last renewal is at most one retry period (2 s) old.
    const cutAt = clock.now();
    partitioned = true;
    let bLeadsAt = 0;
    for (let t = 0; t < 40_000 && !bLeadsAt; t += 100) {
      await clock.advance(100);
      if (b.isLeader()) bLeadsAt = clock.now();
    }
    expect(bLeadsAt).toBeGreaterThan(0);
    expect(a.isLeader()).toBe(false);
    // The list a's audit was waiting for answers at last: a's scan must not go on to write its results.
    holdLists = undefined;
    releaseLists();
    await clock.advance(5000);
    expect(writes.filter((w) => w.who === 'a' && w.at >= bLeadsAt)).toEqual([]);
    expect(a.running).toBeUndefined();
    // a went on writing (rate-limited Events) while it held the lease, stopped at its renew deadline
    // (10 s after its last renewal), and b took over only after the lease duration (15 s).
    const lastByA = Math.max(...writes.filter((w) => w.who === 'a').map((w) => w.at));
    expect(lastByA).toBeGreaterThan(cutAt);
    expect(lastByA).toBeLessThan(cutAt + 10_000);
    expect(bLeadsAt).toBeGreaterThan(lastByA + 5000);
    // b continues the work (Events a had not written yet).
    expect(writes.some((w) => w.who === 'b' && w.what === 'create events')).toBe(true);
    await a.stop();
    await b.stop();
  });

  it('a clean stop releases the lease only after every reconcile has returned', async () => {
    const api = new FakeKubeClient();
    const clock = new FakeClock();
    api.seed(CLUSTER_MODEL_POLICIES, clusterPolicy('trusted', { sources: ['oci://trusted.example.com/**'] }));
    const order: string[] = [];
    let release: () => void = () => undefined;
    const client: KubeClient = Object.create(api) as KubeClient;
    let hung = false;
    client.patch = async (...args) => {
      if (hung) return api.patch(...args);
      // The first status write hangs until released.
      hung = true;
      order.push('status write started');
      await new Promise<void>((r) => (release = r));
      order.push('status write returned');
      return api.patch(...args);
    };
    client.replace = async (ref, obj, sub) => {
      if (ref.resource === 'leases' && (obj.spec as { holderIdentity?: string }).holderIdentity === '')
        order.push('lease released');
      return api.replace(ref, obj, sub);
    };
    const a = new Controller(client, clock, silentLogger, new ControllerMetrics(), {
      ...config('a'),
      certManager: true,
      validatingWebhook: '',
    });
    await a.start();
    await clock.advance(100);
    expect(order).toEqual(['status write started']);
    const stopped = a.stop();
    await clock.advance(100);
    expect(order).toEqual(['status write started']);
    release();
    await stopped;
    expect(order).toEqual(['status write started', 'status write returned', 'lease released']);
  });
});
