// npm run bench:webhook — admission throughput and latency, modelgate vs. a floor, in one run (issue 9).
//
// The floor is a bare node:https server that parses the same AdmissionReview and answers "allowed": what
// any Node webhook pays for TLS, HTTP and JSON. A second reference, the fastify floor, does the same in
// fastify (the webhook's framework) with its default JSON parser: what the framework alone costs.
// modelgate runs with 1, 10, 100 and 1,000 file-backed ClusterModelPolicies (one selects the benchmark
// namespace; the others select other teams' namespaces and kinds, as in a shared cluster). Load comes
// from autocannon in a separate process, over HTTPS keep-alive, at concurrency 1, 16 and 64, cycling
// through realistic requests (Deployment, InferenceService, Pod with image volumes; admitted and
// denied). Latency percentiles are computed from every response time (autocannon's own histogram has
// 1 ms resolution, too coarse here). modelgate runs compiled by tsc, as in production. Last line: JSON
// with the ratios, also written to docs/perf/webhook.json (charts: `npx tsx bench/charts.ts`). Needs
// only `npm ci`; about 4 minutes (BENCH_ROUNDS, BENCH_DURATION shorten it).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { pino } from 'pino';
import type * as FileStoreModule from '../src/policy-store/file-store.ts';
import type * as LoggerModule from '../src/telemetry/logger.ts';
import type * as MetricsModule from '../src/telemetry/metrics.ts';
import type * as AdmissionModule from '../src/webhook/admission.ts';
import type * as ServerModule from '../src/webhook/server.ts';
import type { WebhookServer } from '../src/webhook/server.ts';
import { createTestCa } from '../src/webhook/tls.test-support.ts';
import { compileSources } from './compile.ts';
import { emitResult } from './perf-output.ts';
import { trustProblem } from '../src/signing/trust.ts';

const list = (v: string | undefined, d: number[]) => (v ? v.split(',').map(Number) : d);
// BENCH_POLICY_COUNTS / BENCH_CONCURRENCY narrow a run (e.g. `10` and `16` under `node --cpu-prof`).
const POLICY_COUNTS = list(process.env.BENCH_POLICY_COUNTS, [1, 10, 100, 1000]);
const CONCURRENCY = list(process.env.BENCH_CONCURRENCY, [1, 16, 64]);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const WARMUP_S = 2;

// ---------------------------------------------------------------------------------------------- load side
interface LoadRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}
interface LoadConfig {
  url: string;
  connections: number;
  duration: number;
  requests: LoadRequest[];
}
interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  p999: number;
  requests: number;
  non2xx: number;
  errors: number;
}
interface AutocannonInstance {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
interface AutocannonResult {
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (
  opts: Record<string, unknown>,
  cb: (err: Error | null, res: AutocannonResult) => void,
) => AutocannonInstance;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function runLoad(cfg: LoadConfig): Promise<LoadResult> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const once = (duration: number, record: boolean) =>
    new Promise<{ res: AutocannonResult; times: number[]; elapsed: number }>((resolve, reject) => {
      const times: number[] = [];
      const started = process.hrtime.bigint();
      const inst = autocannon(
        { url: cfg.url, connections: cfg.connections, pipelining: 1, duration, requests: cfg.requests },
        (err, res) => {
          if (err) reject(err);
          else resolve({ res, times, elapsed: Number(process.hrtime.bigint() - started) / 1e9 });
        },
      );
      if (record) inst.on('response', (_c, status, _b, ms) => status < 300 && times.push(ms));
    });
  const { res, times, elapsed } = await once(cfg.duration, true);
  const sorted = Float64Array.from(times).sort();
  return {
    rps: times.length / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    requests: times.length,
    non2xx: res.non2xx,
    errors: res.errors + res.timeouts,
  };
}

/** One load-generator process for the whole run, fed one LoadConfig per line; it answers one line each. */
class LoadGenerator {
  private readonly child: ChildProcessWithoutNullStreams;
  private buffered = '';
  private waiting: ((line: string) => void)[] = [];
  constructor() {
    this.child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--load']);
    this.child.stderr.pipe(process.stderr);
    this.child.stdout.on('data', (d: Buffer) => {
      this.buffered += d.toString();
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
  }
  run(cfg: LoadConfig): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => {
        const r = JSON.parse(line) as LoadResult | { error: string };
        if ('error' in r) reject(new Error(r.error));
        else resolve(r);
      });
      this.child.stdin.write(`${JSON.stringify(cfg)}\n`);
    });
  }
  close(): void {
    this.child.stdin.end();
  }
}

