import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admissionReview, startTestWebhook, type TestWebhook } from './server.test-support.ts';

type Review = {
  apiVersion: string;
  kind: string;
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string };
    warnings?: string[];
    auditAnnotations?: Record<string, string>;
    patch?: string;
  };
};

const deployment = (namespace: string, reference: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'llm', namespace, labels: { app: 'llm' }, ...extra },
  spec: {
    selector: { matchLabels: { app: 'llm' } },
    template: {
      metadata: { labels: { app: 'llm' } },
      spec: {
        containers: [
          {
            name: 'server',
            image: 'vllm/vllm-openai:v0.6.0',
            args: ['--model', '/models'],
            volumeMounts: [{ name: 'model', mountPath: '/models' }],
          },
        ],
        volumes: [{ name: 'model', image: { reference } }],
      },
    },
  },
});
const PINNED = `registry.example.com/models/llama@sha256:${'b'.repeat(64)}`;
const UNPINNED = 'registry.example.com/models/llama:v1';

let wh: TestWebhook;
beforeAll(async () => {
  wh = await startTestWebhook({ maxBodyBytes: 64 * 1024, requestTimeoutMs: 800 });
});
afterAll(async () => {
  await wh.close();
});

describe('POST /validate', () => {
  it('admits a compliant workload and echoes the uid', async () => {
    const review = admissionReview(deployment('prod', PINNED), { uid: 'uid-allow-1' });
    const res = await wh.post('/validate', review);
    expect(res.status).toBe(200);
    const body = res.json() as Review;
    expect(body.apiVersion).toBe('admission.k8s.io/v1');
    expect(body.kind).toBe('AdmissionReview');
    expect(body.response.uid).toBe('uid-allow-1');
    expect(body.response.allowed).toBe(true);
    expect(body.response.auditAnnotations).toEqual({
      decision: 'allowed',
      policies: 'ClusterModelPolicy/prod-models',
    });
  });

  it('denies with a message naming policy, workload, model, check and fix', async () => {
    const res = await wh.post('/validate', admissionReview(deployment('prod', UNPINNED)));
    const body = res.json() as Review;
    expect(body.response.allowed).toBe(false);
    expect(body.response.status?.code).toBe(403);
    const msg = body.response.status?.message ?? '';
    expect(msg).toContain('Deployment prod/llm');
    expect(msg).toContain('[ClusterModelPolicy/prod-models] pinned');
    expect(msg).toContain('registry.example.com/models/llama:v1');
    expect(msg).toContain('Fix:');
    expect(body.response.auditAnnotations?.decision).toBe('denied');
  });

  it('lists several violations and trims the message', async () => {
    const many = deployment('prod', 'evil.example.com/x:latest');
    const tpl = many.spec.template.spec as { volumes: unknown[]; containers: { volumeMounts: unknown[] }[] };
    for (let i = 0; i < 200; i++)
      tpl.volumes.push({
        name: `m${i}`,
        image: { reference: `evil.example.com/model-${i}-${'x'.repeat(40)}:latest` },
      });
    const body = (await wh.post('/validate', admissionReview(many))).json() as Review;
    const msg = body.response.status?.message ?? '';
    expect(body.response.allowed).toBe(false);
    expect(msg).toMatch(/\(1\) .*\(2\) /s);
    expect(msg.length).toBeLessThanOrEqual(4000);
    expect(msg).toMatch(/and \d+ more/);
  });

  it('admits with warnings in Warn mode', async () => {
    const body = (await wh.post('/validate', admissionReview(deployment('dev', UNPINNED)))).json() as Review;
    expect(body.response.allowed).toBe(true);
    expect(body.response.warnings?.[0]).toContain('[ClusterModelPolicy/dev-warn] pinned');
  });

  it('always allows DELETE and CONNECT, and subresources', async () => {
    for (const operation of ['DELETE', 'CONNECT']) {
      const body = (
        await wh.post('/validate', admissionReview(undefined, { operation, namespace: 'prod' }))
      ).json() as Review;
      expect(body.response.allowed).toBe(true);
    }
    for (const subResource of ['status', 'scale']) {
      const body = (
        await wh.post(
          '/validate',
          admissionReview(deployment('prod', UNPINNED), {
            operation: 'UPDATE',
            subResource,
            oldObject: deployment('prod', UNPINNED),
          }),
        )
      ).json() as Review;
      expect(body.response.allowed).toBe(true);
    }
  });

  it('answers dryRun requests exactly like real ones', async () => {
    const real = (
      await wh.post('/validate', admissionReview(deployment('prod', UNPINNED), { uid: 'u1' }))
    ).json() as Review;
    const dry = (
      await wh.post('/validate', admissionReview(deployment('prod', UNPINNED), { uid: 'u1', dryRun: true }))
    ).json() as Review;
    expect(dry).toEqual(real);
  });

  it('does not start failing an UPDATE that leaves models and placement unchanged', async () => {
    const old = deployment('prod', UNPINNED);
    const updated = deployment('prod', UNPINNED, { annotations: { note: 'scaled' } });
    const body = (
      await wh.post('/validate', admissionReview(updated, { operation: 'UPDATE', oldObject: old }))
    ).json() as Review;
    expect(body.response.allowed).toBe(true);
    expect(body.response.warnings?.join(' ')).toContain('not enforced on this update');
    const changed = (
      await wh.post(
        '/validate',
        admissionReview(deployment('prod', 'registry.example.com/models/other:v2'), {
          operation: 'UPDATE',
          oldObject: old,
        }),
      )
    ).json() as Review;
    expect(changed.response.allowed).toBe(false);
  });

  it('fails closed when a CREATE has no object', async () => {
    const review = admissionReview(undefined, { namespace: 'prod' });
    (review.request as Record<string, unknown>).kind = { group: 'apps', version: 'v1', kind: 'Deployment' };
    const body = (await wh.post('/validate', review)).json() as Review;
    expect(body.response.allowed).toBe(false);
    expect(body.response.status?.message).toContain('could not decide');
  });

  it('writes one audit record per decision, without the object or tokens', async () => {
    const before = wh.audit.length;
    await wh.post(
      '/validate',
      admissionReview(deployment('prod', UNPINNED), { uid: 'audit-uid-1', user: 'bob' }),
    );
    const recs = wh.audit.slice(before);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      uid: 'audit-uid-1',
      user: 'bob',
      operation: 'CREATE',
      kind: 'apps/v1/Deployment',
      namespace: 'prod',
      name: 'llm',
      verdict: 'denied',
      policies: ['ClusterModelPolicy/prod-models'],
      endpoint: 'validate',
    });
    expect(typeof recs[0]!.latencyMs).toBe('number');
    expect((recs[0]!.reasons as string[])[0]).toContain('pinned');
    const all = wh.logLines.join('\n');
    expect(all).not.toContain('secret-token-value');
    expect(all).not.toContain('vllm/vllm-openai');
  });
});

