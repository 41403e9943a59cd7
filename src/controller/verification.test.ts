import { describe, expect, it } from 'vitest';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { EVENTS, PODS, POLICY_REPORTS } from '../kube/resources.ts';
import { silentLogger } from '../kube/builders.test-support.ts';
import type { KubeObject } from '../kube/types.ts';
import { EventRecorder } from './events.ts';
import { ControllerMetrics } from '../telemetry/metrics.ts';
import { ReportWriter } from './report-writer.ts';
import {
  podVerification,
  readVerification,
  VERIFICATION_REPORT_NAME,
  VerificationReconciler,
} from './verification.ts';
import { WorkloadInformers } from './workload-informers.ts';
import { untrustedVerifier } from './verifier-origin.ts';
import {
  EXPECTATION,
  forgedPod,
  injectedPod,
  injectingSnapshot,
  terminated,
  VERIFIER_IMAGE,
} from './verifier.test-support.ts';

type Obj = Record<string, unknown>;
const NOW = Date.parse('2026-01-01T00:00:00Z');

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

function setup(startAt = NOW + 60_000) {
  const client = new FakeKubeClient();
  const clock = new FakeClock(startAt);
  const metrics = new ControllerMetrics();
  const events = new EventRecorder({ client, clock, logger: silentLogger, metrics, instance: 't' });
  const snapshot = injectingSnapshot();
  const workloads = new WorkloadInformers({
    client,
    clock,
    logger: silentLogger,
    resources: [PODS],
    podVerification: podVerification((pod) => untrustedVerifier(pod, snapshot, EXPECTATION)),
  });
  const rec = new VerificationReconciler({
    client,
    clock,
    logger: silentLogger,
    metrics,
    events,
    reports: new ReportWriter({ client, clock, logger: silentLogger }),
    pods: workloads.pods!,
  });
  const start = () => {
    rec.start();
    workloads.start();
  };
  const stop = async () => {
    workloads.stop();
    await rec.stop();
  };
  const settle = async () => {
    await clock.advance(1500);
    await rec.idle();
    await events.idle();
  };
  return { client, clock, metrics, events, rec, settle, start, stop };
}

describe('readVerification', () => {
  it('reads one result or a list, and flags what is not a result', () => {
    const pod = (m?: string) => terminated(injectedPod('p'), m);
    expect(readVerification(pod(valid))?.records[0]).toMatchObject({
      model: '/models/llama',
      verdict: 'valid',
      signer: 'ml-release',
    });
    expect(readVerification(pod(invalid))?.records).toHaveLength(1);
    expect(readVerification(pod())).toBeUndefined();
    expect(readVerification(pod('killed'))?.unreadable).toContain('not JSON');
    expect(readVerification(pod('{"x":1}'))?.unreadable).toContain('not a verifier result');
  });
});

