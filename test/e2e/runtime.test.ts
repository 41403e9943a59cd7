// The runtime half on real pods: modelgate installed with helm from the image built here, the verifier it
// injects running as an init container on the real node against a model in an image volume pulled by
// digest from the run's registry. The verdict is what the API server reports, from the kubelet:
// status.initContainerStatuses[].state.terminated.message.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  installInClusterModelgate,
  type InClusterModelgate,
} from '../../scripts/demo/in-cluster-modelgate.ts';
import { repoRoot } from '../../scripts/cluster/control-plane.ts';
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
import { eventually as poll } from './eventually.ts';

const suffix = randomBytes(3).toString('hex');
const NS = `e2e-runtime-${suffix}`;
/** Models written by an init container into an emptyDir: a policy without sources (see below). */
const NS_WRITTEN = `e2e-runtime-written-${suffix}`;
/** The installation's webhook sees namespaces with this label; the policies select by their own labels. */
const LABEL = 'modelgate.io/e2e-runtime';
const POLICY = `e2e-runtime-${suffix}`;
const POLICY_WRITTEN = `e2e-runtime-written-${suffix}`;
let cluster: Cluster;
let mg: InClusterModelgate;
let key: SigningKey;
const models: Record<string, ModelImage> = {};

const apply = async (obj: Record<string, unknown>) =>
  cluster.kubectl(['apply', '-f', '-'], { input: yaml.dump(obj) });

/** Pods on the real node pull and start: a longer default wait. */
const eventually = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 240_000) =>
  poll(what, probe, timeoutMs);

async function podStatus(name: string, namespace = NS): Promise<PodStatus | undefined> {
  const r = await cluster.kubectl(['get', 'pod', name, '-n', namespace, '-o', 'jsonpath={.status}']);
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
  // The controller writes verification results to PolicyReports (wgpolicyk8s.io), a CRD clusters
  // install separately: present before the controller starts.
  const crd = join(repoRoot, 'crds', 'wgpolicyk8s', 'wgpolicyk8s.io_policyreports.yaml');
  expect((await cluster.kubectl(['apply', '--server-side', '-f', crd])).code).toBe(0);
  await cluster.kubectl([
    'wait',
    '--for=condition=established',
    '--timeout=60s',
    'crd/policyreports.wgpolicyk8s.io',
  ]);
  mg = await installInClusterModelgate(cluster, {
    release: `mg-rt-${suffix}`,
    namespace: `mg-rt-${suffix}`,
    namespaceLabel: LABEL,
  });
  for (const [ns, policy] of [
    [NS, 'registry'],
    [NS_WRITTEN, 'written'],
  ] as const) {
    await cluster.kubectl(['create', 'namespace', ns]);
    await cluster.kubectl([
      'label',
      'namespace',
      ns,
      `${LABEL}=true`,
      `modelgate.io/e2e-runtime-${policy}=true`,
    ]);
  }
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
  expect((await apply(bundleConfigMap(NS_WRITTEN, 'sig-signed', models.signed.bundle))).code).toBe(0);
  const common = { key, registry: cluster.node.registry, toolImage: cluster.node.images.busybox };
  for (const policy of [
    runtimePolicy(POLICY, { ...common, namespaceLabel: 'modelgate.io/e2e-runtime-registry' }),
    runtimePolicy(POLICY_WRITTEN, {
      ...common,
      namespaceLabel: 'modelgate.io/e2e-runtime-written',
      anySource: true,
    }),
  ]) {
    const r = await apply(policy);
    expect(r.code, r.stderr).toBe(0);
  }
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
  await cluster?.kubectl(['delete', 'namespace', NS, NS_WRITTEN, '--wait=true', '--timeout=120s']);
  await cluster?.kubectl(['delete', 'clustermodelpolicy', POLICY, POLICY_WRITTEN, '--ignore-not-found']);
  await mg?.uninstall();
});