// -------------------------------------------------------------------------------------------- server side
const HEX = (c: string) => c.repeat(64);

function policiesYaml(n: number): string {
  const kinds = [
    '[{group: apps, kind: Deployment}]',
    '[{group: serving.kserve.io, kind: InferenceService}]',
    '[{group: "", kind: Pod}]',
    '[]',
  ];
  const docs = [
    `apiVersion: modelgate.io/v1alpha1
kind: ClusterModelPolicy
metadata: {name: prod-models}
spec:
  enforcement: Enforce
  match: {namespaceSelector: {matchLabels: {env: prod}}}
  sources: ["oci://registry.example.com/models/**", "hf://example-org/*"]
  requirePinned: true`,
  ];
  for (let i = 1; i < n; i++)
    docs.push(`apiVersion: modelgate.io/v1alpha1
kind: ClusterModelPolicy
metadata: {name: team-${i}}
spec:
  enforcement: ${i % 3 === 0 ? 'Warn' : 'Enforce'}
  match:
    namespaceSelector: {matchLabels: {team: t${i}}}
    kinds: ${kinds[i % kinds.length]}
  sources: ["oci://registry.example.com/team-${i}/**"]
  requirePinned: true`);
  return docs.join('\n---\n') + '\n';
}

const CLUSTER_YAML = `apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod, team: platform}}
`;

function workloads(): Record<string, unknown>[] {
  const deployment = (ref: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'llm', namespace: 'prod', labels: { app: 'llm' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'llm' } },
      template: {
        metadata: { labels: { app: 'llm' } },
        spec: {
          containers: [
            {
              name: 'server',
              image: 'vllm/vllm-openai:v0.6.0',
              args: ['--model', '/models', '--port', '8000'],
              ports: [{ containerPort: 8000 }],
              resources: { limits: { 'nvidia.com/gpu': '1' } },
              volumeMounts: [{ name: 'model', mountPath: '/models' }],
            },
          ],
          volumes: [{ name: 'model', image: { reference: ref } }],
        },
      },
    },
  });
  const isvc = (uri: string) => ({
    apiVersion: 'serving.kserve.io/v1beta1',
    kind: 'InferenceService',
    metadata: { name: 'sklearn', namespace: 'prod' },
    spec: {
      predictor: {
        model: {
          modelFormat: { name: 'huggingface' },
          storageUri: uri,
          resources: { limits: { cpu: '1', memory: '2Gi' } },
        },
      },
    },
  });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'embed', namespace: 'prod' },
    spec: {
      containers: [
        {
          name: 'server',
          image: 'ghcr.io/example/server:1.0',
          volumeMounts: [
            { name: 'a', mountPath: '/models/a' },
            { name: 'b', mountPath: '/models/b' },
          ],
        },
      ],
      volumes: [
        { name: 'a', image: { reference: `registry.example.com/models/a@sha256:${HEX('a')}` } },
        { name: 'b', image: { reference: `registry.example.com/models/b@sha256:${HEX('b')}` } },
      ],
    },
  };
  return [
    deployment(`registry.example.com/models/llama@sha256:${HEX('c')}`), // admitted
    deployment('registry.example.com/models/llama:latest'), // denied: not pinned
    isvc(`hf://example-org/model:${'d'.repeat(40)}`), // admitted
    isvc('s3://bucket/models/x'), // denied: source, pinning
    pod, // admitted
    deployment(`evil.example.com/models/x@sha256:${HEX('e')}`), // denied: source
  ];
}

