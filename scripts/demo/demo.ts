// `npm run demo`: the whole story on a local cluster built from source, with a real node. Starts the
// control plane, the fake Nodes and the real node (kubelet, containerd, runc) inside a network namespace
// of its own, installs modelgate with helm from the image built here, applies the production policy and
// the example workloads and says in plain words what happened to each; then starts pods on the real node
// whose model arrives in an image volume, and prints what the runtime verifier reported for each, as the
// API server has it (status.initContainerStatuses[].state.terminated.message).
//   --keep   leave the cluster and modelgate running afterwards (stop with `npm run cluster:down`)
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { repoRoot } from '../cluster/control-plane.ts';
import { REAL_NODE_LABEL, REAL_NODE_NAME, REAL_NODE_TAINT } from '../cluster/node/config.ts';
import { pushDirectoryImage } from '../image/oci.ts';
import { startCluster, type Cluster } from '../../test/e2e/cluster.ts';
import { installInClusterModelgate, type InClusterModelgate } from './in-cluster-modelgate.ts';
import { removeNamespace } from './local-modelgate.ts';

const keep = process.argv.includes('--keep');
/** The story's order: the happy path, then one threat at a time. */
const ORDER = [
  'signed-model.yaml',
  'tampered-model.yaml',
  'unpinned-model.yaml',
  'unknown-server.yaml',
  'web-frontend.yaml',
  'sensitive-ordinary.yaml',
  'sensitive-confidential.yaml',
];
const DENIED_BY = 'admission webhook "validate.modelgate.io" denied the request: ';
const EX = join(repoRoot, 'examples');
const NS = 'ml-prod';
const RUNTIME_NS = 'ml-real-node';
const RUNTIME_POLICY = 'demo-real-node';
const SIGNED_DIGEST = 'sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4';
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string) => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string) => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s);
const say = (s = ''): void => {
  process.stdout.write(s + '\n');
};
const step = (s: string) => say(`\n${bold('▶ ' + s)}`);
const indent = (text: string, by = '    ') =>
  text
    .trim()
    .split('\n')
    .map((l) => by + l)
    .join('\n');

async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

function wrap(text: string, prefix: string): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if ((line + ' ' + word).length > 100) {
      out.push(prefix + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(prefix + line);
  return out.join('\n');
}

async function describeWorkload(cluster: Cluster, app: string): Promise<void> {
  const pod = await eventually(async () => {
    const r = await cluster.kubectl(['get', 'pods', '-n', NS, '-l', `app=${app}`, '-o', 'json']);
    const items =
      r.code === 0
        ? (JSON.parse(r.stdout) as { items: { metadata: { name: string }; spec: Record<string, unknown> }[] })
            .items
        : [];
    return items.find((p) => typeof p.spec.nodeName === 'string') ?? undefined;
  });
  if (!pod) return say('    (no pod scheduled yet)');
  const inits = ((pod.spec.initContainers ?? []) as { name: string }[]).map((c) => c.name);
  say(
    `    pod ${pod.metadata.name} was created by the real controller manager and scheduled onto node ${pod.spec.nodeName as string}`,
  );
  if (inits[0] === 'modelgate-verifier')
    say(
      '    the runtime verifier is injected first in it: it re-hashes every model file against the signed manifest at pod start',
    );
  if (pod.spec.runtimeClassName)
    say(`    runtime class ${pod.spec.runtimeClassName as string}: a confidential-computing (TEE) sandbox`);
  say(
    `    (${pod.spec.nodeName as string} is one of the fake nodes standing in for a fleet: its pods are scheduled but never run; the real node comes below)`,
  );
}

// ---------- the real node ----------

interface PodView {
  metadata: { name: string };
  status: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    initContainerStatuses?: {
      name: string;
      state?: { terminated?: { exitCode: number; reason?: string; message?: string } };
    }[];
  };
}

/**
 * The policy for the real-node chapter: examples/model's signer, models from the cluster's registry. The
 * demo's stand-in model server is a busybox script, which modelgate cannot read: its image is approved as
 * loading no model (fail closed by scope), and the verifier still checks the declared model volume.
 */
