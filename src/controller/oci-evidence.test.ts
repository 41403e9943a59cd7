import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { policy } from '../../test/support/builders.ts';
import { silentLogger } from '../kube/builders.test-support.ts';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { CONFIG_MAPS, NAMESPACES, SECRETS } from '../kube/resources.ts';
import type { KubeObject } from '../kube/types.ts';
import { EVIDENCE_KEY, evidenceObjectName, parseEvidence, requestObject } from '../oci/evidence.ts';
import { FakeRegistry } from '../oci/fake-registry.test-support.ts';
import { pushImage, safetensors, signAndAttach } from '../oci/oci-images.test-support.ts';
import { dataClassPickle } from '../scanning/testing.test-support.ts';
import { RegistryClient } from '../oci/registry.ts';
import { MemoryClusterView } from '../policy/cluster-view.ts';
import { compilePolicy } from '../policy/compile.ts';
import { PolicySet } from '../policy/policy-set.ts';
import type { PolicySnapshot } from '../policy/store.ts';
import { VerdictCache } from '../signing/cache.ts';
import { loadSigner } from '../signing/sign.ts';
import { OciEvidenceReconciler, type OciEvidenceOptions } from './oci-evidence.ts';

const NS = 'modelgate-system';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const signer = loadSigner(privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const scratch = mkdtempSync(join(tmpdir(), 'mg-oci-rec-'));

function snapshot(withAuthorities = true, formats?: Record<string, unknown>): PolicySnapshot {
  const view = new MemoryClusterView({ evidenceNamespace: NS });
  view.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ml', labels: { env: 'prod' } } });
  view.upsert({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other', labels: { env: 'dev' } } });
  const match = { namespaceSelector: { matchLabels: { env: 'prod' } } };
  const spec = withAuthorities
    ? { match, authorities: [{ name: 'release', key: { pem } }], ...(formats ? { formats } : {}) }
    : { match, requirePinned: true };
  const r = compilePolicy(policy('p', spec), view, {
    controllerNamespace: NS,
    validateTrust: () => undefined,
  });
  if (!r.ok) throw new Error(r.message);
  return { policies: new PolicySet([r.policy]), cluster: view, errors: [] };
}

const registries: FakeRegistry[] = [];
const reconcilers: OciEvidenceReconciler[] = [];
afterEach(async () => {
  await Promise.all(reconcilers.splice(0).map((r) => r.stop()));
  await Promise.all(registries.splice(0).map((r) => r.stop()));
});

async function setup(
  opts: {
    auth?: boolean;
    options?: OciEvidenceOptions;
    withAuthorities?: boolean;
    formats?: Record<string, unknown>;
  } = {},
) {
  const reg = await new FakeRegistry({
    referrers: 'spec',
    ...(opts.auth ? { auth: { user: 'u', password: 'p' } } : {}),
  }).start();
  registries.push(reg);
  const client = new FakeKubeClient();
  client.seed(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } } as KubeObject);
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const cache = new VerdictCache();
  let snap = snapshot(opts.withAuthorities ?? true, opts.formats);
  const setSnapshot = (next: PolicySnapshot) => {
    snap = next;
  };
  const rec = new OciEvidenceReconciler({
    client,
    clock,
    logger: silentLogger,
    namespace: NS,
    snapshot: () => snap,
    verify: (b, t) => cache.verify(b, t),
    insecureHosts: [reg.host],
    scan: { scratchDir: scratch },
    ...opts.options,
  });
  reconcilers.push(rec);
  const regClient = new RegistryClient({
    insecureHosts: new Set([reg.host]),
    ...(opts.auth ? { credentials: () => [{ username: 'u', password: 'p', source: 'test' }] } : {}),
  });
  const settle = async () => {
    for (let i = 0; i < 20; i++) {
      await clock.advance(100);
      await rec.idle();
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const record = (digest: string) => {
    const o = client.peek(CONFIG_MAPS, evidenceObjectName(digest), NS);
    return o ? parseEvidence((o.data as Record<string, string>)[EVIDENCE_KEY]!) : undefined;
  };
  return { reg, client, clock, rec, regClient, settle, record, setSnapshot };
}

const request = (digest: string, uri: string, pullSecrets: string[] = []) =>
  requestObject(
    {
      digest,
      repository: uri.replace(/^oci:\/\//, '').replace(/@.*$/, ''),
      namespace: 'ml',
      pullSecrets,
      requestedAt: 0,
    },
    NS,
  ) as unknown as KubeObject;

describe('OciEvidenceReconciler', () => {
  it('answers a webhook request with a record, and removes the request', async () => {
    const { reg, client, rec, regClient, settle, record } = await setup();
    const img = pushImage(reg, 'models/llama', [{ name: 'm/model.safetensors', data: safetensors() }]);
    await signAndAttach(regClient, img, signer);
    rec.start();
    await settle();
    const req = request(img.digest, `oci://${reg.host}/models/llama@${img.digest}`);
    await client.create(CONFIG_MAPS, req);
    await settle();
    const r = record(img.digest);
    expect(r?.signatures?.bundles).toHaveLength(1);
    expect(r?.scan?.status).toBe('complete');
    expect(client.peek(CONFIG_MAPS, req.metadata.name, NS)).toBeUndefined();
  });

  it('resolves what watched workloads pin, ahead of need; not where no policy with authorities applies', async () => {
    const { reg, rec, regClient, settle, record } = await setup();
    const img = pushImage(reg, 'models/llama', [{ name: 'm/model.safetensors', data: safetensors() }]);
    await signAndAttach(regClient, img, signer);
    rec.start();
    await settle();
    rec.workloadWants('ml/d', 'ml', [
      {
        digest: img.digest,
        uri: `oci://${reg.host}/models/llama@${img.digest}`,
        pullSecrets: [],
        serviceAccount: 'default',
      },
    ]);
    rec.workloadWants('other/d', 'other', [
      {
        digest: `sha256:${'0'.repeat(64)}`,
        uri: `oci://${reg.host}/models/x@sha256:${'0'.repeat(64)}`,
        pullSecrets: [],
        serviceAccount: 'default',
      },
    ]);
    await settle();
    expect(record(img.digest)?.signatures?.bundles).toHaveLength(1);
    expect(record(`sha256:${'0'.repeat(64)}`)).toBeUndefined();
  });

  it('scans with the pickle globals the policies allow, records those the model uses, and scans again when a policy allows more', async () => {
    const { reg, rec, regClient, settle, record, clock, setSnapshot } = await setup({
      formats: { allowPickleGlobals: ['acme.prep.Scale'] },
    });
    const img = pushImage(reg, 'models/sklearn', [
      { name: 'm/pipeline.pkl', data: dataClassPickle('acme.prep', 'Clip') },
    ]);
    await signAndAttach(regClient, img, signer);
    rec.start();
    await settle();
    const ref = {
      digest: img.digest,
      uri: `oci://${reg.host}/models/sklearn@${img.digest}`,
      pullSecrets: [],
      serviceAccount: 'default',
    };
    rec.workloadWants('ml/d', 'ml', [ref]);
    await settle();
    const before = record(img.digest)!.scan!;
    expect(before).toMatchObject({ status: 'complete', allowGlobals: ['acme.prep.Scale'] });
    expect(before.problems.map((p) => p.verdict)).toEqual(['suspicious']);
    // The policy now allows the class: the next tick looks again and the scan is redone with it.
    setSnapshot(snapshot(true, { allowPickleGlobals: ['acme.prep.Clip', 'acme.prep.Scale'] }));
    await clock.advance(31_000);
    await settle();
    const after = record(img.digest)!.scan!;
    expect(after).toMatchObject({
      status: 'complete',
      problems: [],
      allowGlobals: ['acme.prep.Clip', 'acme.prep.Scale'],
      usedGlobals: ['acme.prep.Clip'],
    });
  });

  it("uses the workload's pull secret for a private registry", async () => {
    const { reg, client, rec, regClient, settle, record } = await setup({ auth: true });
    const img = pushImage(reg, 'models/llama', [{ name: 'm/model.safetensors', data: safetensors() }]);
    await signAndAttach(regClient, img, signer);
    client.seed(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'pull', namespace: 'ml' },
      type: 'kubernetes.io/dockerconfigjson',
      data: {
        '.dockerconfigjson': Buffer.from(
          JSON.stringify({ auths: { [reg.host]: { username: 'u', password: 'p' } } }),
        ).toString('base64'),
      },
    } as unknown as KubeObject);
    rec.start();
    await settle();
    await client.create(
      CONFIG_MAPS,
      request(img.digest, `oci://${reg.host}/models/llama@${img.digest}`, ['pull']),
    );
    await settle();
    expect(record(img.digest)?.error).toBeUndefined();
    expect(record(img.digest)?.signatures?.bundles).toHaveLength(1);
  });

  it('an outage keeps a positive record (with the error); a digest never resolved is recorded as failed', async () => {
    const { reg, client, clock, rec, regClient, settle, record } = await setup();
    const img = pushImage(reg, 'models/llama', [{ name: 'm/model.safetensors', data: safetensors() }]);
    await signAndAttach(regClient, img, signer);
    rec.start();
    await settle();
    rec.workloadWants('ml/d', 'ml', [
      {
        digest: img.digest,
        uri: `oci://${reg.host}/models/llama@${img.digest}`,
        pullSecrets: [],
        serviceAccount: 'default',
      },
    ]);
    await settle();
    reg.status = 503;
    await clock.advance(11 * 60_000); // past the refresh period
    await settle();
    const kept = record(img.digest);
    expect(kept?.error).toMatch(/503/);
    expect(kept?.signatures?.bundles).toHaveLength(1);
    const other = `sha256:${'1'.repeat(64)}`;
    await client.create(CONFIG_MAPS, request(other, `oci://${reg.host}/models/llama@${other}`));
    await settle();
    expect(record(other)).toMatchObject({ error: expect.stringMatching(/503/) });
    expect(record(other)?.manifest).toBeUndefined();
  });

  it('deletes records nothing wants any more', async () => {
    const { reg, client, clock, rec, regClient, settle, record } = await setup({
      options: { unusedMs: 60 * 60_000 },
    });
    const img = pushImage(reg, 'models/llama', [{ name: 'm/model.safetensors', data: safetensors() }]);
    await signAndAttach(regClient, img, signer);
    rec.start();
    await settle();
    await client.create(CONFIG_MAPS, request(img.digest, `oci://${reg.host}/models/llama@${img.digest}`));
    await settle();
    expect(record(img.digest)).toBeDefined();
    await clock.advance(2 * 60 * 60_000);
    await settle();
    await clock.advance(2 * 60 * 60_000);
    await settle();
    expect(record(img.digest)).toBeUndefined();
  });

  it('refuses a request that is not one, and one where no policy needs it', async () => {
    const { client, rec, settle } = await setup({ withAuthorities: false });
    rec.start();
    await settle();
    const bad = {
      ...request(`sha256:${'2'.repeat(64)}`, 'oci://r/m'),
      data: { 'request.json': '{"x":1}' },
    } as KubeObject;
    await client.create(CONFIG_MAPS, bad);
    await client.create(CONFIG_MAPS, request(`sha256:${'3'.repeat(64)}`, 'oci://r/m'));
    await settle();
    expect(client.all(CONFIG_MAPS).filter((o) => o.metadata.namespace === NS)).toEqual([]);
  });
});
