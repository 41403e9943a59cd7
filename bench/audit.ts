// npm run bench:audit — the controller at 1,000, 10,000 and 100,000 workloads (issues 9 and 19): the
// time of its first full audit and its peak RSS, and how they grow. `-- --cluster`: 1,000 and 10,000
// on the local control plane instead. BENCH_AUDIT_SIZES=1000,10000 picks other sizes.
//
// What is measured is the controller as it runs in production: compiled by tsc (bench/compile.ts),
// in a fresh `node` process of its own per size (no tsx loader, nothing else in it), the whole
// `Controller` (policy store, shared workload informers, audit, verification results, Events, reports,
// policy status), talking HTTP to an API server:
// - default: the in-memory API (src/kube/fake-client.test-support.ts) served by a second process
//   (bench/audit-api.ts), so the API's memory is not counted in the controller's;
// - `--cluster`: the local control plane (test/e2e/cluster.ts, started if none runs), the objects
//   created by this parent process beforehand.
// The reference, measured in the same child before the controller starts, is the paginated listing of
// every workload without evaluation: the floor any audit pays to read them. The cluster has 10
// ClusterModelPolicies and 100 Deployments per namespace (bench/audit-fixtures.ts).
// Last line: JSON with the figures, including audit_100k_peak_rss_mib and
// audit_10k_cluster_peak_rss_mib (the other mode's from its last run, docs/perf/).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HttpKubeClient } from '../src/kube/client.ts';
import { CLUSTER_MODEL_POLICIES, NAMESPACES } from '../src/kube/resources.ts';
import type { KubeClient, KubeObject, ResourceRef } from '../src/kube/types.ts';
import {
  benchObjects,
  DEPLOYMENTS,
  namespaceCount,
  namespaceName,
  POLICIES,
  PER_NAMESPACE,
} from './audit-fixtures.ts';
import { compileSources, ROOT } from './compile.ts';
import { emitResult, PERF_DIR } from './perf-output.ts';

const cluster = process.argv.slice(2).includes('--cluster');
/**
 * The V8 flags the controller runs with, as the chart sets them (NODE_OPTIONS in
 * charts/modelgate/templates/controller-deployment.yaml): a heap cap of 75% of the memory limit
 * (192 MiB for the default 256Mi) and 4 MiB semi-spaces (a young generation of ~12 MiB instead of
 * ~48; same CPU, a third less peak RSS). BENCH_AUDIT_HEAP_MIB sets another cap; 0 runs with V8's
 * defaults (no flags), which let garbage pile up far above what is live.
 */
const HEAP_MIB = Number(process.env.BENCH_AUDIT_HEAP_MIB ?? '192');
const NODE_FLAGS = HEAP_MIB > 0 ? [`--max-old-space-size=${HEAP_MIB}`, '--max-semi-space-size=4'] : [];
const SIZES = (process.env.BENCH_AUDIT_SIZES ?? (cluster ? '1000,10000' : '1000,10000,100000'))
  .split(',')
  .map(Number);

interface SizeResult {
  workloads: number;
  namespaces: number;
  policies: number;
  violations: number;
  /** The first full audit scan (after the informers listed everything). */
  auditMs: number;
  /** Controller start to informers synced (the initial lists of every cache). */
  syncMs: number;
  listOnlyMs: number;
  ratio: number;
  perWorkloadUs: number;
  /** CPU (user + system) of the controller process from start to the end of the first audit. */
  cpuMs: number;
  eventsWritten: number;
  peakRssMiB: number;
  baselineRssMiB: number;
  heapUsedMiB: number;
}

/**
 * The measured process: plain node, modelgate compiled. Lists once (the floor), runs the Controller
 * until its first full audit has finished, prints one JSON line.
 */
