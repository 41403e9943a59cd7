// OCI-native models on the real node (issue 17): modelgate installed with helm from the image built here;
// model images pushed by digest to the run's registry (OCI 1.1 referrers API, `--referrers=spec`), signed in
// model-signing's OCI mode and attached as referrers by `modelgate sign --oci-manifest --attach`. The
// controller finds the signature in the registry, scans the layers and records both; the webhooks verify
// at admission, and the pod starts with no verifier — no re-hash. Two policies: one that injects the
// verifier (an unsigned image volume falls back to it, as before) and one that does not (only evidence in
// the registry counts, so unsigned and re-pushed models are refused at admission). A second registry,
// without the referrers API (bundles under the sha256-<hex> tag), is stopped to show an outage: what was
// proven keeps being admitted, what was never resolved is refused.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushDirectoryImage } from '../../scripts/image/oci.ts';
import { repoRoot, run } from '../../scripts/cluster/control-plane.ts';
import type { Registry } from '../../scripts/cluster/node/registry.ts';
import {
  installInClusterModelgate,
  type InClusterModelgate,
} from '../../scripts/demo/in-cluster-modelgate.ts';
import { evidenceObjectName, parseEvidence, type OciEvidenceRecord } from '../../src/oci/evidence.ts';
import { REAL_NODE_LABEL, REAL_NODE_TAINT, startCluster, type Cluster } from './cluster.ts';
import { makeSigningKey, startRegistry, type PodStatus, type SigningKey } from './models.ts';
import { eventually as poll } from './eventually.ts';

const suffix = randomBytes(3).toString('hex');
const NS = `e2e-oci-${suffix}`;
/** Selected by the policy that injects no verifier: only a signature in the registry admits a model. */
const NS_STRICT = `e2e-oci-strict-${suffix}`;
const MG_NS = `mg-oci-${suffix}`;
const LABEL = 'modelgate.io/e2e-oci';
const POLICY = `e2e-oci-${suffix}`;
const POLICY_STRICT = `e2e-oci-strict-${suffix}`;
let cluster: Cluster;
let mg: InClusterModelgate;
let key: SigningKey;
let work: string;
let second: Registry | undefined;

const SAFE_FILES: Record<string, Buffer | string> = {
  'config.json': '{"architectures": ["TinyNet"], "hidden_size": 8}\n',
  'model.safetensors': (() => {
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    return Buffer.concat([len, header, Buffer.alloc(16, 1)]);
  })(),
};

/** Pods on the real node pull and start: a longer default wait. */
const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000) =>
  poll(what, probe, timeoutMs);

/** `modelgate <args>` from this checkout. */
async function modelgate(args: string[]) {
  return run(process.execPath, [join(repoRoot, 'bin', 'modelgate.js'), ...args], { timeoutMs: 120_000 });
}

/**
 * A one-layer runnable image of `files` pushed to `registry` (tag v1); its reference by digest. Each
 * repository's image holds a README naming it: records are per digest, and two repositories with the same
 * bytes would share one (and its signature).
 */
async function pushModel(
  registry: string,
  name: string,
  files: Record<string, Buffer | string>,
): Promise<string> {
  const dir = mkdtempSync(join(work, `${name}-`));
  for (const [path, content] of Object.entries({ 'README.md': `model ${name}\n`, ...files })) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content, { mode: 0o644 });
  }
  return pushDirectoryImage(dir, registry, `models/${name}`, 'v1');
}

/** `modelgate sign --oci-manifest <ref> --attach`: signs the manifest and attaches the bundle as a referrer. */
async function signAndAttach(
  reference: string,
  registry: string,
  how: RegExp = /\(OCI referrers API\)/,
): Promise<void> {
  const r = await modelgate([
    'sign',
    '--oci-manifest',
    reference,
    '--key',
    join(work, 'key.pem'),
    '--attach',
    '--insecure-registry',
    registry,
    '--registry-auth',
    join(work, 'no-auth.json'),
  ]);
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
  expect(r.stdout).toMatch(/attached as referrer sha256:[0-9a-f]{64}/);
  expect(r.stdout).toMatch(how);
}