function reviewBody(object: Record<string, unknown>, i: number): string {
  const [group, version] = String(object.apiVersion).includes('/')
    ? String(object.apiVersion).split('/')
    : ['', String(object.apiVersion)];
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      kind: { group, version, kind: object.kind },
      resource: { group, version, resource: `${String(object.kind).toLowerCase()}s` },
      name: (object.metadata as { name: string }).name,
      namespace: 'prod',
      operation: 'CREATE',
      userInfo: {
        username: 'system:serviceaccount:ci:deployer',
        groups: ['system:serviceaccounts', 'system:authenticated'],
      },
      object,
      oldObject: null,
      dryRun: false,
      options: {
        apiVersion: 'meta.k8s.io/v1',
        kind: 'CreateOptions',
        fieldManager: 'kubectl-client-side-apply',
      },
    },
  });
}

function startFloor(cert: string, key: string): Promise<Server> {
  const server = createServer({ cert, key, minVersion: 'TLSv1.2', keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let uid = '';
      try {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: { uid?: string } };
        uid = review.request?.uid ?? '';
      } catch {
        res.writeHead(400).end();
        return;
      }
      const body = JSON.stringify({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: { uid, allowed: true },
      });
      res
        .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        .end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** The floor in fastify: same TLS options, default (secure) JSON body parser, no logging, one route. */
async function startFastifyFloor(
  cert: string,
  key: string,
): Promise<{ port: number; close: () => Promise<void> }> {
  const app = Fastify({
    https: { cert, key, minVersion: 'TLSv1.2' },
    keepAliveTimeout: 60_000,
    logger: false,
  });
  app.post('/validate', (request, reply) => {
    const uid = (request.body as { request?: { uid?: string } } | null)?.request?.uid ?? '';
    return reply.send({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid, allowed: true },
    });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}

/** One (target, policies, concurrency) cell of the JSON; bench/charts.ts reads it back. */
export interface Row {
  target: string;
  policies: number | null;
  concurrency: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  cpu_us_per_request: number;
  non2xx: number;
  errors: number;
}

/** modelgate's server, compiled as in production (bench/compile.ts), not run through tsx. */
async function loadModelgate() {
  const dist = compileSources('bench-webhook', [
    'webhook/server.ts',
    'webhook/admission.ts',
    'policy-store/file-store.ts',
    'telemetry/logger.ts',
    'telemetry/metrics.ts',
  ]);
  const load = <T>(path: string) => import(pathToFileURL(join(dist, path)).href) as Promise<T>;
  return {
    ...(await load<typeof FileStoreModule>('policy-store/file-store.js')),
    ...(await load<typeof LoggerModule>('telemetry/logger.js')),
    ...(await load<typeof MetricsModule>('telemetry/metrics.js')),
    ...(await load<typeof AdmissionModule>('webhook/admission.js')),
    ...(await load<typeof ServerModule>('webhook/server.js')),
  };
}

/**
 * Hostile 3 MiB Pods (issue 13: one such Pod froze a replica for 48 s): one container with 100,000
 * `--model` flags, and the same volume spread over many containers. Median of 5 decisions each, against
 * the median JSON.parse of the same AdmissionReview measured in the same run.
 */
function measureLargePods(admission: { validate(req: never): { verdict: string } }) {
  const image = `vllm/vllm-openai@sha256:${'a'.repeat(64)}`;
  const flags = (n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => (i % 2 ? `evil-org/model-${tag}-${i}` : '--model'));
  // Shapes found by the security review and the red team to cost more than linear time before.
  const hostPaths = Array.from({ length: 8000 }, (_, i) => ({
    name: `h${i}`,
    hostPath: { path: `/data/${i}` },
  }));
  const shapes: [string, Record<string, unknown>][] = [
    ['one container, 100,000 args', { containers: [{ name: 's', image, args: flags(100_000, 'x') }] }],
    [
      '180 containers of 1,000 args (3 MiB)',
      {
        containers: Array.from({ length: 180 }, (_, c) => ({
          name: `c${c}`,
          image,
          args: flags(1000, `c${c}`),
        })),
      },
    ],
    [
      'one argument of 500,000 "$("',
      { containers: [{ name: 's', image, args: ['--model', '$('.repeat(500_000)] }] },
    ],
    [
      '20,000 $(VAR) references to ConfigMap values',
      {
        containers: [
          {
            name: 's',
            image,
            env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }],
            args: ['--model', '$(X)'.repeat(20_000), ...Array.from({ length: 2000 }, () => '$(X)')],
          },
        ],
      },
    ],
    [
      '8,000 hostPath volumes beside a model volume',
      {
        containers: [
          {
            name: 's',
            image,
            args: ['--model', '/models/m'],
            volumeMounts: [{ name: 'm', mountPath: '/models/m', readOnly: true }],
          },
        ],
        volumes: [{ name: 'm', hostPath: { path: '/data' } }, ...hostPaths],
      },
    ],
    [
      '60,000 env paths over 20,000 ConfigMap mounts (4.5 MiB)',
      {
        containers: [
          {
            name: 's',
            image,
            command: ['vllm', 'serve', '/models/m'],
            env: Array.from({ length: 60_000 }, (_, i) => ({
              name: `V${i}`,
              value: `/cfg${i % 20_000}/x:/a/b`,
            })),
            volumeMounts: Array.from({ length: 20_000 }, (_, i) => ({
              name: `c${i}`,
              mountPath: `/cfg${i}`,
            })),
          },
        ],
        volumes: Array.from({ length: 20_000 }, (_, i) => ({ name: `c${i}`, configMap: { name: `c${i}` } })),
      },
    ],
  ];
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return shapes.map(([shape, spec]) => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'big',
        namespace: 'prod',
        annotations: {
          'modelgate.io/models': JSON.stringify([
            { name: 'm', volume: 'm', digest: `sha256:${'b'.repeat(64)}` },
          ]),
        },
      },
      spec,
    };
    const body = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        operation: 'CREATE',
        namespace: 'prod',
        object: pod,
      },
    });
    const parse: number[] = [];
    const decide: number[] = [];
    let verdict = '';
    for (let r = 0; r < 5; r++) {
      let t = performance.now();
      JSON.parse(body);
      parse.push(performance.now() - t);
      t = performance.now();
      verdict = admission.validate({
        uid: 'u',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        operation: 'CREATE',
        namespace: 'prod',
        object: pod,
        dryRun: false,
      } as never).verdict;
      decide.push(performance.now() - t);
    }
    return {
      shape,
      mib: +(body.length / 1048576).toFixed(2),
      decision_ms: +median(decide).toFixed(1),
      parse_ms: +median(parse).toFixed(1),
      vs_parse: +(median(decide) / median(parse)).toFixed(2),
      verdict,
    };
  });
}

