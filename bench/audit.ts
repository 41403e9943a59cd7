// npm run bench:audit — the controller's audit over 1,000 and 10,000 workloads (issue 9): time and peak
// RSS, and how they grow. Each size runs in a fresh child process, so its peak RSS is its own.
//
// Default mode is file-backed: the workloads live in an in-memory API (src/kube/fake-client.test-support.ts: paged
// lists, deep copies of every object, as a JSON decode would make) and the audit reconciler runs
// unchanged, with 10 ClusterModelPolicies, Events and PolicyReports. `--cluster` runs it on the local
// control plane instead (test/e2e/cluster.ts), creating the Deployments through the real API server.
// The reference, measured in the same process, is the same paginated listing without evaluation: the
// floor any audit pays to read the workloads. Last line: JSON with the figures and ratios.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { HttpKubeClient } from '../src/kube/client.ts';
import { realClock } from '../src/kube/clock.ts';
import { FakeKubeClient } from '../src/kube/fake-client.test-support.ts';
import { InformerPolicyStore } from '../src/policy-store/informer-store.ts';
import {
  CLUSTER_MODEL_POLICIES,
  NAMESPACES,
  WORKLOAD_RESOURCES,
  workloadResource,
} from '../src/kube/resources.ts';
import type { KubeClient, KubeObject } from '../src/kube/types.ts';
import { AuditReconciler } from '../src/controller/audit.ts';
import { EventRecorder } from '../src/controller/events.ts';
import { ReportWriter } from '../src/controller/report-writer.ts';
import { ControllerMetrics } from '../src/telemetry/metrics.ts';
import { emitResult } from './perf-output.ts';

const SIZES = (process.env.BENCH_AUDIT_SIZES ?? '1000,10000').split(',').map(Number);
const PER_NAMESPACE = 100;
const POLICIES = 10;
const DEPLOYMENTS = workloadResource({ group: 'apps', kind: 'Deployment' });
const logger = pino({ level: 'silent' });

interface SizeResult {
  workloads: number;
  namespaces: number;
  policies: number;
  violations: number;
  auditMs: number;
  listOnlyMs: number;
  ratio: number;
  perWorkloadUs: number;
  peakRssMiB: number;
  baselineRssMiB: number;
  heapUsedMiB: number;
}

function deployment(i: number, ns: string): KubeObject {
  // A third of the models come from an untrusted registry, a third are unpinned: a realistic mix.
  const registry = i % 3 === 0 ? 'untrusted.example.com' : 'registry.example.com';
  const ref =
    i % 3 === 1
      ? `${registry}/models/m${i % 50}:v1`
      : `${registry}/models/m${i % 50}@sha256:${'ab'.repeat(32)}`;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `llm-${i}`, namespace: ns, labels: { app: `llm-${i}`, team: `t${i % 7}` } },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: `llm-${i}` } },
      template: {
        metadata: { labels: { app: `llm-${i}` } },
        spec: {
          containers: [
            {
              name: 'server',
              image: 'vllm/vllm-openai:v0.6.0',
              args: ['--model', '/models', '--port', '8000'],
              volumeMounts: [{ name: 'model', mountPath: '/models' }],
              resources: { limits: { 'nvidia.com/gpu': '1' } },
            },
          ],
          volumes: [{ name: 'model', image: { reference: ref, pullPolicy: 'IfNotPresent' } }],
        },
      },
    },
  };
}

function policy(i: number): KubeObject {
  // One policy selects the benchmark's namespaces; the others select other teams (as in a shared cluster).
  const selector =
    i === 0 ? { matchLabels: { 'bench-audit': 'true' } } : { matchLabels: { team: `other-${i}` } };
  return {
    apiVersion: 'modelgate.io/v1alpha1',
    kind: 'ClusterModelPolicy',
    metadata: { name: `bench-${i}` },
    spec: {
      enforcement: 'Audit',
      match: { namespaceSelector: selector },
      sources: ['oci://registry.example.com/**'],
      requirePinned: true,
    },
  };
}

async function createAll(
  client: KubeClient,
  objects: { ref: typeof DEPLOYMENTS; obj: KubeObject }[],
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const o = objects[next++];
      if (!o) break;
      try {
        await client.create(o.ref, o.obj);
      } catch (err) {
        if (!String((err as Error).message).includes('AlreadyExists')) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function listOnly(client: KubeClient): Promise<number> {
  let n = 0;
  for (const ref of WORKLOAD_RESOURCES) {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.list(ref, { limit: 500, ...(token ? { continue: token } : {}) });
      } catch {
        break;
      }
      n += page.items.length;
      token = page.continue;
    } while (token);
  }
  return n;
}