describe('malformed input', () => {
  const status = async (path: string, body: unknown, opts?: { contentType?: string; raw?: boolean }) =>
    (await wh.post(path, body, opts)).status;

  it('rejects non-JSON, wrong envelopes and missing fields with 400', async () => {
    expect(await status('/validate', '{not json', { raw: true })).toBe(400);
    expect(await status('/validate', '', { raw: true })).toBe(400);
    expect(await status('/validate', [1, 2])).toBe(400);
    expect(await status('/validate', 'null', { raw: true })).toBe(400);
    expect(
      await status('/validate', {
        apiVersion: 'admission.k8s.io/v1beta1',
        kind: 'AdmissionReview',
        request: { uid: 'x' },
      }),
    ).toBe(400);
    expect(
      await status('/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'Pod', request: { uid: 'x' } }),
    ).toBe(400);
    expect(await status('/validate', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })).toBe(
      400,
    );
    expect(
      await status('/validate', {
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        request: { operation: 'CREATE' },
      }),
    ).toBe(400);
    expect(await status('/mutate', '{"__proto__": {"x": 1}}', { raw: true })).toBe(400);
  });

  it('answers a review with a uid but a bad operation with a denial', async () => {
    const res = await wh.post('/validate', {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'bad-op', operation: 'PATCH', kind: { group: '', version: 'v1', kind: 'Pod' } },
    });
    expect(res.status).toBe(200);
    const body = res.json() as Review;
    expect(body.response).toMatchObject({ uid: 'bad-op', allowed: false, status: { code: 400 } });
  });

  it('answers 413 for a body over the limit, 415 for a wrong content type, 404 for unknown paths', async () => {
    const big = admissionReview(deployment('prod', PINNED, { annotations: { big: 'x'.repeat(70 * 1024) } }));
    expect(await status('/validate', big)).toBe(413);
    expect(
      await status('/validate', JSON.stringify(admissionReview(deployment('prod', PINNED))), {
        raw: true,
        contentType: 'text/plain',
      }),
    ).toBe(415);
    expect(await status('/validate', '<x/>', { raw: true, contentType: 'application/xml' })).toBe(415);
    expect(await status('/nope', {})).toBe(404);
    expect(await status('/validate/extra', {})).toBe(404);
  });

  it('drops a client that never finishes its request', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', port: wh.server.port, ca: wh.caPem, servername: 'localhost' },
        () => {
          socket.write(
            'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"apiVersion"',
          );
        },
      );
      let data = '';
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', () => resolve(data));
      setTimeout(() => resolve('still open'), 8000);
    });
    expect(outcome).not.toBe('still open');
    expect(outcome === '' || /^HTTP\/1.1 408/.test(outcome), outcome).toBe(true);
    // The server still answers.
    expect((await wh.post('/validate', admissionReview(deployment('prod', PINNED)))).status).toBe(200);
  });
});

describe('health and metrics port', () => {
  it('serves /healthz, /readyz and /metrics', async () => {
    expect((await wh.get('/healthz')).status).toBe(200);
    expect((await wh.get('/readyz')).status).toBe(200);
    const metrics = await wh.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain(
      'modelgate_admission_requests_total{endpoint="validate",kind="Deployment",decision="denied"}',
    );
    expect(metrics.text).toContain(
      'modelgate_admission_duration_seconds_bucket{le="0.0005",endpoint="validate"}',
    );
    expect(metrics.text).toContain('modelgate_admission_in_flight_requests');
    expect(metrics.text).toContain(
      'modelgate_admission_policy_results_total{policy="ClusterModelPolicy/prod-models",result="violation"}',
    );
    expect((await wh.get('/other')).status).toBe(404);
  });
});