function modelPod(name: string, reference: string, namespace = NS): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace },
    spec: {
      nodeSelector: { [REAL_NODE_LABEL.key]: REAL_NODE_LABEL.value },
      tolerations: [{ key: REAL_NODE_TAINT.key, operator: 'Exists', effect: REAL_NODE_TAINT.effect }],
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'server',
          image: cluster.node.images.busybox,
          command: ['sh', '-c', 'ls -l /models/model && exec sleep 3600'],
          volumeMounts: [{ name: 'model', mountPath: '/models/model', readOnly: true }],
          readinessProbe: { exec: { command: ['true'] }, periodSeconds: 1 },
        },
      ],
      volumes: [{ name: 'model', image: { reference } }],
    },
  };
}

const apply = (obj: Record<string, unknown>, extra: string[] = []) =>
  cluster.kubectl(['apply', ...extra, '-f', '-'], { input: yaml.dump(obj) });

/** Applies until the webhook stops saying "verification pending" (the controller resolves meanwhile). */
async function applyUntilDecided(
  obj: Record<string, unknown>,
  extra: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return eventually('a decision that is not "verification pending"', async () => {
    const r = await apply(obj, extra);
    if (r.code !== 0 && /verification pending/.test(r.stderr)) return undefined;
    return { code: r.code, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
  });
}

async function podStatus(name: string, namespace = NS): Promise<PodStatus | undefined> {
  const r = await cluster.kubectl(['get', 'pod', name, '-n', namespace, '-o', 'jsonpath={.status}']);
  return r.code === 0 && r.stdout ? (JSON.parse(r.stdout) as PodStatus) : undefined;
}

async function podReady(name: string, namespace = NS): Promise<PodStatus> {
  return eventually(`pod ${name} Ready`, async () => {
    const s = await podStatus(name, namespace);
    return s?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? s : undefined;
  });
}

async function record(digest: string): Promise<OciEvidenceRecord | undefined> {
  const r = await cluster.kubectl([
    'get',
    'configmap',
    evidenceObjectName(digest),
    '-n',
    MG_NS,
    '-o',
    'jsonpath={.data.evidence\\.json}',
  ]);
  return r.code === 0 && r.stdout ? parseEvidence(r.stdout) : undefined;
}

const digestOf = (reference: string) => reference.slice(reference.indexOf('@') + 1);

const models: Record<string, string> = {};
const timings: Record<string, number> = {};

function policyFor(name: string, namespace: string, inject: boolean, registries: string[]) {
  return {
    apiVersion: 'modelgate.io/v1alpha1',
    kind: 'ClusterModelPolicy',
    metadata: { name },
    spec: {
      enforcement: 'Enforce',
      match: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } } },
      sources: registries.map((r) => `oci://${r}/models/**`),
      requirePinned: true,
      authorities: [{ name: 'e2e-release', key: { pem: key.publicKeyPem } }],
      // Models proven at admission are not re-hashed: the verifier is injected only for the others.
      verifier: { inject },
      formats: { deny: ['pickle'] },
      nonModelImages: [
        {
          repository: cluster.node.images.busybox.split('@')[0]!,
          reason: 'busybox, the stand-in server of the tests',
        },
      ],
    },
  };
}