async function runSize(size: number, cluster: boolean): Promise<SizeResult> {
  const baselineRss = process.memoryUsage().rss;
  let client: KubeClient;
  let cleanup = async () => undefined as void;
  const prefix = `bench-audit-${size}`;
  const namespaces = Math.ceil(size / PER_NAMESPACE);
  const nsName = (n: number) => `${prefix}-${n}`;
  const objects: { ref: typeof DEPLOYMENTS; obj: KubeObject }[] = [];
  for (let n = 0; n < namespaces; n++)
    objects.push({
      ref: NAMESPACES,
      obj: {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: nsName(n), labels: { 'bench-audit': 'true' } },
      },
    });
  for (let i = 0; i < POLICIES; i++) objects.push({ ref: CLUSTER_MODEL_POLICIES, obj: policy(i) });
  for (let i = 0; i < size; i++)
    objects.push({ ref: DEPLOYMENTS, obj: deployment(i, nsName(Math.floor(i / PER_NAMESPACE))) });
  if (cluster) {
    const { connectCluster } = await import('../test/e2e/cluster.ts');
    const c = await connectCluster();
    client = new HttpKubeClient(c.kubeConfig());
    await createAll(
      client,
      objects.filter((o) => o.ref !== DEPLOYMENTS),
      16,
    );
    await createAll(
      client,
      objects.filter((o) => o.ref === DEPLOYMENTS),
      32,
    );
    cleanup = async () => {
      for (let n = 0; n < namespaces; n++) await client.delete(NAMESPACES, nsName(n));
      for (let i = 0; i < POLICIES; i++) await client.delete(CLUSTER_MODEL_POLICIES, `bench-${i}`);
    };
  } else {
    const fake = new FakeKubeClient();
    for (const o of objects) fake.seed(o.ref, o.obj);
    client = fake;
  }
  objects.length = 0;

  const store = new InformerPolicyStore({
    client,
    controllerNamespace: 'modelgate-system',
    logger,
    clock: realClock,
  });
  await store.start();
  const metrics = new ControllerMetrics();
  const events = new EventRecorder({ client, clock: realClock, logger, metrics, instance: 'bench' });
  const audit = new AuditReconciler({
    client,
    clock: realClock,
    logger,
    metrics,
    events,
    snapshot: () => store.snapshot(),
    policyAudit: () => undefined,
    exemptNamespaces: new Set(['kube-system', 'kube-public', 'kube-node-lease', 'modelgate-system']),
    intervalMs: 3_600_000,
    reports: new ReportWriter({ client, clock: realClock, logger }),
  });

  // Reference first (warms the same code paths of the API or the fake), then the audit.
  await listOnly(client);
  const t0 = performance.now();
  await listOnly(client);
  const listOnlyMs = performance.now() - t0;
  audit.start();
  await audit.idle();
  const scan = audit.lastScan;
  audit.stop();
  await store.stop();
  const heap = process.memoryUsage().heapUsed;
  await cleanup();
  const auditMs = scan?.durationMs ?? NaN;
  return {
    workloads: size,
    namespaces,
    policies: POLICIES,
    violations: scan?.violations ?? 0,
    auditMs: Math.round(auditMs),
    listOnlyMs: Math.round(listOnlyMs),
    ratio: Number((auditMs / listOnlyMs).toFixed(2)),
    perWorkloadUs: Math.round((auditMs * 1000) / size),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    baselineRssMiB: Math.round(baselineRss / 1048576),
    heapUsedMiB: Math.round(heap / 1048576),
  };
}

async function child(size: number, cluster: boolean): Promise<void> {
  const r = await runSize(size, cluster);
  process.stdout.write(JSON.stringify(r) + '\n');
}

function runChild(size: number, cluster: boolean): Promise<SizeResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [
        ...process.execArgv,
        fileURLToPath(import.meta.url),
        '--child',
        String(size),
        ...(cluster ? ['--cluster'] : []),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`audit bench child (${size}) exited with ${code}`));
      resolve(JSON.parse(line) as SizeResult);
    });
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const cluster = argv.includes('--cluster');
  const ci = argv.indexOf('--child');
  if (ci >= 0) return child(Number(argv[ci + 1]), cluster);
  const results: SizeResult[] = [];
  console.log(
    `audit benchmark (${cluster ? 'local control plane' : 'file-backed, in-memory API'}), ${POLICIES} ClusterModelPolicies, ${PER_NAMESPACE} Deployments per namespace`,
  );
  console.log('workloads  audit ms  list-only ms  ratio  µs/workload  violations  peak RSS MiB  heap MiB');
  for (const size of SIZES) {
    const r = await runChild(size, cluster);
    results.push(r);
    console.log(
      `${String(r.workloads).padStart(9)}  ${String(r.auditMs).padStart(8)}  ${String(r.listOnlyMs).padStart(12)}  ${r.ratio.toFixed(2).padStart(5)}  ${String(r.perWorkloadUs).padStart(11)}  ${String(r.violations).padStart(10)}  ${String(r.peakRssMiB).padStart(12)}  ${String(r.heapUsedMiB).padStart(8)}`,
    );
  }
  const first = results[0];
  const last = results.at(-1);
  const growth =
    first && last && last !== first
      ? {
          workloads: last.workloads / first.workloads,
          time: Number((last.auditMs / first.auditMs).toFixed(2)),
          peak_rss: Number((last.peakRssMiB / first.peakRssMiB).toFixed(2)),
        }
      : undefined;
  emitResult(cluster ? 'audit-cluster' : 'audit', {
    mode: cluster ? 'cluster' : 'file-backed',
    policies: POLICIES,
    results,
    ...(growth ? { growth } : {}),
    audit_10k_ms: results.find((r) => r.workloads === 10_000)?.auditMs,
    audit_10k_peak_rss_mib: results.find((r) => r.workloads === 10_000)?.peakRssMiB,
    audit_to_list_ratio_10k: results.find((r) => r.workloads === 10_000)?.ratio,
  });
}

await main();