const CHILD = `
const dist = process.env.MG_DIST;
const mod = (p) => import(new URL(p, dist).href);
const { Controller } = await mod('controller/manager.js');
const { HttpKubeClient } = await mod('kube/client.js');
const { realClock } = await mod('kube/clock.js');
const { WORKLOAD_RESOURCES } = await mod('kube/resources.js');
const { ControllerMetrics } = await mod('telemetry/metrics.js');
const { Kubeconfig } = await mod('kube/kubeconfig.js');
const { pino } = await import('pino');
const client = new HttpKubeClient(Kubeconfig.fromFiles([process.env.MG_KUBECONFIG]));
const baselineRss = process.memoryUsage().rss;

async function listOnly() {
  let n = 0;
  for (const ref of WORKLOAD_RESOURCES) {
    let token;
    do {
      let page;
      try { page = await client.list(ref, { limit: 500, ...(token ? { continue: token } : {}) }); }
      catch { break; }
      n += page.items.length;
      token = page.continue;
    } while (token);
  }
  return n;
}
await listOnly(); // warms the same code paths
let t = performance.now();
const listed = await listOnly();
const listOnlyMs = performance.now() - t;

const metrics = new ControllerMetrics();
const controller = new Controller(client, realClock, pino({ level: 'silent' }), metrics, {
  namespace: 'modelgate-system', identity: 'bench', leaderElect: false, leaseName: 'bench',
  webhookService: 'modelgate-webhook', webhookSecret: 'modelgate-webhook-tls',
  validatingWebhook: '', mutatingWebhook: '', certManager: true, auditIntervalMs: 3_600_000,
});
const cpu0 = process.cpuUsage();
t = performance.now();
await controller.start();
let syncMs;
for (;;) {
  const r = controller.running;
  if (syncMs === undefined && r?.audit.hasSynced()) syncMs = performance.now() - t;
  if (r?.audit.lastScan?.scope === 'cluster') break;
  await new Promise((r) => setTimeout(r, 20));
}
const cpu = process.cpuUsage(cpu0);
const scan = controller.running.audit.lastScan;
const events = (await metrics.events.get()).values.reduce((a, v) => a + v.value, 0);
const heapUsed = process.memoryUsage().heapUsed;
await controller.stop();
process.stdout.write(JSON.stringify({
  listed, listOnlyMs, auditMs: scan.durationMs, syncMs: syncMs ?? 0, workloads: scan.workloads,
  violations: scan.violations, cpuMs: (cpu.user + cpu.system) / 1000, eventsWritten: events,
  peakRssMiB: process.resourceUsage().maxRSS / 1024, baselineRssMiB: baselineRss / 1048576,
  heapUsedMiB: heapUsed / 1048576,
}) + '\\n');
process.exit(0);
`;

function runChild(dist: string, kubeconfig: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...NODE_FLAGS, '--input-type=module', '-e', CHILD], {
      cwd: ROOT,
      env: { ...process.env, MG_DIST: pathToFileURL(dist + '/').href, MG_KUBECONFIG: kubeconfig },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`audit bench child exited with ${code}`));
      resolve(JSON.parse(line) as Record<string, number>);
    });
  });
}

/** The in-memory API for `size` workloads, in its own process; resolves with its port. */
function startApi(size: number): Promise<{ port: number; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, join(ROOT, 'bench', 'audit-api.ts'), String(size)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve({ port: (JSON.parse(line) as { port: number }).port, child });
    });
    child.on('exit', (code) => reject(new Error(`in-memory API exited with ${code}`)));
  });
}

function kubeconfigFor(server: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'mg-bench-audit-')), 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'bench', cluster: { server, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'bench', user: { token: 'bench' } }],
      contexts: [{ name: 'bench', context: { cluster: 'bench', user: 'bench' } }],
      'current-context': 'bench',
    }),
  );
  return file;
}

