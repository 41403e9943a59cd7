import { describe, expect, it } from 'vitest';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { InformerPolicyStore } from '../policy-store/informer-store.ts';
import {
  CLUSTER_MODEL_POLICIES,
  EVENTS,
  NAMESPACES,
  POLICY_REPORTS,
  workloadResource,
} from '../kube/resources.ts';
import { clusterPolicy, modelDeployment, namespace, silentLogger } from '../kube/builders.test-support.ts';
import { isObj } from '../kube/types.ts';
import { AUDIT_REPORT_NAME, AuditReconciler } from './audit.ts';
import { EventRecorder } from './events.ts';
import { ControllerMetrics } from '../telemetry/metrics.ts';
import { ReportWriter } from './report-writer.ts';
import { WorkloadInformers } from './workload-informers.ts';

const DEPLOYMENTS = workloadResource({ group: 'apps', kind: 'Deployment' });
const PODS = workloadResource({ group: '', kind: 'Pod' });

async function setup(opts: { maxResults?: number } = {}) {
  const client = new FakeKubeClient();
  const clock = new FakeClock();
  const metrics = new ControllerMetrics();
  const store = new InformerPolicyStore({
    client,
    controllerNamespace: 'modelgate-system',
    logger: silentLogger,
    clock,
    debounceMs: 5,
  });
  await store.start();
  const events = new EventRecorder({ client, clock, logger: silentLogger, metrics, instance: 'test' });
  const workloads = new WorkloadInformers({ client, clock, logger: silentLogger });
  const audit = new AuditReconciler({
    client,
    clock,
    logger: silentLogger,
    metrics,
    events,
    snapshot: () => store.snapshot(),
    policyAudit: (id) => {
      const s = store.compileStates().find((x) => x.id === id);
      const st =
        s && isObj(s.object.status) && isObj(s.object.status.audit) ? s.object.status.audit : undefined;
      return st as { matched?: number; violating?: number; lastScan?: string } | undefined;
    },
    exemptNamespaces: new Set(['kube-system', 'modelgate-system']),
    intervalMs: 600_000,
    pageSize: 2,
    namespaceDelayMs: 1000,
    reports: new ReportWriter({ client, clock, logger: silentLogger }),
    workloads,
    ...(opts.maxResults ? { maxResultsPerReport: opts.maxResults } : {}),
  });
  const settle = async (ms = 20) => {
    await clock.advance(ms);
    await audit.idle();
    await events.idle();
  };
  const start = () => {
    audit.start();
    workloads.start();
  };
  const stop = async () => {
    workloads.stop();
    await audit.stop();
    await store.stop();
  };
  return { client, clock, metrics, store, audit, settle, start, stop };
}

const trustedOnly = { sources: ['oci://trusted.example.com/**'] };