describe('untrustedVerifier', () => {
  const snapshot = injectingSnapshot();
  const why = (pod: KubeObject) => untrustedVerifier(pod, snapshot, EXPECTATION);

  it('trusts exactly the verifier modelgate injects, run from the pinned digest', () => {
    expect(why(terminated(injectedPod('p'), valid))).toBeUndefined();
  });

  it('does not trust a container that merely carries the name', () => {
    expect(why(terminated(forgedPod('p'), valid))).toMatch(/image, command.* differ/);
  });

  it('does not trust an injected verifier whose configuration, mounts or position were changed', () => {
    const edit = (f: (c: Obj, spec: Obj) => void) => {
      const pod = terminated(injectedPod('p'), valid);
      const spec = pod.spec as Obj;
      f((spec.initContainers as Obj[])[0] as Obj, spec);
      return why(pod);
    };
    expect(edit((c) => ((c.env as Obj[])[0]!.value = '{"version":1,"policies":[],"models":[]}'))).toMatch(
      /env differ/,
    );
    expect(
      edit((c) => (c.env as Obj[]).push({ name: 'NODE_OPTIONS', value: '--require /tmp/x.js' })),
    ).toMatch(/env differ/);
    expect(
      edit((c) => (c.volumeMounts as Obj[]).push({ name: 'scratch', mountPath: '/app', readOnly: false })),
    ).toMatch(/volumeMounts differ/);
    expect(edit((c) => (c.securityContext = { runAsUser: 0 }))).toMatch(/securityContext differ/);
    // Not where modelgate puts it (first, or right after KServe's storage initializer).
    expect(
      edit((_c, spec) => (spec.initContainers as Obj[]).unshift({ name: 'setup', image: 'busybox' })),
    ).toMatch(/position 2 of initContainers, not where modelgate puts the verifier \(1\)/);
  });

  it('does not trust a result the kubelet got from another image than the pinned digest', () => {
    expect(
      why(terminated(injectedPod('p'), valid, { imageID: `evil.example.com/x@sha256:${'f'.repeat(64)}` })),
    ).toMatch(/ran image evil\.example\.com.*not the pinned sha256:e{64}/);
    expect(why(terminated(injectedPod('p'), valid, { imageID: '' }))).toMatch(/no image digest/);
    expect(
      why(
        terminated(injectedPod('p'), valid, {
          imageID: `docker.io/mirror/modelgate@sha256:${'e'.repeat(64)}`,
        }),
      ),
    ).toBeUndefined();
  });

  it('does not trust a verifier in a pod no injecting policy applies to', () => {
    const pod = terminated(injectedPod('p'), valid);
    pod.metadata.namespace = 'other';
    expect(why(pod)).toMatch(/no policy that applies to pod other\/p has modelgate inject the verifier/);
    expect(VERIFIER_IMAGE).toContain('@sha256:');
  });
});

describe('VerificationReconciler', () => {
  it('records Events, metrics and a PolicyReport entry for a verifier result written to pod status', async () => {
    const { client, clock, metrics, settle, start, stop } = setup();
    client.seed(PODS, terminated(injectedPod('starting'), undefined));
    start();
    await clock.advance(10);
    // The kubelet writes the result through the status subresource.
    await client.patch(
      PODS,
      'starting',
      'ml',
      { status: terminated(injectedPod('starting'), valid).status },
      'merge',
      'status',
    );
    client.seed(PODS, terminated(injectedPod('bad'), invalid));
    await settle();

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
    await settle();
    expect(client.all(EVENTS)).toHaveLength(2);

    // Pods gone: the report goes too.
    await client.delete(PODS, 'starting', 'ml');
    await client.delete(PODS, 'bad', 'ml');
    await settle();
    expect(client.peek(POLICY_REPORTS, VERIFICATION_REPORT_NAME, 'ml')).toBeUndefined();
    await stop();
  });

  it("does not count a forged verifier container's termination message as evidence", async () => {
    const { client, clock, metrics, settle, start, stop } = setup();
    client.seed(PODS, terminated(forgedPod('forged'), valid));
    start();
    await clock.advance(10);
    await settle();

    const evs = client.all(EVENTS);
    expect(evs.map((e) => e.reason)).toEqual(['ModelVerificationUntrusted']);
    expect(evs[0]?.type).toBe('Warning');
    expect(evs[0]?.message).toMatch(/not counted as verification: it is not the verifier modelgate injects/);
    const report = client.peek(POLICY_REPORTS, VERIFICATION_REPORT_NAME, 'ml');
    expect(report?.summary).toMatchObject({ pass: 0, fail: 1 });
    expect((report?.results as { rule: string }[])[0]?.rule).toBe('provenance');
    const text = await metrics.registry.metrics();
    expect(text).toContain('modelgate_verifications_total{verdict="untrusted"} 1');
    expect(text).not.toContain('verdict="valid"');
    await stop();
  });

  it('gives no Event for results that finished long before it started', async () => {
    const { client, clock, settle, start, stop } = setup(NOW + 5 * 3_600_000);
    client.seed(PODS, terminated(injectedPod('old'), valid));
    start();
    await clock.advance(10);
    await settle();
    expect(client.all(EVENTS)).toHaveLength(0);
    expect(client.peek(POLICY_REPORTS, VERIFICATION_REPORT_NAME, 'ml')?.summary).toMatchObject({ pass: 1 });
    await stop();
  });
});