async function createAll(
  client: KubeClient,
  objects: Iterable<{ ref: ResourceRef; obj: KubeObject }>,
  concurrency: number,
): Promise<void> {
  const it = objects[Symbol.iterator]();
  const worker = async () => {
    for (let n = it.next(); !n.done; n = it.next()) {
      try {
        await client.create(n.value.ref, n.value.obj);
      } catch (err) {
        if (!String((err as Error).message).includes('AlreadyExists')) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function measure(dist: string, size: number): Promise<SizeResult> {
  let r: Record<string, number>;
  if (cluster) {
    const { startCluster } = await import('../test/e2e/cluster.ts');
    const c = await startCluster();
    const client = new HttpKubeClient(c.kubeConfig());
    const all = [...benchObjects(size)];
    await createAll(
      client,
      all.filter((o) => o.ref !== DEPLOYMENTS),
      16,
    );
    await createAll(
      client,
      all.filter((o) => o.ref === DEPLOYMENTS),
      32,
    );
    try {
      r = await runChild(dist, c.kubeconfigPath);
    } finally {
      for (let n = 0; n < namespaceCount(size); n++) await client.delete(NAMESPACES, namespaceName(size, n));
      for (let i = 0; i < POLICIES; i++) await client.delete(CLUSTER_MODEL_POLICIES, `bench-${i}`);
      if (c.startedHere) await c.stop();
    }
  } else {
    const api = await startApi(size);
    try {
      r = await runChild(dist, kubeconfigFor(`http://127.0.0.1:${api.port}`));
    } finally {
      api.child.removeAllListeners('exit');
      api.child.kill();
    }
  }
  const round = (v: number | undefined) => Math.round(v ?? NaN);
  return {
    workloads: size,
    namespaces: namespaceCount(size),
    policies: POLICIES,
    violations: r.violations ?? 0,
    auditMs: round(r.auditMs),
    syncMs: round(r.syncMs),
    listOnlyMs: round(r.listOnlyMs),
    ratio: Number(((r.auditMs ?? NaN) / (r.listOnlyMs ?? NaN)).toFixed(2)),
    perWorkloadUs: Math.round(((r.auditMs ?? NaN) * 1000) / size),
    cpuMs: round(r.cpuMs),
    eventsWritten: r.eventsWritten ?? 0,
    peakRssMiB: round(r.peakRssMiB),
    baselineRssMiB: round(r.baselineRssMiB),
    heapUsedMiB: round(r.heapUsedMiB),
  };
}

/** A figure of the other mode, from its last run (docs/perf/), so one JSON line carries both. */
function lastRun(name: string, size: number): number | undefined {
  const file = join(PERF_DIR, `${name}.json`);
  if (!existsSync(file)) return undefined;
  const data = JSON.parse(readFileSync(file, 'utf8')) as { results?: SizeResult[] };
  return data.results?.find((r) => r.workloads === size)?.peakRssMiB;
}

async function main(): Promise<void> {
  const dist = compileSources('bench-audit', [
    'controller/manager.ts',
    'kube/client.ts',
    'kube/clock.ts',
    'kube/kubeconfig.ts',
    'kube/resources.ts',
    'telemetry/metrics.ts',
  ]);
  console.log(
    `audit benchmark (${cluster ? 'local control plane' : 'in-memory API in its own process'}), the whole controller compiled (node ${NODE_FLAGS.join(' ') || 'defaults'}), ${POLICIES} ClusterModelPolicies, ${PER_NAMESPACE} Deployments per namespace`,
  );
  console.log(
    'workloads  audit ms  sync ms  list-only ms  ratio  µs/workload  cpu ms  violations  events  peak RSS MiB  heap MiB',
  );
  const results: SizeResult[] = [];
  for (const size of SIZES) {
    const r = await measure(dist, size);
    results.push(r);
    console.log(
      `${String(r.workloads).padStart(9)}  ${String(r.auditMs).padStart(8)}  ${String(r.syncMs).padStart(7)}  ${String(r.listOnlyMs).padStart(12)}  ${r.ratio.toFixed(2).padStart(5)}  ${String(r.perWorkloadUs).padStart(11)}  ${String(r.cpuMs).padStart(6)}  ${String(r.violations).padStart(10)}  ${String(r.eventsWritten).padStart(6)}  ${String(r.peakRssMiB).padStart(12)}  ${String(r.heapUsedMiB).padStart(8)}`,
    );
  }
  const at = (n: number) => results.find((r) => r.workloads === n);
  const growth = (a: SizeResult | undefined, b: SizeResult | undefined) =>
    a && b
      ? {
          from: a.workloads,
          to: b.workloads,
          workloads: b.workloads / a.workloads,
          time: Number((b.auditMs / a.auditMs).toFixed(2)),
          cpu: Number((b.cpuMs / a.cpuMs).toFixed(2)),
          peak_rss: Number((b.peakRssMiB / a.peakRssMiB).toFixed(2)),
        }
      : undefined;
  const g = cluster ? growth(at(1000), at(10_000)) : growth(at(10_000), at(100_000));
  emitResult(cluster ? 'audit-cluster' : 'audit', {
    mode: cluster ? 'cluster' : 'in-memory',
    policies: POLICIES,
    node_flags: NODE_FLAGS.join(' '),
    results,
    ...(g ? { growth: g } : {}),
    audit_10k_ms: at(10_000)?.auditMs,
    audit_to_list_ratio_10k: at(10_000)?.ratio,
    audit_100k_peak_rss_mib: cluster ? lastRun('audit', 100_000) : at(100_000)?.peakRssMiB,
    audit_10k_cluster_peak_rss_mib: cluster ? at(10_000)?.peakRssMiB : lastRun('audit-cluster', 10_000),
  });
}

await main();
