// The runtime half on real pods: modelgate installed with helm from the image built here, the verifier it
// injects running as an init container on the real node against a model in an image volume pulled by
// digest from the run's registry. The verdict is what the API server reports, from the kubelet:
// status.initContainerStatuses[].state.terminated.message.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installInClusterModelgate,
  type InClusterModelgate,
} from '../../scripts/demo/in-cluster-modelgate.ts';
import { startCluster, type Cluster } from './cluster.ts';
import {
  bundleConfigMap,
  makeSigningKey,
  modelPod,
  PICKLE_PAYLOAD,
  pushModelImage,
  runtimePolicy,
  type ModelImage,
  type PodStatus,
  type SigningKey,
} from './models.ts';

const suffix = randomBytes(3).toString('hex');
const NS = `e2e-runtime-${suffix}`;
const LABEL = 'modelgate.io/e2e-runtime';
const POLICY = `e2e-runtime-${suffix}`;
let cluster: Cluster;
let mg: InClusterModelgate;
let key: SigningKey;
const models: Record<string, ModelImage> = {};

const apply = async (obj: Record<string, unknown>) =>
  cluster.kubectl(['apply', '-f', '-'], { input: yaml.dump(obj) });

async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function podStatus(name: string): Promise<PodStatus | undefined> {
  const r = await cluster.kubectl(['get', 'pod', name, '-n', NS, '-o', 'jsonpath={.status}']);
  return r.code === 0 && r.stdout ? (JSON.parse(r.stdout) as PodStatus) : undefined;
}

/** The verifier's termination message, parsed: one result per model. */
interface VerifierResult {
  model: string;
  verdict: string;
  digest?: string;
  reason?: string;
  changed?: string[];
  scan?: string[];
}

function verifierResults(status: PodStatus): VerifierResult[] {
  const v = status.initContainerStatuses?.find((c) => c.name === 'modelgate-verifier');
  const message = v?.state?.terminated?.message;
  if (!message) throw new Error(`no verifier termination message in ${JSON.stringify(status)}`);
  return JSON.parse(message) as VerifierResult[];
}

async function verifierFinished(name: string): Promise<PodStatus> {
  return eventually(`the verifier of ${name} to finish`, async () => {
    const s = await podStatus(name);
    const v = s?.initContainerStatuses?.find((c) => c.name === 'modelgate-verifier');
    return v?.state?.terminated ? s : undefined;
  });
}

const SAFE_FILES = {
  'config.json': '{"architectures": ["TinyNet"], "hidden_size": 8}\n',
  'model.safetensors': (() => {
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    return Buffer.concat([len, header, Buffer.alloc(16, 1)]);
  })(),
};

beforeAll(async () => {
  cluster = await startCluster();
  key = makeSigningKey();
  mg = await installInClusterModelgate(cluster, {
    release: `mg-rt-${suffix}`,
    namespace: `mg-rt-${suffix}`,
    namespaceLabel: LABEL,
  });
  await cluster.kubectl(['create', 'namespace', NS]);
  await cluster.kubectl(['label', 'namespace', NS, `${LABEL}=true`]);
  models.signed = await pushModelImage(cluster, `signed-${suffix}`, SAFE_FILES, key);
  models.tampered = await pushModelImage(cluster, `tampered-${suffix}`, SAFE_FILES, key, {
    afterSigning: (dir) =>
      writeFileSync(`${dir}/config.json`, '{"architectures": ["Backdoored"], "hidden_size": 8}\n'),
  });
  models.pickle = await pushModelImage(
    cluster,
    `pickle-${suffix}`,
    { ...SAFE_FILES, 'extra.pkl': PICKLE_PAYLOAD },
    key,
  );
  for (const [name, m] of Object.entries(models)) {
    const r = await apply(bundleConfigMap(NS, `sig-${name}`, m.bundle));
    expect(r.code, r.stderr).toBe(0);
  }
  expect(
    (await apply(runtimePolicy(POLICY, { key, registry: cluster.node.registry, namespaceLabel: LABEL })))
      .code,
  ).toBe(0);
  // The webhook enforces the policy once its informers have it: an unsigned declaration is refused.
  await eventually('the policy to be enforced', async () => {
    const pod = modelPod({
      namespace: NS,
      name: 'probe',
      model: { ...models.signed!, modelDigest: `sha256:${'0'.repeat(64)}` },
      bundleConfigMap: 'sig-signed',
      image: cluster.node.images.busybox,
    });
    const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: yaml.dump(pod) });
    return r.code !== 0 ? true : undefined;
  });
}, 900_000);