beforeAll(async () => {
  cluster = await startCluster();
  key = makeSigningKey();
  mkdirSync(join(repoRoot, '.cache'), { recursive: true });
  work = mkdtempSync(join(repoRoot, '.cache', 'e2e-oci-'));
  writeFileSync(join(work, 'key.pem'), key.privateKeyPem);
  writeFileSync(join(work, 'key.pub'), key.publicKeyPem);
  writeFileSync(join(work, 'no-auth.json'), '{"auths":{}}');
  // No referrers API: bundles are attached and found under the sha256-<hex> tag.
  second = await startRegistry(cluster, 'none');
  const registry = cluster.node.registry;
  mg = await installInClusterModelgate(cluster, {
    release: `mg-oci-${suffix}`,
    namespace: MG_NS,
    namespaceLabel: LABEL,
    set: [
      `ociEvidence.insecureRegistries[0]=${registry}`,
      `ociEvidence.insecureRegistries[1]=${second.address}`,
      // Short periods so that the outage case sees a failed refresh within seconds.
      'controller.extraArgs[0]=--oci-refresh=4s',
      'controller.extraArgs[1]=--oci-retry=3s',
    ],
  });
  for (const ns of [NS, NS_STRICT]) {
    await cluster.kubectl(['create', 'namespace', ns]);
    await cluster.kubectl(['label', 'namespace', ns, `${LABEL}=true`]);
  }

  models.signed = await pushModel(registry, `signed-${suffix}`, SAFE_FILES);
  await signAndAttach(models.signed, registry);
  models.unsigned = await pushModel(registry, `unsigned-${suffix}`, SAFE_FILES);
  // The same repository and tag re-pushed with a changed layer: a new digest; the signature stays on v1's.
  models.original = await pushModel(registry, `repushed-${suffix}`, SAFE_FILES);
  await signAndAttach(models.original, registry);
  models.repushed = await pushModel(registry, `repushed-${suffix}`, {
    ...SAFE_FILES,
    'config.json': '{"architectures": ["Backdoored"], "hidden_size": 8}\n',
  });
  models.outageSigned = await pushModel(second.address, `outage-${suffix}`, SAFE_FILES);
  await signAndAttach(models.outageSigned, second.address, /\(sha256-<hex> tag index\)/);
  models.outageNever = await pushModel(second.address, `outage-never-${suffix}`, SAFE_FILES);
  await signAndAttach(models.outageNever, second.address, /\(sha256-<hex> tag index\)/);

  expect(new Set(Object.values(models).map(digestOf)).size).toBe(Object.keys(models).length);
  const registries = [registry, second.address];
  for (const p of [
    policyFor(POLICY, NS, true, registries),
    policyFor(POLICY_STRICT, NS_STRICT, false, registries),
  ]) {
    const r = await apply(p);
    expect(r.code, r.stderr).toBe(0);
  }
  // Enforced once the webhooks' informers have the policies: a tag reference is refused.
  for (const ns of [NS, NS_STRICT])
    await eventually(`the policy of ${ns} to be enforced`, async () => {
      const probe = modelPod('probe', models.signed!.replace(/@sha256:.*/, ':v1'), ns);
      const p = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: yaml.dump(probe) });
      return p.code !== 0 ? true : undefined;
    });
}, 1_200_000);

afterAll(async () => {
  await second?.stop();
  await cluster?.kubectl(['delete', 'namespace', NS, NS_STRICT, '--wait=true', '--timeout=120s']);
  await cluster?.kubectl(['delete', 'clustermodelpolicy', POLICY, POLICY_STRICT, '--ignore-not-found']);
  await mg?.uninstall();
  if (work) rmSync(work, { recursive: true, force: true });
  if (Object.keys(timings).length) process.stdout.write(`OCI e2e timings (ms): ${JSON.stringify(timings)}\n`);
});

const initContainerNames = (stdout: string): string[] =>
  ((JSON.parse(stdout) as { spec: { initContainers?: { name: string }[] } }).spec.initContainers ?? []).map(
    (c) => c.name,
  );

