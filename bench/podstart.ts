// Pod start with and without the runtime verifier, on the real node of the local cluster (issue 16).
// A ~1 GiB model (four 256 MiB safetensors shards of random bytes and a config.json), signed with
// modelgate's signer, is pushed as an image and mounted as an image volume. The image is pulled, and the
// files read, before anything is timed: every figure is with the image on the node and a warm page cache.
// Then, interleaved (ABBA), pods are created in two namespaces that differ only in whether a
// ClusterModelPolicy with verifier.inject selects them, and the time from the create call to the pod's
// Ready condition is taken from a watch. The verifier's own time is the durationMs in its termination
// message (re-hash, compare, signature); `openssl dgst -sha256` hashes the same files with the same
// parallelism (one process per worker the verifier uses, files split evenly) for reference.
// OCI evidence (issue 17): the image's manifest is also signed in model-signing's OCI mode and the bundle
// attached to it in the registry; in a third namespace a policy with the same key (and verifier.inject)
// selects the pod, which declares nothing: the controller finds the signature and scans the layers once,
// admission verifies it, and the pod gets no verifier (no re-hash). `oci_admission_ratio` is its Ready time
// over the unselected namespace's, same image (target <= 1.1). The verifier's pods mount the same layers
// under a second manifest with no signature in the registry (a signed one would need no re-hash).
// Last line: one JSON object, also written to docs/perf/podstart.json (emitResult).
//   npm run bench:podstart [-- --rounds 12 --size-mib 1024]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import yaml from 'js-yaml';
import { CoreV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { repoRoot, run } from '../scripts/cluster/control-plane.ts';
import { REAL_NODE_LABEL, REAL_NODE_TAINT } from '../scripts/cluster/node/config.ts';
import { pushDirectoryImage } from '../scripts/image/oci.ts';
import { installInClusterModelgate } from '../scripts/demo/in-cluster-modelgate.ts';
import { removeNamespace } from '../scripts/demo/local-modelgate.ts';
import { loadSigner, signModel } from '../src/signing/index.ts';
import { startCluster } from '../test/e2e/cluster.ts';
import { makeSigningKey } from '../test/e2e/models.ts';
import { emitResult } from './perf-output.ts';

const MiB = 1 << 20;
const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
};
const rounds = arg('rounds', 12);
const sizeMib = arg('size-mib', 1024);
const shards = 4;
const log = (s: string): void => {
  process.stderr.write(`[bench:podstart] ${s}\n`);
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** A safetensors file: a one-tensor header (uint8, `bytes` long) and random data, the scanner's format. */
async function writeShard(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  let header = JSON.stringify({ weight: { dtype: 'U8', shape: [bytes], data_offsets: [0, bytes] } });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  out.write(length);
  out.write(header);
  for (let left = bytes; left > 0; left -= 16 * MiB) {
    if (!out.write(randomBytes(Math.min(16 * MiB, left)))) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Wall time of `workers` openssl processes over the files, split evenly by size. */
async function opensslParallel(files: { path: string; size: number }[], workers: number): Promise<number> {
  const groups: { paths: string[]; bytes: number }[] = Array.from({ length: workers }, () => ({
    paths: [],
    bytes: 0,
  }));
  for (const f of [...files].sort((a, b) => b.size - a.size)) {
    const g = groups.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    g.paths.push(f.path);
    g.bytes += f.size;
  }
  const t0 = performance.now();
  await Promise.all(
    groups
      .filter((g) => g.paths.length)
      .map(
        (g) =>
          new Promise<void>((resolve, reject) => {
            const p = spawn('openssl', ['dgst', '-sha256', ...g.paths], {
              stdio: ['ignore', 'ignore', 'inherit'],
            });
            p.on('error', reject);
            p.on('exit', (code) =>
              code === 0 ? resolve() : reject(new Error(`openssl exited ${String(code)}`)),
            );
          }),
      ),
  );
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const cluster = await startCluster({ log });
  const kc = cluster.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const work = join(repoRoot, '.cache', 'bench-podstart');
  rmSync(work, { recursive: true, force: true });
  const modelDir = join(work, 'model');
  mkdirSync(modelDir, { recursive: true });
  const files: { path: string; size: number }[] = [];
  log(`writing a ${sizeMib} MiB model (${shards} safetensors shards of random bytes)`);
  for (let i = 1; i <= shards; i++) {
    const path = join(modelDir, `model-0000${i}-of-0000${shards}.safetensors`);
    await writeShard(path, Math.floor((sizeMib * MiB) / shards));
    files.push({ path, size: statSync(path).size });
  }
  writeFileSync(join(modelDir, 'config.json'), '{"architectures": ["BenchNet"]}\n');
  files.push({ path: join(modelDir, 'config.json'), size: 31 });
  const key = makeSigningKey();
  const signed = await signModel(modelDir, loadSigner(key.privateKeyPem));
  log(`signed: ${signed.digest}; pushing the image`);
  const reference = await pushDirectoryImage(modelDir, cluster.node.registry, 'models/bench-podstart', 'v1');
  // The same layers and config under another manifest (an annotation more) with no signature in the
  // registry: the verifier's pods use it, so they take the runtime path (re-hash) rather than the evidence.
  const runtimeReference = await pushDirectoryImage(
    modelDir,
    cluster.node.registry,
    'models/bench-podstart-runtime',
    'v1',
    { 'org.opencontainers.image.description': 'bench:podstart, runtime-hash path' },
  );
  // The first manifest signed in model-signing's OCI mode, the bundle attached to it as a referrer.
  writeFileSync(join(work, 'key.pem'), key.privateKeyPem);
  writeFileSync(join(work, 'no-auth.json'), '{"auths":{}}');
  const attached = await run(
    process.execPath,
    [
      join(repoRoot, 'bin', 'modelgate.js'),
      'sign',
      '--oci-manifest',
      reference,
      '--key',
      join(work, 'key.pem'),
      '--attach',
      '--insecure-registry',
      cluster.node.registry,
      '--registry-auth',
      join(work, 'no-auth.json'),
    ],
    { timeoutMs: 120_000 },
  );
  if (attached.code !== 0) throw new Error(`modelgate sign --oci-manifest failed: ${attached.stderr}`);
  log(attached.stdout.trim());

  const label = 'modelgate.io/bench-podstart';
  const nsWith = 'bench-podstart-verifier';
  const nsWithout = 'bench-podstart-plain';
  const nsOci = 'bench-podstart-oci';
  const policyName = 'bench-podstart';
  const ociPolicyName = 'bench-podstart-oci';
  for (const ns of [nsWith, nsWithout, nsOci]) await removeNamespace(cluster, ns);
  const mg = await installInClusterModelgate(cluster, {
    release: 'mg-bench',
    namespace: 'mg-bench',
    namespaceLabel: label,
    log,
    set: [`ociEvidence.insecureRegistries[0]=${cluster.node.registry}`],
  });
  try {
    const objects: Record<string, unknown>[] = [
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: nsWith, labels: { [label]: 'true', 'bench/verifier': 'on' } },
      },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsWithout, labels: { [label]: 'true' } } },
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: nsOci, labels: { [label]: 'true', 'bench/oci': 'on' } },
      },
      {
        apiVersion: 'modelgate.io/v1alpha1',
        kind: 'ClusterModelPolicy',
        metadata: { name: ociPolicyName },
        spec: {
          enforcement: 'Enforce',
          match: { namespaceSelector: { matchLabels: { 'bench/oci': 'on' } } },
          requirePinned: true,
          authorities: [{ name: 'bench', key: { pem: key.publicKeyPem } }],
          // Injected for models without evidence in the registry; this one has it, so it gets none.
          verifier: { inject: true },
          nonModelImages: [
            {
              repository: cluster.node.images.busybox.split('@')[0]!,
              reason: 'the benchmark server only sleeps',
            },
          ],
        },
      },
      {
        apiVersion: 'modelgate.io/v1alpha1',
        kind: 'ClusterModelPolicy',
        metadata: { name: policyName },
        spec: {
          enforcement: 'Enforce',
          match: { namespaceSelector: { matchLabels: { 'bench/verifier': 'on' } } },
          authorities: [{ name: 'bench', key: { pem: key.publicKeyPem } }],
          verifier: { inject: true },
          // The stand-in server is busybox `sleep`: approved as loading no model (fail closed by scope).
          nonModelImages: [
            {
              repository: cluster.node.images.busybox.split('@')[0]!,
              reason: 'the benchmark server only sleeps',
            },
          ],
        },
      },
      ...[nsWith, nsWithout].map((ns) => ({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'bench-signature', namespace: ns, labels: { 'modelgate.io/bundle': 'true' } },
        data: { 'model.sig': Buffer.from(signed.bundle).toString('utf8') },
      })),
    ];
    const applied = await cluster.kubectl(['apply', '-f', '-'], {
      input: objects.map((o) => yaml.dump(o)).join('---\n'),
    });
    if (applied.code !== 0) throw new Error(applied.stderr);

    // The OCI pod declares nothing: its signature is found in the registry.
    const podFor = (namespace: string, name: string): V1Pod => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        ...(namespace === nsOci
          ? {}
          : {
              annotations: {
                'modelgate.io/models': JSON.stringify([
                  {
                    name: 'bench',
                    volume: 'model',
                    digest: signed.digest,
                    signature: { configMapRef: { name: 'bench-signature', key: 'model.sig' } },
                  },
                ]),
              },
            }),
      },
      spec: {
        nodeSelector: { [REAL_NODE_LABEL.key]: REAL_NODE_LABEL.value },
        tolerations: [{ key: REAL_NODE_TAINT.key, operator: 'Exists', effect: REAL_NODE_TAINT.effect }],
        terminationGracePeriodSeconds: 0,
        restartPolicy: 'Never',
        containers: [
          {
            name: 'server',
            image: cluster.node.images.busybox,
            command: ['sleep', '3600'],
            volumeMounts: [{ name: 'model', mountPath: '/models/bench', readOnly: true }],
          },
        ],
        volumes: [
          { name: 'model', image: { reference: namespace === nsWith ? runtimeReference : reference } },
        ],
      },
    });

    /** Creates the pod; resolves with ms from the create call to Ready, and the verifier's message. */
    const startPod = async (
      namespace: string,
      name: string,
    ): Promise<{ ms: number; admitMs: number; verifierMs?: number }> => {
      const watch = new Watch(kc);
      let resolveReady: (pod: V1Pod) => void = () => {};
      let rejectReady: (e: Error) => void = () => {};
      const ready = new Promise<V1Pod>((res, rej) => {
        resolveReady = res;
        rejectReady = rej;
      });
      const request = await watch.watch(
        `/api/v1/namespaces/${namespace}/pods`,
        { fieldSelector: `metadata.name=${name}` },
        (_type, pod: V1Pod) => {
          if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
            resolveReady(pod);
          const failed = pod.status?.initContainerStatuses?.find(
            (c) => (c.state?.terminated?.exitCode ?? 0) !== 0,
          );
          if (failed || pod.status?.phase === 'Failed')
            rejectReady(new Error(`pod ${namespace}/${name} failed: ${JSON.stringify(pod.status)}`));
        },
        (err: unknown) => {
          if (err) rejectReady(err instanceof Error ? err : new Error(String(err)));
        },
      );
      const t0 = performance.now();
      try {
        await core.createNamespacedPod({ namespace, body: podFor(namespace, name) });
        // The create call returns once admission (both webhooks) is done.
        const admitMs = performance.now() - t0;
        const timeout = setTimeout(
          () => rejectReady(new Error(`pod ${namespace}/${name} not Ready after 5 minutes`)),
          300_000,
        );
        const pod = await ready.finally(() => clearTimeout(timeout));
        const ms = performance.now() - t0;
        const message = pod.status?.initContainerStatuses?.find((c) => c.name === 'modelgate-verifier')?.state
          ?.terminated?.message;
        const verifierMs = message
          ? (JSON.parse(message) as { durationMs: number }[])[0]?.durationMs
          : undefined;
        return verifierMs === undefined ? { ms, admitMs } : { ms, admitMs, verifierMs };
      } finally {
        request.abort();
        await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 }).catch(() => undefined);
      }
    };
    const waitGone = async (namespace: string, name: string): Promise<void> => {
      for (let i = 0; i < 600; i++) {
        try {
          await core.readNamespacedPod({ namespace, name });
        } catch {
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    // The webhook must be enforcing the policy before the first pod: otherwise it gets no verifier.
    for (let i = 0; ; i++) {
      const dry = await cluster.kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], {
        input: yaml.dump(podFor(nsWith, 'probe')),
      });
      if (dry.code === 0 && dry.stdout.includes('modelgate-verifier')) break;
      if (i > 120) throw new Error(`the webhook did not inject the verifier: ${dry.stderr}`);
      await new Promise((r) => setTimeout(r, 500));
    }

    // The controller finds the signature and scans the layers once ("verification pending" until then);
    // then the pod is admitted from the record, without the verifier.
    const ociStarted = performance.now();
    for (let i = 0; ; i++) {
      const dry = await cluster.kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], {
        input: yaml.dump(podFor(nsOci, 'probe')),
      });
      if (dry.code === 0) {
        if (dry.stdout.includes('modelgate-verifier'))
          throw new Error('the OCI pod got the verifier: its signature in the registry did not count');
        break;
      }
      if (!/verification pending|not scanned its layers yet/.test(dry.stderr) || i > 600)
        throw new Error(`the OCI pod was refused: ${dry.stderr}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const ociFirstAdmissionMs = performance.now() - ociStarted;
    log(`OCI evidence resolved and the layers scanned: admitted after ${ociFirstAdmissionMs.toFixed(0)} ms`);

    log('warm-up: pulling the image on the node and reading the files once (every kind of pod)');
    let n = 0;
    for (const ns of [nsWith, nsWithout, nsOci]) {
      const name = `warm-${n++}`;
      const r = await startPod(ns, name);
      await waitGone(ns, name);
      log(`  warm-up ${ns}: ${r.ms.toFixed(0)} ms`);
    }

    const withVerifier: number[] = [];
    const without: number[] = [];
    const oci: number[] = [];
    const admit = { oci: [] as number[], without: [] as number[] };
    const verifierMs: number[] = [];
    const opensslMs: number[] = [];
    const workers = availableParallelism();
    const kinds = [nsWith, nsWithout, nsOci];
    const what = (ns: string) =>
      ns === nsWith ? 'with verifier   ' : ns === nsOci ? 'OCI evidence    ' : 'not selected    ';
    for (let round = 0; round < rounds; round++) {
      // Each kind goes first, second and third in turn (and the rotation reverses every other cycle).
      const rotated = [...kinds.slice(round % 3), ...kinds.slice(0, round % 3)];
      const order = Math.floor(round / 3) % 2 === 0 ? rotated : rotated.reverse();
      for (const ns of order) {
        const name = `pod-${round}-${ns === nsWith ? 'v' : ns === nsOci ? 'o' : 'p'}`;
        const r = await startPod(ns, name);
        await waitGone(ns, name);
        if (ns === nsWith) {
          withVerifier.push(r.ms);
          if (r.verifierMs !== undefined) verifierMs.push(r.verifierMs);
        } else if (ns === nsOci) {
          if (r.verifierMs !== undefined) throw new Error('the OCI pod ran the verifier');
          oci.push(r.ms);
          admit.oci.push(r.admitMs);
        } else {
          without.push(r.ms);
          admit.without.push(r.admitMs);
        }
        log(
          `  round ${round + 1} ${what(ns)}: ${r.ms.toFixed(0)} ms to Ready (create call ${r.admitMs.toFixed(0)} ms)${r.verifierMs !== undefined ? ` (verifier ${r.verifierMs} ms)` : ''}`,
        );
      }
      opensslMs.push(await opensslParallel(files, workers));
    }
    if (verifierMs.length !== withVerifier.length)
      throw new Error('a pod in the verifier namespace had no verifier result');

    const summary = {
      model_mib: sizeMib,
      files: files.length,
      rounds,
      warm_page_cache: true,
      image_on_node: true,
      ready_ms_with_verifier: Math.round(median(withVerifier)),
      ready_ms_without_verifier: Math.round(median(without)),
      verifier_ms: Math.round(median(verifierMs)),
      openssl_ms: Math.round(median(opensslMs)),
      openssl_processes: workers,
      verifier_ratio: Number((median(withVerifier) / median(without)).toFixed(2)),
      verifier_added_ms: Math.round(median(withVerifier) - median(without)),
      hash_vs_openssl: Number((median(verifierMs) / median(opensslMs)).toFixed(2)),
      ready_ms_oci_evidence: Math.round(median(oci)),
      oci_admission_ratio: Number((median(oci) / median(without)).toFixed(2)),
      oci_first_admission_ms: Math.round(ociFirstAdmissionMs),
      create_call_ms_oci_evidence: Math.round(median(admit.oci)),
      create_call_ms_not_selected: Math.round(median(admit.without)),
    };
    process.stderr.write(
      [
        '',
        `model ${sizeMib} MiB in ${files.length} files, image on the node, warm page cache; medians of ${rounds} interleaved rounds`,
        `  pod create -> Ready, without the verifier   ${summary.ready_ms_without_verifier} ms`,
        `  pod create -> Ready, with the verifier      ${summary.ready_ms_with_verifier} ms  (x${summary.verifier_ratio}, +${summary.verifier_added_ms} ms)`,
        `  pod create -> Ready, OCI evidence           ${summary.ready_ms_oci_evidence} ms  (x${summary.oci_admission_ratio}; first admission after ${summary.oci_first_admission_ms} ms: registry lookup and layer scan)`,
        `  the create call (admission), OCI evidence  ${summary.create_call_ms_oci_evidence} ms; not selected ${summary.create_call_ms_not_selected} ms`,
        `  verifier (re-hash + compare + signature)    ${summary.verifier_ms} ms`,
        `  openssl dgst -sha256, ${workers} processes          ${summary.openssl_ms} ms  (verifier / openssl = ${summary.hash_vs_openssl})`,
        '',
      ].join('\n'),
    );
    emitResult('podstart', summary);
  } finally {
    for (const ns of [nsWith, nsWithout, nsOci]) await removeNamespace(cluster, ns);
    await cluster.kubectl(['delete', 'clustermodelpolicy', policyName, ociPolicyName, '--ignore-not-found']);
    await mg.uninstall();
    rmSync(work, { recursive: true, force: true });
    await cluster.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:podstart failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
