import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { SECRETS } from '../kube/resources.ts';
import { silentLogger } from '../kube/builders.test-support.ts';
import { isObj } from '../kube/types.ts';
import { CertificateReconciler, readTlsSecret, type CertLifetimes } from './certificates.ts';
import { ControllerMetrics } from '../telemetry/metrics.ts';
import { issuedBy, parseBundle } from './pki.ts';

const DAY = 86_400_000;
const lifetimes: CertLifetimes = {
  caValidityMs: 90 * DAY,
  servingValidityMs: 30 * DAY,
  renewFraction: 1 / 3,
};

function setup() {
  const client = new FakeKubeClient();
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const published: string[] = [];
  const metrics = new ControllerMetrics();
  client.seed(SECRETS, {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'modelgate-webhook-tls', namespace: 'modelgate-system' },
    type: 'Opaque',
  });
  const rec = new CertificateReconciler({
    client,
    clock,
    logger: silentLogger,
    metrics,
    namespace: 'modelgate-system',
    secretName: 'modelgate-webhook-tls',
    serviceName: 'modelgate-webhook',
    lifetimes,
    silenceTimeoutMs: 365 * DAY,
    maxCheckIntervalMs: 7 * DAY,
    publishBundle: async (pem) => {
      // What the API server trusts must already hold the CA of any certificate written afterwards.
      published.push(pem);
    },
  });
  const secret = () => readTlsSecret(client.peek(SECRETS, 'modelgate-webhook-tls', 'modelgate-system'));
  const settle = async (ms = 10) => {
    await clock.advance(ms);
    await rec.idle();
  };
  return { client, clock, rec, secret, published, settle, metrics };
}

describe('CertificateReconciler', () => {
  it('fills an empty Secret with a CA and a serving certificate for the Service, and publishes the CA first', async () => {
    const { rec, secret, published, settle, client, metrics } = setup();
    rec.start();
    await settle();
    const s = secret();
    expect(s.bundle).toHaveLength(1);
    expect(s.currentCa).toBeDefined();
    expect(s.serving).toBeDefined();
    expect(issuedBy(s.serving!.cert, s.currentCa!.cert)).toBe(true);
    expect(s.serving!.cert.subjectAltName).toContain('DNS:modelgate-webhook.modelgate-system.svc');
    expect(published.at(-1)).toBe(s.bundle.map((c) => c.pem).join(''));
    expect(rec.caBundle()).toBe(published.at(-1));
    // Steady state: nothing rewritten.
    const writes = client.writes.length;
    await settle(DAY);
    expect(client.writes.length).toBe(writes);
    expect(
      await metrics.registry.getSingleMetricAsString('modelgate_certificate_expiry_timestamp_seconds'),
    ).toContain('certificate="serving"');
    rec.stop();
  });

  it('renews the serving certificate when a third of its life is left', async () => {
    const { rec, secret, settle } = setup();
    rec.start();
    await settle();
    const first = secret().serving!;
    await settle(19 * DAY);
    expect(secret().serving!.pem).toBe(first.pem);
    await settle(2 * DAY);
    const second = secret().serving!;
    expect(second.pem).not.toBe(first.pem);
    expect(second.notAfter).toBeGreaterThan(first.notAfter);
    rec.stop();
  });

  it('rotates the CA with overlap: old CA stays trusted, new cert only after the bundle is published', async () => {
    const { rec, secret, settle, published, clock } = setup();
    rec.start();
    await settle();
    const oldCa = secret().currentCa!;
    // Run until the CA is due (60 days in), with serving renewals on the way.
    for (let d = 0; d < 62; d++) await settle(DAY);
    await settle(60_000);
    const s = secret();
    expect(s.currentCa!.pem).not.toBe(oldCa.pem);
    expect(s.bundle.map((c) => c.pem)).toEqual([s.currentCa!.pem, oldCa.pem]);
    expect(issuedBy(s.serving!.cert, s.currentCa!.cert)).toBe(true);
    // The bundle naming the new CA was published with the old CA still in it, and the certificate the
    // new CA issued came at least the propagation delay (30 s) after the CA (both notBefore are
    // backdated by 5 minutes).
    const idx = published.findIndex((p) => p.includes(s.currentCa!.pem.trim()));
    expect(idx).toBeGreaterThanOrEqual(0);
    expect(published[idx]).toContain(oldCa.pem.trim());
    expect(s.serving!.notBefore - s.currentCa!.notBefore).toBeGreaterThanOrEqual(30_000);
    // After the old CA expires it leaves the bundle.
    await settle(30 * DAY);
    expect(secret().bundle.map((c) => c.pem)).not.toContain(oldCa.pem);
    expect(clock.now()).toBeGreaterThan(oldCa.notAfter);
    rec.stop();
  });

  it('repairs a Secret whose key does not match its certificate', async () => {
    const { rec, secret, settle, client } = setup();
    rec.start();
    await settle();
    const before = secret();
    const cur = client.peek(SECRETS, 'modelgate-webhook-tls', 'modelgate-system')!;
    const data = isObj(cur.data) ? cur.data : {};
    await client.replace(SECRETS, { ...cur, data: { ...data, 'tls.key': data['ca.key'] } });
    await settle();
    const after = secret();
    expect(after.serving!.pem).not.toBe(before.serving!.pem);
    expect(new X509Certificate(after.serving!.pem).checkPrivateKey).toBeDefined();
    expect(parseBundle(after.bundle.map((c) => c.pem).join(''))).toHaveLength(1);
    rec.stop();
  });
});
