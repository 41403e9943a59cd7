import { describe, expect, it } from 'vitest';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { InformerPolicyStore } from '../policy-store/informer-store.ts';
import { CLUSTER_MODEL_POLICIES, MODEL_POLICIES } from '../kube/resources.ts';
import { clusterPolicy, modelPolicy, silentLogger } from '../kube/builders.test-support.ts';
import { ControllerMetrics } from '../telemetry/metrics.ts';
import { PolicyStatusReconciler } from './policy-status.ts';

async function setup() {
  const client = new FakeKubeClient();
  const clock = new FakeClock();
  const store = new InformerPolicyStore({
    client,
    controllerNamespace: 'modelgate-system',
    logger: silentLogger,
    clock,
    debounceMs: 5,
  });
  const metrics = new ControllerMetrics();
  const rec = new PolicyStatusReconciler({
    client,
    clock,
    logger: silentLogger,
    metrics,
    states: () => store.compileStates(),
  });
  store.onChange(() => rec.resync());
  await store.start();
  rec.resync();
  const settle = async () => {
    await clock.advance(10);
    await rec.idle();
    await clock.advance(10);
    await rec.idle();
  };
  return { client, clock, store, rec, settle, metrics };
}

describe('PolicyStatusReconciler', () => {
  it('writes Ready=True with the observed generation, once', async () => {
    const { client, settle, store } = await setup();
    client.seed(CLUSTER_MODEL_POLICIES, clusterPolicy('prod', { sources: ['oci://r.example/**'] }));
    await settle();
    const p = client.peek(CLUSTER_MODEL_POLICIES, 'prod');
    expect(p?.status).toMatchObject({
      observedGeneration: 1,
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Compiled', observedGeneration: 1 },
        { type: 'KeysResolved', status: 'True' },
      ],
    });
    const writes = client.writes.filter((w) => w.subresource === 'status').length;
    await settle(); // the status write comes back through the watch: no second write
    expect(client.writes.filter((w) => w.subresource === 'status').length).toBe(writes);
    expect(writes).toBe(1);
    await store.stop();
  });

  it('reports an invalid spec naming the field, and follows a new generation', async () => {
    const { client, settle, store, clock, metrics } = await setup();
    client.seed(MODEL_POLICIES, modelPolicy('team-a', 'p', { enforcement: 'Sometimes' }));
    await settle();
    let p = client.peek(MODEL_POLICIES, 'p', 'team-a');
    const ready = (
      p?.status as {
        conditions: {
          type: string;
          status: string;
          reason: string;
          message: string;
          lastTransitionTime: string;
        }[];
      }
    ).conditions[0];
    expect(ready).toMatchObject({ type: 'Ready', status: 'False', reason: 'InvalidSpec' });
    expect(ready?.message).toContain('spec.enforcement');
    expect(await metrics.registry.getSingleMetricAsString('modelgate_policy_ready')).toContain(
      'policy="ModelPolicy/team-a/p"} 0',
    );

    await clock.advance(60_000);
    await client.patch(MODEL_POLICIES, 'p', 'team-a', { spec: { enforcement: 'Warn' } }, 'merge');
    await settle();
    p = client.peek(MODEL_POLICIES, 'p', 'team-a');
    expect(p?.metadata.generation).toBe(2);
    expect(p?.status).toMatchObject({
      observedGeneration: 2,
      conditions: [
        { type: 'Ready', status: 'True', observedGeneration: 2 },
        { type: 'KeysResolved' },
        { type: 'ClusterOnlyFieldsIgnored', status: 'False' },
      ],
    });
    await store.stop();
  });

  it('says a broken policy still applies, and reports cluster-only fields a ModelPolicy sets as ignored', async () => {
    const { client, settle, store } = await setup();
    client.seed(
      MODEL_POLICIES,
      modelPolicy('team-a', 'tenant', {
        verifier: { inject: true, image: `evil.example.com/v@sha256:${'e'.repeat(64)}` },
      }),
    );
    client.seed(
      CLUSTER_MODEL_POLICIES,
      clusterPolicy('badkey', {
        authorities: [
          {
            name: 'release',
            key: { pem: '-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n' },
          },
        ],
      }),
    );
    await settle();
    const conds = (o: unknown) =>
      (o as { status: { conditions: { type: string; status: string; reason: string; message: string }[] } })
        .status.conditions;
    const tenant = conds(client.peek(MODEL_POLICIES, 'tenant', 'team-a'));
    expect(tenant.find((c) => c.type === 'ClusterOnlyFieldsIgnored')).toMatchObject({ status: 'True' });
    expect(tenant.find((c) => c.type === 'ClusterOnlyFieldsIgnored')?.message).toContain(
      'spec.verifier.image is ignored',
    );
    expect(tenant.find((c) => c.type === 'Ready')?.status).toBe('True');
    const bad = conds(client.peek(CLUSTER_MODEL_POLICIES, 'badkey'));
    expect(bad.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'TrustMaterialInvalid',
    });
    expect(bad.find((c) => c.type === 'Ready')?.message).toMatch(
      /spec\.authorities\[0\] \(release\): .*every workload it selects is refused until it is fixed/,
    );
    expect(bad.find((c) => c.type === 'KeysResolved')).toMatchObject({
      status: 'False',
      reason: 'TrustMaterialInvalid',
    });
    await store.stop();
  });

  it('reports unresolved keys and keeps lastTransitionTime while the status stays the same', async () => {
    const { client, settle, store, clock } = await setup();
    client.seed(
      CLUSTER_MODEL_POLICIES,
      clusterPolicy('signed', {
        authorities: [{ name: 'a', key: { secretRef: { name: 'missing', key: 'k' } } }],
      }),
    );
    await settle();
    const first = client.peek(CLUSTER_MODEL_POLICIES, 'signed')?.status as {
      conditions: { lastTransitionTime: string; reason: string; message: string }[];
    };
    expect(first.conditions[0]?.reason).toBe('KeysUnresolved');
    expect(first.conditions[0]?.message).toContain('Secret modelgate-system/missing');
    await clock.advance(3_600_000);
    // A new generation with the same problem: observedGeneration moves, lastTransitionTime does not.
    await client.patch(
      CLUSTER_MODEL_POLICIES,
      'signed',
      undefined,
      { spec: { enforcement: 'Audit' } },
      'merge',
    );
    await settle();
    const second = client.peek(CLUSTER_MODEL_POLICIES, 'signed')?.status as {
      observedGeneration: number;
      conditions: { lastTransitionTime: string }[];
    };
    expect(second.observedGeneration).toBe(2);
    expect(second.conditions[0]?.lastTransitionTime).toBe(first.conditions[0]?.lastTransitionTime);
    await store.stop();
  });
});