async function main(): Promise<void> {
  const { FilePolicyStore, createLogger, AdmissionMetrics, createAdmission, startWebhookServer } =
    await loadModelgate();
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-'));
  // Same certificate for both servers: an ECDSA P-256 leaf from an in-process test CA.
  const leaf = await (await createTestCa('modelgate bench CA')).issue('localhost');
  const cert = leaf.certPem;
  const key = leaf.keyPem;
  writeFileSync(join(dir, 'tls.crt'), cert);
  writeFileSync(join(dir, 'tls.key'), key);
  writeFileSync(join(dir, 'cluster.yaml'), CLUSTER_YAML);

  // Audit records are written as in production (info level, synchronous writes like pino's default
  // stdout destination), to /dev/null instead of a pipe.
  const logger = createLogger({
    level: 'info',
    name: 'webhook',
    destination: pino.destination({ dest: '/dev/null', sync: true }),
  });
  const servers = new Map<number, WebhookServer>();
  const admissions = new Map<number, ReturnType<typeof createAdmission>>();
  for (const n of POLICY_COUNTS) {
    mkdirSync(join(dir, `p${n}`));
    writeFileSync(join(dir, `p${n}`, 'policies.yaml'), policiesYaml(n));
    const store = new FilePolicyStore({
      policyPaths: [join(dir, `p${n}`)],
      clusterPaths: [join(dir, 'cluster.yaml')],
    });
    await store.start();
    if (store.snapshot().errors.length > 0)
      throw new Error(`bench policies do not compile: ${store.snapshot().errors[0]!.message}`);
    const admission = createAdmission({
      store,
      verifier: { image: 'modelgate:bench' },
      validateTrust: trustProblem,
    });
    admissions.set(n, admission);
    const server = await startWebhookServer({
      admission,
      tls: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') },
      logger,
      metrics: new AdmissionMetrics(),
      notReadyReason: () => undefined,
      host: '127.0.0.1',
      port: 0,
      metricsHost: '127.0.0.1',
      metricsPort: 0,
    });
    servers.set(n, server);
  }
  const floor = await startFloor(cert, key);
  const fastifyFloor = await startFastifyFloor(cert, key);
  const bodies = workloads().map((w, i) => reviewBody(w, i));
  const requests = (path: string): LoadRequest[] =>
    bodies.map((body) => ({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body }));

  // Shared, noisy machines: each (target, concurrency) is measured in ROUNDS short runs, interleaved with
  // the floor's, and the median run is kept, so a burst of foreign load hits both sides alike.
  const targets: { target: string; policies: number | null; port: number }[] = [
    { target: 'floor', policies: null, port: (floor.address() as AddressInfo).port },
    { target: 'fastify-floor', policies: null, port: fastifyFloor.port },
    ...POLICY_COUNTS.map((n) => ({ target: 'modelgate', policies: n, port: servers.get(n)!.port })),
  ];
  const samples = new Map<string, (LoadResult & { cpuPerRequestUs: number })[]>();
  const keyOf = (t: { target: string; policies: number | null }, c: number) =>
    `${t.target}|${t.policies}|${c}`;
  process.stderr.write(
    `webhook bench: ${cpus().length} CPUs, node ${process.version}, ${ROUNDS} interleaved rounds of ${DURATION_S}s per target and concurrency\n`,
  );
  const load = new LoadGenerator();
  for (const t of targets)
    await load.run({
      url: `https://127.0.0.1:${t.port}`,
      connections: 16,
      duration: WARMUP_S,
      requests: requests('/validate'),
    });
  for (const c of CONCURRENCY) {
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) {
        // Server CPU time per request: this process hosts only the servers (the load generator is another
        // process), and CPU time is far less disturbed by other tenants of the machine than wall time.
        const cpu0 = process.cpuUsage();
        const r = await load.run({
          url: `https://127.0.0.1:${t.port}`,
          connections: c,
          duration: DURATION_S,
          requests: requests('/validate'),
        });
        const cpu = process.cpuUsage(cpu0);
        const list = samples.get(keyOf(t, c)) ?? [];
        list.push({ ...r, cpuPerRequestUs: (cpu.user + cpu.system) / Math.max(1, r.requests) });
        samples.set(keyOf(t, c), list);
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows: Row[] = [];
  for (const c of CONCURRENCY)
    for (const t of targets) {
      const runs = samples.get(keyOf(t, c))!;
      const row: Row = {
        target: t.target,
        policies: t.policies,
        concurrency: c,
        rps: Math.round(median(runs.map((r) => r.rps))),
        p50_ms: +median(runs.map((r) => r.p50)).toFixed(3),
        p99_ms: +median(runs.map((r) => r.p99)).toFixed(3),
        p999_ms: +median(runs.map((r) => r.p999)).toFixed(3),
        cpu_us_per_request: +median(runs.map((r) => r.cpuPerRequestUs)).toFixed(1),
        non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
        errors: runs.reduce((a, r) => a + r.errors, 0),
      };
      rows.push(row);
      process.stderr.write(
        `${t.target.padEnd(9)} policies=${String(t.policies ?? '-').padEnd(5)} c=${String(c).padEnd(3)} ${String(row.rps).padStart(6)} req/s  p50 ${row.p50_ms.toFixed(3)} ms  p99 ${row.p99_ms.toFixed(3)} ms  p99.9 ${row.p999_ms.toFixed(3)} ms  cpu ${row.cpu_us_per_request.toFixed(0)} µs/req${row.non2xx || row.errors ? `  non2xx=${row.non2xx} errors=${row.errors}` : ''}\n`,
      );
    }

  const floorAt = (c: number) => rows.find((r) => r.target === 'floor' && r.concurrency === c)!;
  const fastifyAt = (c: number) => rows.find((r) => r.target === 'fastify-floor' && r.concurrency === c)!;
  const ratios = rows
    .filter((r) => r.target === 'modelgate')
    .map((r) => ({
      policies: r.policies,
      concurrency: r.concurrency,
      throughput_ratio: +(r.rps / floorAt(r.concurrency).rps).toFixed(3),
      p99_ratio: +(r.p99_ms / floorAt(r.concurrency).p99_ms).toFixed(3),
      /** Throughput when CPU-bound, from CPU time per request: floor / modelgate. */
      cpu_throughput_ratio: +(floorAt(r.concurrency).cpu_us_per_request / r.cpu_us_per_request).toFixed(3),
      /** Against the fastify floor: what modelgate adds beyond its framework. */
      vs_fastify_throughput_ratio: +(r.rps / fastifyAt(r.concurrency).rps).toFixed(3),
    }));
  const fastifyRatios = CONCURRENCY.map((c) => ({
    concurrency: c,
    throughput_ratio: +(fastifyAt(c).rps / floorAt(c).rps).toFixed(3),
    cpu_throughput_ratio: +(floorAt(c).cpu_us_per_request / fastifyAt(c).cpu_us_per_request).toFixed(3),
  }));
  process.stderr.write('\nmodelgate / floor:\n');
  for (const r of ratios)
    process.stderr.write(
      `  policies=${String(r.policies).padEnd(5)} c=${String(r.concurrency).padEnd(3)} throughput ${r.throughput_ratio.toFixed(2)}  p99 ${r.p99_ratio.toFixed(2)}  cpu-bound throughput ${r.cpu_throughput_ratio.toFixed(2)}  (vs fastify floor ${r.vs_fastify_throughput_ratio.toFixed(2)})\n`,
    );
  process.stderr.write('fastify floor / floor:\n');
  for (const r of fastifyRatios)
    process.stderr.write(
      `  c=${String(r.concurrency).padEnd(3)} throughput ${r.throughput_ratio.toFixed(2)}  cpu-bound throughput ${r.cpu_throughput_ratio.toFixed(2)}\n`,
    );
  const headline = ratios.find((r) => r.policies === 10 && r.concurrency === 16) ?? ratios[0]!;
  const at1000 = ratios.find((r) => r.policies === 1000 && r.concurrency === 16);
  const at1 = ratios.find((r) => r.policies === 1 && r.concurrency === 16);

  const largePods = measureLargePods(admissions.get(10) ?? admissions.values().next().value!);
  for (const l of largePods)
    process.stderr.write(
      `large pod (${l.shape}, ${l.mib} MiB): decision ${l.decision_ms} ms = ${l.vs_parse}x the JSON.parse of its review; verdict ${l.verdict}\n`,
    );

  load.close();
  floor.close();
  await fastifyFloor.close();
  for (const s of servers.values()) await s.close(1000);
  rmSync(dir, { recursive: true, force: true });
  emitResult('webhook', {
    throughput_ratio: headline.throughput_ratio,
    p99_ratio: headline.p99_ratio,
    cpu_throughput_ratio: headline.cpu_throughput_ratio,
    policies_1000_vs_1_throughput:
      at1000 && at1 ? +(at1000.throughput_ratio / at1.throughput_ratio).toFixed(3) : null,
    /** The fastify floor against the floor at concurrency 16: the framework's own share of the gap. */
    fastify_floor_throughput_ratio: fastifyRatios.find((r) => r.concurrency === 16)?.throughput_ratio ?? null,
    vs_fastify_throughput_ratio: headline.vs_fastify_throughput_ratio,
    budget: { throughput_ratio_min: 0.6, p99_ratio_max: 2 },
    /** A 3 MiB hostile Pod decided in-process: time, and that time over parsing its review (the floor). */
    large_pod_decision_ms: Math.max(...largePods.map((l) => l.decision_ms)),
    large_pod_vs_parse: Math.max(...largePods.map((l) => l.vs_parse)),
    large_pods: largePods,
    cpus: cpus().length,
    node: process.version,
    duration_s: DURATION_S,
    rounds: ROUNDS,
    rows,
    ratios,
    fastify_ratios: fastifyRatios,
  });
}

if (process.argv.includes('--load')) {
  // Load-generator mode: a separate process, so client and servers do not share an event loop.
  const lines = createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    queue = queue.then(() =>
      runLoad(JSON.parse(line) as LoadConfig)
        .then((r) => void process.stdout.write(`${JSON.stringify(r)}\n`))
        .catch((err: Error) => void process.stdout.write(`${JSON.stringify({ error: err.message })}\n`)),
    );
  });
} else {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`bench:webhook failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}