afterAll(async () => {
  await cluster?.kubectl(['delete', 'namespace', NS, '--wait=true', '--timeout=120s']);
  await cluster?.kubectl(['delete', 'clustermodelpolicy', POLICY, '--ignore-not-found']);
  await mg?.uninstall();
});

describe('the runtime verifier on the real node', () => {
  it('starts a pod whose image volume holds the signed model; the verifier reports valid', async () => {
    const r = await apply(
      modelPod({
        namespace: NS,
        name: 'signed',
        model: models.signed!,
        bundleConfigMap: 'sig-signed',
        image: cluster.node.images.busybox,
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    const status = await eventually('pod signed Ready', async () => {
      const s = await podStatus('signed');
      return s?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? s : undefined;
    });
    const [result] = verifierResults(status);
    expect(result).toMatchObject({ model: 'signed', verdict: 'valid', digest: models.signed!.modelDigest });
    const verifier = status.initContainerStatuses?.find((c) => c.name === 'modelgate-verifier');
    expect(verifier?.state?.terminated?.exitCode).toBe(0);
  });

  it('fails a pod whose files differ from the signed manifest at start (Init:Error), with the reason, and the controller records it', async () => {
    const r = await apply(
      modelPod({
        namespace: NS,
        name: 'tampered',
        model: models.tampered!,
        bundleConfigMap: 'sig-tampered',
        image: cluster.node.images.busybox,
      }),
    );
    // Admitted: the declared digest is the one the bundle signs; only the files in the volume differ.
    expect(r.code, r.stderr).toBe(0);
    const status = await verifierFinished('tampered');
    const verifier = status.initContainerStatuses?.find((c) => c.name === 'modelgate-verifier');
    expect(verifier?.state?.terminated?.exitCode).not.toBe(0);
    expect(verifier?.state?.terminated?.reason).toBe('Error');
    const [result] = verifierResults(status);
    expect(result?.verdict).toBe('invalid');
    expect(result?.changed).toEqual(['config.json']);
    expect(result?.reason).toBeTruthy();
    // The server never started.
    expect(status.containerStatuses?.[0]?.state?.running).toBeUndefined();
    const get = await cluster.kubectl(['get', 'pod', 'tampered', '-n', NS]);
    expect(get.stdout).toMatch(/Init:Error|Init:CrashLoopBackOff/);

    const event = await eventually('ModelVerificationFailed Event', async () => {
      const ev = await cluster.kubectl([
        'get',
        'events',
        '-n',
        NS,
        '--field-selector',
        'involvedObject.name=tampered',
        '-o',
        'json',
      ]);
      const items = (
        JSON.parse(ev.stdout || '{"items":[]}') as { items: { reason: string; message: string }[] }
      ).items;
      return items.find((e) => e.reason === 'ModelVerificationFailed');
    });
    expect(event.message).toContain('config.json');
    const report = await eventually('the verification PolicyReport', async () => {
      const rep = await cluster.kubectl([
        'get',
        'policyreport',
        'modelgate-verification',
        '-n',
        NS,
        '-o',
        'json',
      ]);
      if (rep.code !== 0) return undefined;
      const results =
        (JSON.parse(rep.stdout) as { results?: { result: string; properties?: Record<string, string> }[] })
          .results ?? [];
      return results.find((x) => x.result === 'fail');
    });
    expect(report.properties?.verdict).toBe('invalid');
    const controllerIp = (
      await cluster.kubectl([
        'get',
        'pods',
        '-n',
        mg.namespace,
        '-l',
        'app.kubernetes.io/component=controller',
        '-o',
        'jsonpath={.items[0].status.podIP}',
      ])
    ).stdout;
    const metrics = await eventually('verification metrics', async () => {
      const text = await fetch(`http://${controllerIp}:8081/metrics`).then(
        (res) => res.text(),
        () => '',
      );
      return /modelgate_verifications_total\{verdict="invalid"\} [1-9]/.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/modelgate_verifications_total\{verdict="valid"\} [1-9]/);
  });

  it('fails a signed model that carries a pickle payload on the format scan', async () => {
    const r = await apply(
      modelPod({
        namespace: NS,
        name: 'pickle',
        model: models.pickle!,
        bundleConfigMap: 'sig-pickle',
        image: cluster.node.images.busybox,
      }),
    );
    expect(r.code, r.stderr).toBe(0);
    const status = await verifierFinished('pickle');
    const verifier = status.initContainerStatuses?.find((c) => c.name === 'modelgate-verifier');
    expect(verifier?.state?.terminated?.exitCode).not.toBe(0);
    const [result] = verifierResults(status);
    expect(result?.verdict).not.toBe('valid');
    expect(result?.reason).toContain('format scan');
    expect(result?.reason).toContain('extra.pkl');
  });

  it('a container that writes to the verified volume after the verifier is refused at admission or fails', async () => {
    const attempt = modelPod({
      namespace: NS,
      name: 'rewrite',
      model: models.signed!,
      bundleConfigMap: 'sig-signed',
      image: cluster.node.images.busybox,
      readOnly: false,
      initContainers: [
        {
          name: 'swap-weights',
          image: cluster.node.images.busybox,
          command: ['sh', '-c', 'echo swapped > /models/model/model.safetensors'],
          volumeMounts: [{ name: 'model', mountPath: '/models/model' }],
        },
      ],
    });
    const r = await apply(attempt);
    if (r.code !== 0) {
      expect(r.stderr).toContain('denied the request');
      return;
    }
    // Admitted: the image volume is read-only whatever the pod asks, so the writer fails and the server
    // never starts on swapped weights.
    const status = await eventually('the writer to finish', async () => {
      const s = await podStatus('rewrite');
      const w = s?.initContainerStatuses?.find((c) => c.name === 'swap-weights');
      return w?.state?.terminated ? s : undefined;
    });
    const order = status.initContainerStatuses?.map((c) => c.name);
    expect(order?.[0]).toBe('modelgate-verifier');
    const writer = status.initContainerStatuses?.find((c) => c.name === 'swap-weights');
    expect(writer?.state?.terminated?.exitCode).not.toBe(0);
    const logs = await cluster.kubectl(['logs', 'rewrite', '-n', NS, '-c', 'swap-weights']);
    expect(logs.stdout + logs.stderr).toMatch(/Read-only file system/);
    expect(status.containerStatuses?.[0]?.state?.running).toBeUndefined();
  });

  it('a container that rewrites a verified writable volume (emptyDir filled by the storage initializer) after the verifier is refused at admission or fails', async () => {
    const pod = modelPod({
      namespace: NS,
      name: 'rewrite-emptydir',
      model: models.signed!,
      bundleConfigMap: 'sig-signed',
      image: cluster.node.images.busybox,
    });
    const spec = pod.spec as {
      volumes: Record<string, unknown>[];
      initContainers?: Record<string, unknown>[];
    };
    // The model reaches the pod the KServe way: downloaded into an emptyDir by the storage initializer
    // (here: copied from the signed image), then verified, then — the attack — rewritten.
    spec.volumes = [
      { name: 'model', emptyDir: {} },
      { name: 'source', image: { reference: models.signed!.reference } },
    ];
    spec.initContainers = [
      {
        name: 'storage-initializer',
        image: cluster.node.images.busybox,
        command: ['sh', '-c', 'cp -r /source/. /models/model/'],
        volumeMounts: [
          { name: 'source', mountPath: '/source', readOnly: true },
          { name: 'model', mountPath: '/models/model' },
        ],
      },
      {
        name: 'swap-weights',
        image: cluster.node.images.busybox,
        command: ['sh', '-c', 'echo swapped > /models/model/model.safetensors'],
        volumeMounts: [{ name: 'model', mountPath: '/models/model' }],
      },
    ];
    const annotations = (pod.metadata as { annotations: Record<string, string> }).annotations;
    const declared = JSON.parse(annotations['modelgate.io/models']!) as Record<string, unknown>[];
    declared[0]!.uri = `oci://${models.signed!.reference}`;
    // The source image is verified too (the verifier checks every model volume of the pod).
    declared.push({ ...declared[0], name: 'source', volume: 'source' });
    annotations['modelgate.io/models'] = JSON.stringify(declared);
    const r = await apply(pod);
    // Refused at admission: the writer runs after the verifier and could swap what it verified.
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('denied the request');
    expect(r.stderr).toContain('initContainers[2] "swap-weights" mounts volume "model" writable');
    // Without the writer the same pod is admitted, runs, and the verifier checks the copied model.
    spec.initContainers = spec.initContainers!.filter((c) => c.name !== 'swap-weights');
    (pod.metadata as { name: string }).name = 'copied-emptydir';
    const ok = await apply(pod);
    expect(ok.code, ok.stderr).toBe(0);
    const status = await eventually('pod copied-emptydir Ready', async () => {
      const s = await podStatus('copied-emptydir');
      return s?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? s : undefined;
    });
    expect(status.initContainerStatuses?.map((c) => c.name)).toEqual([
      'storage-initializer',
      'modelgate-verifier',
    ]);
    expect(verifierResults(status).map((x) => [x.model, x.verdict])).toEqual([
      ['rewrite-emptydir', 'valid'],
      ['source', 'valid'],
    ]);
  });
});