function realNodePolicy(registry: string, busybox: string): Record<string, unknown> {
  return {
    apiVersion: 'modelgate.io/v1alpha1',
    kind: 'ClusterModelPolicy',
    metadata: { name: RUNTIME_POLICY },
    spec: {
      enforcement: 'Enforce',
      match: { namespaceSelector: { matchLabels: { 'modelgate.io/demo': 'real-node' } } },
      sources: [`oci://${registry}/models/**`],
      requirePinned: true,
      authorities: [
        { name: 'ml-release', key: { pem: readFileSync(join(EX, 'keys', 'ml-release.pub'), 'utf8') } },
      ],
      verifier: { inject: true },
      nonModelImages: [
        {
          repository: busybox.split('@')[0]!,
          reason: "the demo's stand-in server: it lists the model and sleeps",
        },
      ],
      formats: { deny: ['pickle'] },
    },
  };
}

function realNodePod(name: string, modelRef: string, busybox: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: RUNTIME_NS,
      annotations: {
        'modelgate.io/models': JSON.stringify([
          {
            name: 'sentiment',
            volume: 'model',
            digest: SIGNED_DIGEST,
            signature: { configMapRef: { name: 'demo-model-signature', key: 'model.sig' } },
          },
        ]),
      },
    },
    spec: {
      nodeSelector: { [REAL_NODE_LABEL.key]: REAL_NODE_LABEL.value },
      tolerations: [{ key: REAL_NODE_TAINT.key, operator: 'Exists', effect: REAL_NODE_TAINT.effect }],
      terminationGracePeriodSeconds: 0,
      // One verdict per pod: a failed verifier is not retried.
      restartPolicy: 'Never',
      containers: [
        {
          name: 'server',
          image: busybox,
          command: ['sh', '-c', 'echo serving /models/sentiment; ls /models/sentiment; exec sleep 3600'],
          volumeMounts: [{ name: 'model', mountPath: '/models/sentiment', readOnly: true }],
        },
      ],
      volumes: [{ name: 'model', image: { reference: modelRef } }],
    },
  };
}

