import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FakeClock, flush } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { InformerPolicyStore, referencedSecrets } from './informer-store.ts';
import {
  CLUSTER_MODEL_POLICIES,
  CONFIG_MAPS,
  MODEL_POLICIES,
  NAMESPACES,
  SECRETS,
} from '../kube/resources.ts';
import { clusterPolicy, modelPolicy, namespace, silentLogger } from '../kube/builders.test-support.ts';

const keyAuthority = {
  authorities: [{ name: 'release', key: { secretRef: { name: 'release-pub', key: 'cosign.pub' } } }],
};
const secret = (ns: string, name: string, data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: ns },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});

async function started(client: FakeKubeClient) {
  const clock = new FakeClock();
  const store = new InformerPolicyStore({
    client,
    controllerNamespace: 'modelgate-system',
    logger: silentLogger,
    clock,
    debounceMs: 10,
  });
  await store.start();
  return { store, clock };
}

const REAL_PUBLIC_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ type: 'spki', format: 'pem' })
  .toString();

describe('InformerPolicyStore', () => {
  it('is ready after the initial sync and compiles policies into the snapshot', async () => {
    const client = new FakeKubeClient();
    client.seed(
      CLUSTER_MODEL_POLICIES,
      clusterPolicy('prod', { sources: ['oci://registry.example.com/**'] }),
    );
    client.seed(NAMESPACES, namespace('team-a', { env: 'prod' }));
    const { store } = await started(client);
    expect(store.ready()).toBe(true);
    expect(store.snapshot().policies.size).toBe(1);
    expect(store.snapshot().cluster.namespaceLabels('team-a')?.env).toBe('prod');
    await store.stop();
  });

  it('recompiles on change and notifies listeners; invalid policies are errors naming the field', async () => {
    const client = new FakeKubeClient();
    const { store, clock } = await started(client);
    const seen: number[] = [];
    store.onChange((s) => seen.push(s.policies.size));
    client.seed(CLUSTER_MODEL_POLICIES, clusterPolicy('ok'));
    client.seed(MODEL_POLICIES, modelPolicy('team-a', 'bad', { enforcement: 'Sometimes' }));
    await clock.advance(20);
    // The invalid policy is in the set too: it applies failing closed (CompiledPolicy.broken).
    expect(seen).toEqual([2]);
    expect(store.snapshot().policies.policies.find((p) => p.broken)?.id).toBe('ModelPolicy/team-a/bad');
    const errors = store.snapshot().errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ source: 'ModelPolicy/team-a/bad', reason: 'InvalidSpec' });
    expect(errors[0]?.message).toContain('spec.enforcement');
    expect(store.compileStates().map((s) => [s.id, s.result.ok])).toEqual([
      ['ClusterModelPolicy/ok', true],
      ['ModelPolicy/team-a/bad', false],
    ]);
    await store.stop();
  });

  it('watches exactly the referenced Secrets and resolves keys when they appear', async () => {
    const client = new FakeKubeClient();
    client.seed(SECRETS, secret('modelgate-system', 'unrelated', { x: 'y' }));
    client.seed(CLUSTER_MODEL_POLICIES, clusterPolicy('signed', keyAuthority));
    const { store, clock } = await started(client);
    expect(store.snapshot().errors[0]?.reason).toBe('KeysUnresolved');
    expect(store.snapshot().errors[0]?.message).toContain('spec.authorities[0]');
    expect(store.snapshot().cluster.secretData('modelgate-system', 'unrelated')).toBeUndefined();
    client.seed(
      SECRETS,
      secret('modelgate-system', 'release-pub', {
        'cosign.pub': '-----BEGIN PUBLIC KEY-----\nMFk=\n-----END PUBLIC KEY-----\n',
      }),
    );
    await clock.advance(20);
    // Resolved, but not a usable key: the policy is broken with the reason, naming the authority.
    expect(store.snapshot().errors[0]).toMatchObject({ reason: 'TrustMaterialInvalid' });
    expect(store.snapshot().errors[0]?.message).toContain('spec.authorities[0] (release)');
    client.seed(SECRETS, secret('modelgate-system', 'release-pub', { 'cosign.pub': REAL_PUBLIC_KEY }));
    await clock.advance(20);
    expect(store.snapshot().errors).toEqual([]);
    expect(store.snapshot().policies.size).toBe(1);
    // No longer referenced: the watch stops and the data leaves memory.
    await client.delete(CLUSTER_MODEL_POLICIES, 'signed');
    await clock.advance(20);
    expect(store.snapshot().cluster.secretData('modelgate-system', 'release-pub')).toBeUndefined();
    expect(store.informers.map((i) => i.resource)).not.toContain('secrets');
    await store.stop();
  });

  it('keeps only bundle-labelled ConfigMaps and drops one that loses the label', async () => {
    const client = new FakeKubeClient();
    const cm = (labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'root', namespace: 'modelgate-system', labels },
      data: { 'root.json': '{}' },
    });
    client.seed(CONFIG_MAPS, cm({ 'modelgate.io/bundle': 'true' }));
    const { store, clock } = await started(client);
    expect(store.snapshot().cluster.configMapData('modelgate-system', 'root')).toEqual({ 'root.json': '{}' });
    client.seed(CONFIG_MAPS, cm({})); // leaves the watch's label selection: delivered as DELETED
    await clock.advance(20);
    await flush();
    expect(store.snapshot().cluster.configMapData('modelgate-system', 'root')).toBeUndefined();
    await store.stop();
  });

  it('a ModelPolicy reads Secrets only in its own namespace', () => {
    expect(referencedSecrets(modelPolicy('team-a', 'p', keyAuthority), 'modelgate-system')).toEqual([
      'team-a/release-pub',
    ]);
    expect(referencedSecrets(clusterPolicy('p', keyAuthority), 'modelgate-system')).toEqual([
      'modelgate-system/release-pub',
    ]);
  });
});