describe('AuditReconciler', () => {
  it('finds an existing violating Deployment after a policy is created: Events, PolicyReport, status.audit, metrics', async () => {
    const { client, audit, settle, metrics, start, stop } = await setup();
    client.seed(NAMESPACES, namespace('team-a'));
    client.seed(DEPLOYMENTS, modelDeployment('team-a', 'bad'));
    client.seed(
      DEPLOYMENTS,
      modelDeployment('team-a', 'good', 'trusted.example.com/models/llama@sha256:' + 'a'.repeat(64)),
    );
    client.seed(DEPLOYMENTS, modelDeployment('kube-system', 'exempt'));
    start();
    await settle();
    expect(client.all(EVENTS)).toHaveLength(0); // no policy yet

    client.seed(CLUSTER_MODEL_POLICIES, clusterPolicy('trusted', trustedOnly));
    await settle();
    audit.requestFullScan(); // the controller does this on a policy change
    await settle();

    const events = client.all(EVENTS);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'Warning',
      reason: 'PolicyViolation',
      involvedObject: { kind: 'Deployment', name: 'bad', namespace: 'team-a' },
    });
    expect(String(events[0]?.message)).toContain('ClusterModelPolicy/trusted');

    const report = client.peek(POLICY_REPORTS, AUDIT_REPORT_NAME, 'team-a');
    expect(report?.summary).toEqual({ pass: 1, fail: 1, warn: 0, error: 0, skip: 0 });
    const results = report?.results as {
      result: string;
      resources: { name: string }[];
      policy: string;
      rule: string;
    }[];
    expect(results[0]).toMatchObject({
      result: 'fail',
      policy: 'ClusterModelPolicy/trusted',
      rule: 'source',
      resources: [{ name: 'bad' }],
    });
    expect(client.peek(POLICY_REPORTS, AUDIT_REPORT_NAME, 'kube-system')).toBeUndefined();

    expect(client.peek(CLUSTER_MODEL_POLICIES, 'trusted')?.status).toMatchObject({
      audit: { matched: 2, violating: 1 },
    });
    const text = await metrics.registry.metrics();
    expect(text).toContain('modelgate_policy_violating_workloads{policy="ClusterModelPolicy/trusted"} 1');
    expect(text).toContain('modelgate_policy_matched_workloads{policy="ClusterModelPolicy/trusted"} 2');

    // A second scan: no duplicate Event, no report rewrite.
    const writes = client.writes.length;
    audit.requestFullScan();
    await settle();
    expect(client.all(EVENTS)).toHaveLength(1);
    expect(client.writes.slice(writes).filter((w) => w.resource === 'policyreports')).toHaveLength(0);
    await stop();
  });

  it('rescans a namespace when a workload in it changes, and drops the report when it is fixed', async () => {
    const { client, settle, start, stop } = await setup();
    client.seed(CLUSTER_MODEL_POLICIES, clusterPolicy('trusted', trustedOnly));
    await settle();
    start();
    await settle();
    client.seed(DEPLOYMENTS, modelDeployment('team-b', 'late'));
    await settle(1500);
    expect(client.peek(POLICY_REPORTS, AUDIT_REPORT_NAME, 'team-b')?.summary).toMatchObject({ fail: 1 });
    await client.delete(DEPLOYMENTS, 'late', 'team-b');
    await settle(1500);
    expect(client.peek(POLICY_REPORTS, AUDIT_REPORT_NAME, 'team-b')).toBeUndefined();
    await stop();
  });

  it('rescans a namespace whose labels change', async () => {
    const { client, store, audit, settle, start, stop } = await setup();
    store.onNamespaceLabelsChanged((ns) => audit.requestNamespaceScan(ns));
    client.seed(NAMESPACES, namespace('team-e'));
    client.seed(
      CLUSTER_MODEL_POLICIES,
      clusterPolicy('prod-only', {
        ...trustedOnly,
        match: { namespaceSelector: { matchLabels: { env: 'prod' } } },
      }),
    );
    client.seed(DEPLOYMENTS, modelDeployment('team-e', 'bad'));
    await settle();
    start();
    await settle();
    expect(client.peek(POLICY_REPORTS, AUDIT_REPORT_NAME, 'team-e')).toBeUndefined();
    client.seed(NAMESPACES, namespace('team-e', { env: 'prod' }));
    await settle(1500);
    expect(client.peek(POLICY_REPORTS, AUDIT_REPORT_NAME, 'team-e')?.summary).toMatchObject({ fail: 1 });
    await stop();
  });

  it('does not count Pods owned by a ReplicaSet, keeps reports bounded, and runs periodically', async () => {
    const { client, audit, settle, clock, start, stop } = await setup({ maxResults: 3 });
    client.seed(CLUSTER_MODEL_POLICIES, clusterPolicy('trusted', trustedOnly));
    for (let i = 0; i < 6; i++) client.seed(DEPLOYMENTS, modelDeployment('team-c', `d${i}`));
    const pod = modelDeployment('team-c', 'owned-pod');
    const tmpl = (pod.spec as { template: { spec: unknown } }).template;
    client.seed(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'owned-pod',
        namespace: 'team-c',
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'd0-abc', uid: 'u', controller: true },
        ],
      },
      spec: tmpl.spec,
    });
    await settle();
    start();
    await settle();
    const report = client.peek(POLICY_REPORTS, AUDIT_REPORT_NAME, 'team-c');
    expect(report?.summary).toMatchObject({ fail: 6 });
    expect(report?.results).toHaveLength(3);
    expect(report?.metadata.annotations?.['modelgate.io/results-truncated']).toBe('3');
    const scans = audit.lastScan;
    expect(scans?.workloads).toBe(7);
    await clock.advance(600_000);
    await audit.idle();
    expect(audit.lastScan).not.toBe(scans);
    await stop();
  });

  it('works without the PolicyReport CRD', async () => {
    const { client, settle, start, stop } = await setup();
    client.notServed.add('policyreports');
    client.seed(CLUSTER_MODEL_POLICIES, clusterPolicy('trusted', trustedOnly));
    client.seed(DEPLOYMENTS, modelDeployment('team-d', 'bad'));
    await settle();
    start();
    await settle();
    expect(client.all(EVENTS)).toHaveLength(1);
    expect(client.peek(CLUSTER_MODEL_POLICIES, 'trusted')?.status).toMatchObject({ audit: { violating: 1 } });
    await stop();
  });
});