// Each case waits on pods that really start: minutes on a loaded two-core machine.
describe('the runtime verifier on the real node', { timeout: 300_000 }, () => {
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
    // The kubelet restarts a failed init container (restartPolicy Always): between the failure and the back-off
    // kubectl shows Init:0/1 for a moment, so wait for it to show the failure.
    const get = await eventually('kubectl to show the failed init container', async () => {
      const g = await cluster.kubectl(['get', 'pod', 'tampered', '-n', NS]);
      return /Init:Error|Init:CrashLoopBackOff/.test(g.stdout) ? g : undefined;
    });
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
    // Admitted: the image volume is read-only whatever the pod asks, so the writer fails (wherever the
    // verifier sits) and the server never starts on swapped weights.
    const status = await eventually('the writer to finish', async () => {
      const s = await podStatus('rewrite');
      const w = s?.initContainerStatuses?.find((c) => c.name === 'swap-weights');
      return w?.state?.terminated ? s : undefined;
    });
    const writer = status.initContainerStatuses?.find((c) => c.name === 'swap-weights');
    expect(writer?.state?.terminated?.exitCode).not.toBe(0);
    const logs = await cluster.kubectl(['logs', 'rewrite', '-n', NS, '-c', 'swap-weights']);
    expect(logs.stdout + logs.stderr).toMatch(/Read-only file system/);
    expect(status.containerStatuses?.[0]?.state?.running).toBeUndefined();
  });

  it('a container that rewrites a verified writable volume (an emptyDir the storage initializer fills) is refused at admission or fails', async () => {
    // The files the signed image holds, written by an init container (the way a downloader fills an
    // emptyDir); then — the attack — another init container rewrites one.
    const write = Object.entries(SAFE_FILES)
      .map(([f, c]) => `echo ${Buffer.from(c).toString('base64')} | base64 -d > /models/model/${f}`)
      .join(' && ');
    const writtenPod = (name: string, writers: Record<string, unknown>[]) => {
      const pod = modelPod({
        namespace: NS_WRITTEN,
        name,
        model: models.signed!,
        bundleConfigMap: 'sig-signed',
        image: cluster.node.images.busybox,
      });
      const spec = pod.spec as { volumes: Record<string, unknown>[]; initContainers?: unknown[] };
      spec.volumes = [{ name: 'model', emptyDir: {} }];
      spec.initContainers = writers;
      return pod;
    };
    const storageInitializer = {
      name: 'storage-initializer',
      image: cluster.node.images.busybox,
      command: ['sh', '-c', write],
      volumeMounts: [{ name: 'model', mountPath: '/models/model' }],
    };
    const swapWeights = {
      name: 'swap-weights',
      image: cluster.node.images.busybox,
      command: ['sh', '-c', 'echo swapped > /models/model/model.safetensors'],
      volumeMounts: [{ name: 'model', mountPath: '/models/model' }],
    };
    const r = await apply(writtenPod('rewrite-emptydir', [storageInitializer, swapWeights]));
    if (r.code !== 0) {
      // Refused at admission: the model would be read while a later init container may still rewrite it.
      expect(r.stderr).toContain('denied the request');
      expect(r.stderr).toMatch(/\] integrity: .*before init container "swap-weights"/);
    } else {
      // Admitted: the verifier runs after every writer (placed after the last init container that writes
      // the volume), sees the swapped file, and the server never starts.
      const status = await eventually('the server to start or an init container to fail', async () => {
        const s = await podStatus('rewrite-emptydir', NS_WRITTEN);
        const running = s?.containerStatuses?.[0]?.state?.running !== undefined;
        const failed =
          s?.initContainerStatuses?.some((c) => (c.state?.terminated?.exitCode ?? 0) !== 0) ?? false;
        return running || failed ? s : undefined;
      });
      const names = status.initContainerStatuses?.map((c) => c.name) ?? [];
      expect(names.indexOf('modelgate-verifier'), names.join(', ')).toBeGreaterThan(
        names.indexOf('swap-weights'),
      );
      expect(status.containerStatuses?.[0]?.state?.running).toBeUndefined();
      const [result] = verifierResults(status);
      expect(result?.verdict).toBe('invalid');
      expect(result?.changed).toContain('model.safetensors');
    }
    // Without the second writer the same pod is admitted, runs, and the verifier checks what was written.
    const ok = await apply(writtenPod('written-emptydir', [storageInitializer]));
    expect(ok.code, ok.stderr).toBe(0);
    const status = await eventually('pod written-emptydir Ready', async () => {
      const s = await podStatus('written-emptydir', NS_WRITTEN);
      return s?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? s : undefined;
    });
    expect(status.initContainerStatuses?.map((c) => c.name)).toEqual([
      'storage-initializer',
      'modelgate-verifier',
    ]);
    expect(verifierResults(status).map((x) => [x.model, x.verdict])).toEqual([['written-emptydir', 'valid']]);
  });
});
