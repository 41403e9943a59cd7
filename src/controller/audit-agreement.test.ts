// The audit, the webhook and `modelgate check` give one verdict per workload (DESIGN §5: one decision
// core): the same violations (policy, check, message) for every example workload and for the audit
// benchmark's mix, whatever path the workload takes to the decision core.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run as check } from '../cli/check.ts';
import { FakeClock } from '../kube/clock.ts';
import { FakeKubeClient } from '../kube/fake-client.test-support.ts';
import { silentLogger } from '../kube/builders.test-support.ts';
import {
  CLUSTER_MODEL_POLICIES,
  CONFIG_MAPS,
  NAMESPACES,
  POLICY_REPORTS,
  RUNTIME_CLASSES,
  SECRETS,
  workloadResource,
} from '../kube/resources.ts';
import type { KubeObject } from '../kube/types.ts';
import { formatViolation } from '../policy/decide.ts';
import type { Violation } from '../policy/types.ts';
import { buildSnapshot } from '../policy-store/file-store.ts';
import { InformerPolicyStore } from '../policy-store/informer-store.ts';
import { loadManifests } from '../policy-store/manifests.ts';
import { VerdictCache } from '../signing/index.ts';
import { trustProblem } from '../signing/trust.ts';
import { ControllerMetrics } from '../telemetry/metrics.ts';
import { createAdmission } from '../webhook/admission.ts';
import type { AdmissionRequest } from '../webhook/review.ts';
import { AUDIT_REPORT_NAME, AuditReconciler } from './audit.ts';
import { EventRecorder } from './events.ts';
import { ReportWriter } from './report-writer.ts';
import { WorkloadInformers } from './workload-informers.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const workloadFiles = readdirSync(join(EXAMPLES, 'workloads')).map((f) => join(EXAMPLES, 'workloads', f));
const policyPaths = [join(EXAMPLES, 'policies')];
const clusterPaths = [join(EXAMPLES, 'cluster.yaml')];

interface CheckJson {
  results: {
    kind: string;
    namespace: string;
    name: string;
    allowed: boolean;
    violations: Violation[];
  }[];
}

async function runCheck(): Promise<CheckJson> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await check([
      '--policy',
      ...policyPaths,
      '--cluster',
      ...clusterPaths,
      '--output',
      'json',
      ...workloadFiles,
    ]);
  } finally {
    spy.mockRestore();
  }
  return JSON.parse(out) as CheckJson;
}

const refOf = (o: KubeObject) => {
  const [group, version] = (o.apiVersion ?? '').includes('/')
    ? (o.apiVersion ?? '').split('/')
    : ['', o.apiVersion];
  const cluster: Record<string, typeof NAMESPACES> = {
    Namespace: NAMESPACES,
    RuntimeClass: RUNTIME_CLASSES,
    ConfigMap: CONFIG_MAPS,
    Secret: SECRETS,
    ClusterModelPolicy: CLUSTER_MODEL_POLICIES,
  };
  return (
    cluster[o.kind ?? ''] ?? {
      ...workloadResource({ group: group ?? '', kind: o.kind ?? '' }),
      version: version ?? 'v1',
    }
  );
};

afterEach(() => vi.restoreAllMocks());

describe('one verdict per workload: audit = webhook = modelgate check', () => {
  it('agrees on every example workload', async () => {
    const checked = await runCheck();
    expect(checked.results.length).toBe(workloadFiles.length);

    // The webhook, on the same policies and cluster objects.
    const snapshot = buildSnapshot(
      loadManifests(policyPaths),
      loadManifests(clusterPaths),
      'modelgate-system',
    );
    const verdicts = new VerdictCache();
    const admission = createAdmission({
      store: {
        snapshot: () => snapshot,
        ready: () => true,
        onChange: () => undefined,
        start: async () => undefined,
        stop: async () => undefined,
      },
      verifier: { image: 'registry.example.com/modelgate:test' },
      validateTrust: trustProblem,
      verifyBundle: (b, t) => verdicts.verify(b, t),
    });
    const workloads = loadManifests(workloadFiles).map((m) => m.object as KubeObject);
    for (const w of workloads) {
      const kind = { group: refOf(w).group, version: refOf(w).version, kind: w.kind ?? '' };
      const req = {
        uid: `uid-${w.metadata.name}`,
        kind,
        resource: { group: kind.group, version: kind.version, resource: refOf(w).resource },
        operation: 'CREATE',
        namespace: w.metadata.namespace,
        name: w.metadata.name,
        object: w,
        dryRun: false,
      } as unknown as AdmissionRequest;
      const outcome = admission.validate(req);
      const c = checked.results.find((r) => r.name === w.metadata.name);
      expect(outcome.response.allowed, w.metadata.name).toBe(c?.allowed);
      expect(
        outcome.policyResults
          .filter((p) => p.violated)
          .map((p) => p.policy)
          .sort(),
        w.metadata.name,
      ).toEqual([...new Set(c?.violations.map((v) => v.policy))].sort());
    }

    // The audit, on a cluster holding the same objects.
    const client = new FakeKubeClient();
    const clock = new FakeClock();
    for (const m of [...loadManifests(clusterPaths), ...loadManifests(policyPaths)]) {
      const o = m.object as KubeObject;
      client.seed(refOf(o), o);
    }
    for (const w of workloads) client.seed(refOf(w), w);
    const store = new InformerPolicyStore({
      client,
      clock,
      logger: silentLogger,
      controllerNamespace: 'modelgate-system',
    });
    await store.start();
    const informers = new WorkloadInformers({ client, clock, logger: silentLogger });
    const events = new EventRecorder({ client, clock, logger: silentLogger, instance: 't' });
    const auditVerdicts = new VerdictCache();
    const audit = new AuditReconciler({
      client,
      clock,
      logger: silentLogger,
      metrics: new ControllerMetrics(),
      events,
      reports: new ReportWriter({ client, clock, logger: silentLogger }),
      workloads: informers,
      snapshot: () => store.snapshot(),
      policyAudit: () => undefined,
      exemptNamespaces: new Set(['kube-system', 'kube-public', 'kube-node-lease', 'modelgate-system']),
      verifyBundle: (b, t) => auditVerdicts.verify(b, t),
    });
    audit.start();
    informers.start();
    await clock.advance(100);
    await audit.idle();
    const reports = client.all(POLICY_REPORTS).filter((r) => r.metadata.name === AUDIT_REPORT_NAME);
    const rows = reports.flatMap(
      (r) =>
        r.results as {
          policy: string;
          rule: string;
          result: string;
          message: string;
          resources: { name: string }[];
        }[],
    );
    for (const c of checked.results) {
      const found = rows
        .filter((x) => x.resources[0]?.name === c.name && x.result !== 'pass')
        .map((x) => `${x.policy}|${x.rule}|${x.message}`)
        .sort();
      const want = c.violations.map((v) => `${v.policy}|${v.check}|${formatViolation(v)}`).sort();
      expect(found, c.name).toEqual(want);
    }
    expect(checked.results.some((c) => c.violations.length > 0)).toBe(true);
    expect(checked.results.some((c) => c.violations.length === 0)).toBe(true);
    informers.stop();
    await audit.stop();
    await events.stop();
    await store.stop();
  });
});