/** Pushes examples/model as an image (and a copy with one file changed after signing); returns both refs. */
async function pushExampleModels(registry: string): Promise<{ signed: string; tampered: string }> {
  const work = mkdtempSync(join(repoRoot, '.cache', 'demo-model-'));
  try {
    for (const f of ['signme-1', 'signme-2']) copyFileSync(join(EX, 'model', f), join(work, f));
    const signed = await pushDirectoryImage(work, registry, 'models/sentiment', 'v1');
    writeFileSync(join(work, 'signme-2'), 'swapped\n');
    const tampered = await pushDirectoryImage(work, registry, 'models/sentiment', 'v1-swapped');
    return { signed, tampered };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function realNodeChapter(cluster: Cluster): Promise<boolean> {
  let ok = true;
  step(`On the real node ${REAL_NODE_NAME}: pods that really start, with the model in an image volume`);
  const models = await pushExampleModels(cluster.node.registry);
  say(`    pushed examples/model (signed by ml-release) to the cluster's registry: ${models.signed}`);
  say(`    and a copy whose signme-2 was changed after signing (a swapped model): ${models.tampered}`);
  await removeNamespace(cluster, RUNTIME_NS);
  const namespace = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: RUNTIME_NS, labels: { 'modelgate.io/demo': 'real-node' } },
  };
  const signature = (
    yaml.loadAll(readFileSync(join(EX, 'cluster.yaml'), 'utf8')) as Record<string, unknown>[]
  ).find((o) => o.kind === 'ConfigMap')!;
  (signature.metadata as { namespace: string }).namespace = RUNTIME_NS;
  const objects = [namespace, realNodePolicy(cluster.node.registry, cluster.node.images.busybox), signature];
  const r = await cluster.kubectl(['apply', '-f', '-'], {
    input: objects.map((o) => yaml.dump(o)).join('---\n'),
  });
  if (r.code !== 0) throw new Error(`applying the real-node policy failed: ${r.stderr}`);
  say(indent(r.stdout));
  say(
    `    policy ${RUNTIME_POLICY}: in namespace ${RUNTIME_NS}, models from the cluster's registry, pinned, signed by ml-release, verified at pod start`,
  );
  await eventually(async () => {
    const probe = realNodePod('probe', models.signed, cluster.node.images.busybox);
    (probe.metadata as { annotations: Record<string, string> }).annotations['modelgate.io/models'] = '[]';
    const res = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: yaml.dump(probe) });
    return res.code !== 0 ? true : undefined;
  });

  const cases = [
    {
      name: 'sentiment-real-signed',
      ref: models.signed,
      intent:
        'the signed model, exactly as signed: the verifier should say valid and the server should start',
      valid: true,
    },
    {
      name: 'sentiment-real-swapped',
      ref: models.tampered,
      intent:
        'the swapped model: admission cannot see the files (the declared digest matches the bundle), so the verifier must catch it at pod start',
      valid: false,
    },
  ];
  for (const c of cases) {
    step(
      `a pod on ${REAL_NODE_NAME} with ${c.name === 'sentiment-real-signed' ? 'the signed' : 'the swapped'} model`,
    );
    say(wrap(c.intent, '    '));
    const applied = await cluster.kubectl(['apply', '-f', '-'], {
      input: yaml.dump(realNodePod(c.name, c.ref, cluster.node.images.busybox)),
    });
    if (applied.code !== 0) {
      ok = false;
      say(red(`    UNEXPECTED: the pod was not admitted: ${applied.stderr.trim()}`));
      continue;
    }
    say(green(`    ADMITTED: pod ${RUNTIME_NS}/${c.name}`));
    const pod = await eventually(async () => {
      const g = await cluster.kubectl(['get', 'pod', c.name, '-n', RUNTIME_NS, '-o', 'json']);
      if (g.code !== 0) return undefined;
      const p = JSON.parse(g.stdout) as PodView;
      const v = p.status.initContainerStatuses?.find((s) => s.name === 'modelgate-verifier');
      const ready = p.status.conditions?.some((x) => x.type === 'Ready' && x.status === 'True');
      return v?.state?.terminated && (ready || v.state.terminated.exitCode !== 0) ? p : undefined;
    }, 180_000);
    if (!pod) {
      ok = false;
      say(red('    UNEXPECTED: the verifier did not finish within 3 minutes'));
      continue;
    }
    const verifier = pod.status.initContainerStatuses!.find((s) => s.name === 'modelgate-verifier')!;
    const message = verifier.state!.terminated!.message ?? '';
    const line = (
      await cluster.kubectl(['get', 'pod', c.name, '-n', RUNTIME_NS, '--no-headers'])
    ).stdout.trim();
    say(`    kubectl get pod: ${line}`);
    say("    the verifier's termination message, as the API server reports it:");
    say(`      ${message}`);
    const results = JSON.parse(message || '[]') as { verdict: string; reason?: string; changed?: string[] }[];
    const valid = results.length > 0 && results.every((x) => x.verdict === 'valid');
    if (valid) say(green('    valid: the files are the signed ones, so the model server started'));
    else
      say(
        red(
          `    ${results[0]?.verdict ?? 'no verdict'}: ${results[0]?.changed?.length ? `changed files: ${results[0].changed.join(', ')}; ` : ''}the model server never started`,
        ),
      );
    if (valid !== c.valid) {
      ok = false;
      say(red(`    UNEXPECTED: this model should have been ${c.valid ? 'valid' : 'refused'}`));
    }
  }
  step('What the controller recorded: an Event on the pod whose model failed verification');
  const failedEvents = [
    'get',
    'events',
    '-n',
    RUNTIME_NS,
    '--field-selector',
    'reason=ModelVerificationFailed',
    '-o',
    'custom-columns=POD:.involvedObject.name,REASON:.reason,MESSAGE:.message',
  ];
  const recorded = await eventually(async () => {
    const e = await cluster.kubectl(failedEvents);
    return e.stdout.trim().split('\n').length > 1 ? e.stdout : undefined;
  }, 60_000);
  if (recorded) say(indent(recorded));
  else {
    ok = false;
    say(red('    UNEXPECTED: no ModelVerificationFailed Event within a minute'));
  }
  return ok;
}

