import { describe, expect, it } from 'vitest';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { EVENTS, PODS, POLICY_REPORTS } from '../kube/resources.ts';
import { silentLogger } from '../kube/builders.test-support.ts';
import type { KubeObject } from '../kube/types.ts';
import { EventRecorder } from './events.ts';
import { ControllerMetrics } from './metrics.ts';
import { readVerification, VERIFICATION_REPORT_NAME, VerificationReconciler } from './verification.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function pod(name: string, message?: string, finishedAt = '2026-01-01T00:00:00Z'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ml',
      uid: `uid-${name}`,
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'llm-abc', uid: 'rs', controller: true },
      ],
    },
    spec: { nodeName: 'node-1', containers: [] },
    status:
      message === undefined
        ? { initContainerStatuses: [{ name: 'modelgate-verifier', state: { running: {} } }] }
        : {
            initContainerStatuses: [
              { name: 'modelgate-verifier', state: { terminated: { exitCode: 0, message, finishedAt } } },
            ],
          },
  };
}

const valid = JSON.stringify({
  model: '/models/llama',
  verdict: 'valid',
  digest: 'sha256:' + 'a'.repeat(64),
  signer: 'ml-release',
  durationMs: 1234,
});
const invalid = JSON.stringify([
  { model: '/models/a', verdict: 'invalid', reason: 'file weights.bin changed', durationMs: 10 },
]);

describe('readVerification', () => {
  it('reads one result or a list, and flags what is not a result', () => {
    expect(readVerification(pod('p', valid))?.records[0]).toMatchObject({
      model: '/models/llama',
      verdict: 'valid',
      signer: 'ml-release',
    });
    expect(readVerification(pod('p', invalid))?.records).toHaveLength(1);
    expect(readVerification(pod('p'))).toBeUndefined();
    expect(readVerification(pod('p', 'killed'))?.unreadable).toContain('not JSON');
    expect(readVerification(pod('p', '{"x":1}'))?.unreadable).toContain('not a verifier result');
  });
});

describe('VerificationReconciler', () => {
  it('records Events, metrics and a PolicyReport entry for a verifier result written to pod status', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock(NOW + 60_000);
    const metrics = new ControllerMetrics();
    const events = new EventRecorder({ client, clock, logger: silentLogger, metrics, instance: 't' });
    const rec = new VerificationReconciler({ client, clock, logger: silentLogger, metrics, events });
    client.seed(PODS, pod('starting'));
    rec.start();
    await clock.advance(10);
    // The kubelet writes the result through the status subresource.
    await client.patch(PODS, 'starting', 'ml', { status: pod('starting', valid).status }, 'merge', 'status');
    client.seed(PODS, pod('bad', invalid));
    await clock.advance(1500);
    await rec.idle();

    const evs = client.all(EVENTS);
    expect(evs.map((e) => [e.reason, (e.involvedObject as { name: string }).name]).sort()).toEqual([
      ['ModelVerificationFailed', 'bad'],
      ['ModelVerified', 'starting'],
    ]);
    const report = client.peek(POLICY_REPORTS, VERIFICATION_REPORT_NAME, 'ml');
    expect(report?.summary).toMatchObject({ pass: 1, fail: 1 });
    const results = report?.results as { result: string; properties: Record<string, string> }[];
    expect(results.find((r) => r.result === 'pass')?.properties).toMatchObject({
      model: '/models/llama',
      signer: 'ml-release',
      owner: 'ReplicaSet/llm-abc',
      node: 'node-1',
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('modelgate_verifications_total{verdict="valid"} 1');
    expect(text).toContain('modelgate_verifications_total{verdict="invalid"} 1');

    // Same result seen again (any status update): no second Event.
    await client.patch(PODS, 'starting', 'ml', { metadata: { labels: { x: 'y' } } }, 'merge');
    await clock.advance(1500);
    expect(client.all(EVENTS)).toHaveLength(2);

    // Pods gone: the report goes too.
    await client.delete(PODS, 'starting', 'ml');
    await client.delete(PODS, 'bad', 'ml');
    await clock.advance(1500);
    await rec.idle();
    expect(client.peek(POLICY_REPORTS, VERIFICATION_REPORT_NAME, 'ml')).toBeUndefined();
    rec.stop();
  });

  it('gives no Event for results that finished long before it started', async () => {
    const client = new FakeKubeClient();
    const clock = new FakeClock(NOW + 5 * 3_600_000);
    const events = new EventRecorder({ client, clock, logger: silentLogger, instance: 't' });
    const rec = new VerificationReconciler({ client, clock, logger: silentLogger, events });
    client.seed(PODS, pod('old', valid));
    rec.start();
    await clock.advance(10);
    await clock.advance(1500);
    await rec.idle();
    expect(client.all(EVENTS)).toHaveLength(0);
    expect(client.peek(POLICY_REPORTS, VERIFICATION_REPORT_NAME, 'ml')?.summary).toMatchObject({ pass: 1 });
    rec.stop();
  });
});