describe('OCI models verified at admission on the real node', { timeout: 300_000 }, () => {
  it('a signed, digest-pinned OCI model is admitted and starts with no verifier (no re-hash)', async () => {
    const d = await applyUntilDecided(modelPod('signed', models.signed!));
    expect(d.code, d.stderr).toBe(0);
    timings.firstAdmission = d.ms;
    const status = await podReady('signed');
    expect(status.initContainerStatuses ?? []).toEqual([]);
    const spec = await cluster.kubectl(['get', 'pod', 'signed', '-n', NS, '-o', 'json']);
    expect(initContainerNames(spec.stdout)).toEqual([]);
    const logs = await cluster.kubectl(['logs', 'signed', '-n', NS]);
    expect(logs.stdout).toMatch(/model\.safetensors/);
    // A second pod of the same model: decided from the record at once.
    const started = Date.now();
    const again = await apply(modelPod('signed-again', models.signed!));
    expect(again.code, again.stderr).toBe(0);
    timings.cachedAdmission = Date.now() - started;
  });

  it('the signature was discovered as an OCI 1.1 referrer, and the layers were scanned by the controller', async () => {
    const r = await eventually('the record', () => record(digestOf(models.signed!)));
    expect(r.signatures).toMatchObject({ api: 'referrers' });
    expect(r.signatures?.bundles).toHaveLength(1);
    expect(r.manifest).toMatchObject({ shape: 'runnable-image' });
    expect(r.scan).toMatchObject({ status: 'complete', problems: [] });
    expect(r.scan?.formats.safetensors).toMatch(/model\.safetensors/);
    // The CLI finds and verifies the same referrer.
    const v = await modelgate([
      'verify',
      '--oci-manifest',
      models.signed!,
      '--key',
      join(work, 'key.pub'),
      '--insecure-registry',
      cluster.node.registry,
      '--registry-auth',
      join(work, 'no-auth.json'),
    ]);
    expect(v.code, `${v.stdout}${v.stderr}`).toBe(0);
    expect(v.stdout).toMatch(/^VALID .*referrer sha256:/);
  });

  it('the same repository re-pushed with a changed layer under a new digest is refused; its signed predecessor is admitted', async () => {
    expect(digestOf(models.repushed!)).not.toBe(digestOf(models.original!));
    const d = await applyUntilDecided(modelPod('repushed', models.repushed!, NS_STRICT));
    expect(d.code).not.toBe(0);
    expect(d.stderr).toMatch(/no model-signing signature over manifest/);
    const ok = await applyUntilDecided(modelPod('original', models.original!, NS_STRICT));
    expect(ok.code, ok.stderr).toBe(0);
    const status = await podReady('original', NS_STRICT);
    expect(status.initContainerStatuses ?? []).toEqual([]);
  });

  it('an unsigned model is refused where only registry evidence counts; where the verifier is injected it falls back to it (runtime-hash)', async () => {
    const d = await applyUntilDecided(modelPod('unsigned', models.unsigned!, NS_STRICT));
    expect(d.code).not.toBe(0);
    expect(d.stderr).toMatch(/unsigned.*no model-signing signature over manifest/s);
    // Under the policy that injects the verifier: admitted with it (the bundle would be in the image).
    const f = await applyUntilDecided(modelPod('unsigned', models.unsigned!), [
      '--dry-run=server',
      '-o',
      'json',
    ]);
    expect(f.code, f.stderr).toBe(0);
    expect(initContainerNames(f.stdout)).toEqual(['modelgate-verifier']);
  });

  it('a registry outage: what was proven keeps being admitted, a digest never resolved is refused', async () => {
    const ok = await applyUntilDecided(modelPod('outage-before', models.outageSigned!));
    expect(ok.code, ok.stderr).toBe(0);
    await podReady('outage-before');
    // Found under the sha256-<hex> tag: that registry has no referrers API.
    expect((await record(digestOf(models.outageSigned!)))?.signatures).toMatchObject({ api: 'tag' });
    await second!.stop();
    // The controller's refreshes now fail; the record keeps its facts with the error.
    const kept = await eventually('a failed refresh', async () => {
      const r = await record(digestOf(models.outageSigned!));
      return r?.error ? r : undefined;
    });
    expect(kept.error).toMatch(/cannot reach|ECONNREFUSED|fetch failed/);
    expect(kept.signatures?.bundles).toHaveLength(1);
    // The image is on the node already: the pod starts without the registry.
    const during = await apply(modelPod('outage-during', models.outageSigned!));
    expect(during.code, during.stderr).toBe(0);
    await podReady('outage-during');
    const never = await eventually('a refusal that names the outage', async () => {
      const r = await apply(modelPod('outage-never', models.outageNever!));
      return r.code !== 0 && /the registry could not tell/.test(r.stderr) ? r : undefined;
    });
    expect(never.stderr).toMatch(/outage-never/);
  });
});