async function main(): Promise<void> {
  say(bold('modelgate demo: keeping unverified models out of a Kubernetes cluster'));
  step(
    'Starting a local Kubernetes cluster built from source: etcd, kube-apiserver, controller-manager, scheduler, three fake nodes and one real node (kubelet, containerd, runc)',
  );
  const cluster = await startCluster({ log: (l) => say(`    ${l}`) });
  say(`    API server ${cluster.server}; the cluster lives in a network namespace of its own`);

  await removeNamespace(cluster, NS);
  step("Installing modelgate with helm, from its image built here and pushed to the cluster's registry");
  let mg: InClusterModelgate | undefined;
  let ok = true;
  try {
    mg = await installInClusterModelgate(cluster, {
      release: 'modelgate',
      namespace: 'modelgate-system',
      log: (l) => say(`    ${l}`),
    });
    say(indent((await cluster.kubectl(['get', 'pods', '-n', mg.namespace, '-o', 'wide'])).stdout));
    say('    the webhook replicas and the controller run as pods on the real node; the API server calls the');
    say('    webhook through its Service, with the certificate the controller issued');

    step('Applying the cluster objects and the production policy');
    for (const f of ['cluster.yaml', 'policies/production-models.yaml']) {
      const r = await cluster.kubectl(['apply', '-f', join(EX, f)]);
      if (r.code !== 0) throw new Error(`kubectl apply ${f} failed: ${r.stderr}`);
      say(indent(r.stdout));
    }
    say(
      '    policy production-models: models in env=prod namespaces must come from registry.example.com or the',
    );
    say(
      '    example-org Hugging Face org, be pinned and signed by the ml-release key; high-sensitivity models must',
    );
    say('    run on AMD SEV-SNP confidential nodes.');
    const ready = await eventually(async () => {
      const r = await cluster.kubectl([
        'get',
        'clustermodelpolicy',
        'production-models',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return r.stdout === 'True' ? true : undefined;
    }, 60_000);
    say(
      ready
        ? '    the controller reports the policy Ready (compiled, keys resolved)'
        : red('    the policy did not become Ready in time'),
    );
    await eventually(async () => {
      const r = await cluster.kubectl([
        'apply',
        '--dry-run=server',
        '-f',
        join(EX, 'workloads', 'unpinned-model.yaml'),
      ]);
      return r.code !== 0 ? true : undefined;
    });

    for (const file of ORDER) {
      const text = readFileSync(join(EX, 'workloads', file), 'utf8');
      const intent = text
        .split('\n')
        .filter((l) => l.startsWith('#'))
        .map((l) => l.slice(2))
        .join(' ');
      const obj = yaml.load(text) as { metadata: { name: string } };
      step(`kubectl apply -f examples/workloads/${file}`);
      say(wrap(intent, '    '));
      const expectAdmit = /^Admitted/.test(intent);
      const r = await cluster.kubectl(['apply', '-f', '-'], { input: text });
      const byModelgate = r.stderr.includes(DENIED_BY);
      if (r.code === 0) {
        say(green(`    ADMITTED: ${obj.metadata.name}`));
        await describeWorkload(cluster, obj.metadata.name);
      } else if (byModelgate) {
        say(red(`    REJECTED by the API server, with modelgate's reasons:`));
        const msg = r.stderr.slice(r.stderr.indexOf(DENIED_BY) + DENIED_BY.length).trim();
        for (const part of msg.split(/ (?=\(\d+\) )/)) say(wrap(part, '      '));
      } else {
        say(red(`    FAILED for another reason: ${r.stderr.trim()}`));
      }
      if ((r.code === 0) !== expectAdmit || (r.code !== 0 && !byModelgate)) {
        ok = false;
        say(red(`    UNEXPECTED: this workload should have been ${expectAdmit ? 'admitted' : 'rejected'}`));
      }
    }

    if (!(await realNodeChapter(cluster))) ok = false;

    step('What the cluster admin sees');
    say(indent((await cluster.kubectl(['get', 'clustermodelpolicies'])).stdout));
    say(
      `\n${ok ? green('Demo finished: every workload got the verdict it should.') : red('Demo finished with unexpected verdicts (see above).')}`,
    );
  } finally {
    if (keep) {
      say(
        '\nLeft running (--keep). Use it with: npm run cluster:exec -- kubectl get pods -A; stop with: npm run cluster:down',
      );
    } else {
      await removeNamespace(cluster, NS);
      await removeNamespace(cluster, RUNTIME_NS);
      await cluster.kubectl([
        'delete',
        'clustermodelpolicy',
        'production-models',
        RUNTIME_POLICY,
        '--ignore-not-found',
      ]);
      await mg?.uninstall();
      await cluster.stop();
    }
  }
  process.exitCode = ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
