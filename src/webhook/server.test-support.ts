// Starts the real webhook server in-process on 127.0.0.1 with a generated CA, file-backed policies and a
// captured audit log; and a small HTTPS client that trusts that CA.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, Agent } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { FilePolicyStore } from '../policy-store/file-store.ts';
import type { BundleVerifier } from '../policy/signature-seam.ts';
import type { PolicyStore } from '../policy/store.ts';
import { createLogger } from '../telemetry/logger.ts';
import { AdmissionMetrics } from '../telemetry/metrics.ts';
import { createAdmission } from './admission.ts';
import { startWebhookServer, type WebhookServer } from './server.ts';
import { createTestCa, type TestCa } from './tls.test-support.ts';
import { trustProblem } from '../signing/trust.ts';

export const TEST_VERIFIER_IMAGE = 'registry.example.com/modelgate/verifier@sha256:' + 'a'.repeat(64);

export const NAMESPACES_YAML = `
apiVersion: v1
kind: Namespace
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: v1
kind: Namespace
metadata: {name: dev, labels: {env: dev}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ml, labels: {env: ml}}
`;

export const POLICIES_YAML = `
apiVersion: modelgate.io/v1alpha1
kind: ClusterModelPolicy
metadata: {name: prod-models}
spec:
  enforcement: Enforce
  match: {namespaceSelector: {matchLabels: {env: prod}}}
  sources: ["oci://registry.example.com/models/**", "hf://example-org/*"]
  requirePinned: true
---
apiVersion: modelgate.io/v1alpha1
kind: ClusterModelPolicy
metadata: {name: dev-warn}
spec:
  enforcement: Warn
  match: {namespaceSelector: {matchLabels: {env: dev}}}
  requirePinned: true
---
apiVersion: modelgate.io/v1alpha1
kind: ClusterModelPolicy
metadata: {name: ml-verified}
spec:
  enforcement: Enforce
  match: {namespaceSelector: {matchLabels: {env: ml}}}
  verifier: {inject: true}
  formats: {deny: [pickle]}
`;

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): unknown;
}

export interface TestWebhook {
  server: WebhookServer;
  ca: TestCa;
  caPem: string;
  dir: string;
  certFile: string;
  keyFile: string;
  store: PolicyStore;
  audit: Record<string, unknown>[];
  logLines: string[];
  post(
    path: string,
    body: unknown,
    opts?: { contentType?: string; raw?: boolean; agent?: Agent },
  ): Promise<Response>;
  get(path: string): Promise<Response>;
  close(): Promise<void>;
}

export interface TestWebhookOptions {
  policies?: string;
  cluster?: string;
  store?: PolicyStore;
  maxBodyBytes?: number;
  requestTimeoutMs?: number;
  verifyBundle?: BundleVerifier;
}

export async function startTestWebhook(opts: TestWebhookOptions = {}): Promise<TestWebhook> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-webhook-'));
  const ca = await createTestCa();
  const leaf = await ca.issue('localhost');
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(certFile, leaf.certPem);
  writeFileSync(keyFile, leaf.keyPem);
  writeFileSync(join(dir, 'policies.yaml'), opts.policies ?? POLICIES_YAML);
  writeFileSync(join(dir, 'cluster.yaml'), opts.cluster ?? NAMESPACES_YAML);

  const logLines: string[] = [];
  const audit: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        logLines.push(line);
        const rec = JSON.parse(line) as Record<string, unknown>;
        if (rec.audit === true) audit.push(rec);
      }
      cb();
    },
  });
  const logger = createLogger({ level: 'info', name: 'webhook', destination: sink });
  const store =
    opts.store ??
    new FilePolicyStore({
      policyPaths: [join(dir, 'policies.yaml')],
      clusterPaths: [join(dir, 'cluster.yaml')],
      controllerNamespace: 'modelgate-system',
    });
  await store.start();
  const metrics = new AdmissionMetrics();
  const admission = createAdmission({
    store,
    verifier: { image: TEST_VERIFIER_IMAGE },
    validateTrust: trustProblem,
    ...(opts.verifyBundle ? { verifyBundle: opts.verifyBundle } : {}),
  });
  const server = await startWebhookServer({
    admission,
    tls: { certFile, keyFile, pollIntervalMs: 200 },
    logger,
    metrics,
    notReadyReason: () => (store.ready() ? undefined : 'policies not loaded yet'),
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
    ...(opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
  });
  const agent = new Agent({ keepAlive: true, ca: ca.certPem });
  const collect = (
    res: import('node:http').IncomingMessage,
    resolve: (r: Response) => void,
    reject: (e: Error) => void,
  ) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('error', reject);
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        text,
        json: () => JSON.parse(text) as unknown,
      });
    });
  };
  return {
    server,
    ca,
    caPem: ca.certPem,
    dir,
    certFile,
    keyFile,
    store,
    audit,
    logLines,
    post(path, body, o = {}) {
      const payload = o.raw ? Buffer.from(body as string | Buffer) : Buffer.from(JSON.stringify(body));
      return new Promise((resolve, reject) => {
        const req = httpsRequest(
          {
            host: '127.0.0.1',
            port: server.port,
            path,
            method: 'POST',
            agent: o.agent ?? agent,
            servername: 'localhost',
            headers: {
              'content-type': o.contentType ?? 'application/json',
              'content-length': payload.length,
            },
          },
          (res) => collect(res, resolve, reject),
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    get(path) {
      return new Promise((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: server.metricsPort, path, method: 'GET' }, (res) =>
          collect(res, resolve, reject),
        );
        req.on('error', reject);
        req.end();
      });
    },
    async close() {
      agent.destroy();
      await server.close(1000);
      await store.stop();
    },
  };
}

let uidCounter = 0;

/** An AdmissionReview request for `object`, as the API server sends it. */
export function admissionReview(
  object: Record<string, unknown> | undefined,
  opts: {
    operation?: string;
    namespace?: string;
    oldObject?: unknown;
    dryRun?: boolean;
    subResource?: string;
    uid?: string;
    user?: string;
  } = {},
): Record<string, unknown> {
  const apiVersion = typeof object?.apiVersion === 'string' ? object.apiVersion : 'v1';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const meta = (object?.metadata ?? {}) as { name?: string; namespace?: string };
  const namespace = opts.namespace ?? meta.namespace;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: opts.uid ?? `00000000-0000-4000-8000-${String(++uidCounter).padStart(12, '0')}`,
      kind: { group, version, kind: object?.kind ?? 'Pod' },
      resource: { group, version, resource: `${String(object?.kind ?? 'pod').toLowerCase()}s` },
      ...(opts.subResource ? { subResource: opts.subResource } : {}),
      ...(meta.name ? { name: meta.name } : {}),
      ...(namespace ? { namespace } : {}),
      operation: opts.operation ?? 'CREATE',
      userInfo: {
        username: opts.user ?? 'alice@example.com',
        groups: ['system:authenticated'],
        extra: { token: ['secret-token-value'] },
      },
      object: object ?? null,
      oldObject: opts.oldObject ?? null,
      dryRun: opts.dryRun ?? false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}
