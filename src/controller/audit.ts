// Audit reconciler: evaluates the workloads that already exist against the policies, with the webhook's
// decision core. A full scan runs when the policies change and every `intervalMs`; a namespace scan
// when a workload in it changes. Lists are paginated and only bounded report results are kept, so memory
// does not grow with the number of workloads. Findings go to Events on the workload (violations only,
// de-duplicated), a PolicyReport per namespace ("modelgate-audit"), each policy's status.audit, and
// Prometheus metrics.
import type pino from 'pino';
import type { AuditSummary } from '../api/types.ts';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import { CLUSTER_MODEL_POLICIES, MODEL_POLICIES, WORKLOAD_RESOURCES } from '../kube/resources.ts';
import { isStatus, type KubeClient, type ResourceRef } from '../kube/types.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import { formatViolation, type DecideOptions } from '../policy/decide.ts';
import type { PolicySnapshot } from '../policy/store.ts';
import type { BundleVerifier } from '../policy/signature-seam.ts';
import {
  auditWorkload,
  countWorkload,
  reportResults,
  violationKey,
  type PolicyCounts,
  type WorkloadAudit,
} from './audit-evaluate.ts';
import type { EventRecorder } from './events.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';
import type { ReportWriter } from './report-writer.ts';
import type { WorkloadFacts, WorkloadInformers } from './workload-informers.ts';
import { DEFAULT_MAX_RESULTS, ReportAccumulator } from './reports.ts';

export const AUDIT_REPORT_NAME = 'modelgate-audit';
const FULL = '*';
const NS_PREFIX = 'ns/';

export interface AuditReconcilerDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics?: ControllerMetrics;
  events: EventRecorder;
  reports: ReportWriter;
  snapshot: () => PolicySnapshot;
  /** The status of a policy object by id (for writing status.audit only when it changes). */
  policyAudit: (id: string) => AuditSummary | undefined;
  exemptNamespaces: ReadonlySet<string>;
  /** Signature verification for bundles available at admission (the webhook's verifier, with its cache). */
  verifyBundle?: BundleVerifier;
  /** The webhook's verifier options (verifierDecideOptions): the audit judges verifier containers as it does. */
  admission?: Pick<DecideOptions, 'verifierImage' | 'extraChecks'>;
  intervalMs?: number;
  pageSize?: number;
  maxResultsPerReport?: number;
  /** Coalesces workload changes in a namespace into one scan. */
  namespaceDelayMs?: number;
  workloadResources?: readonly ResourceRef[];
  /** The shared workload informers, to scan a namespace again when a workload in it changes. */
  workloads?: WorkloadInformers;
}

interface NamespaceFindings {
  report: ReportAccumulator;
  counts: Map<string, PolicyCounts>;
  violations: Map<string, number>;
}

export interface ScanStats {
  scope: 'cluster' | 'namespace';
  workloads: number;
  violations: number;
  durationMs: number;
}

export class AuditReconciler {
  private readonly queue: WorkQueue;
  /** Per-namespace per-policy counts: the sum is each policy's status.audit. */
  private nsCounts = new Map<string, Map<string, PolicyCounts>>();
  private nsViolations = new Map<string, Map<string, number>>();
  private timer: TimerHandle | undefined;
  lastScan: ScanStats | undefined;

  constructor(private readonly d: AuditReconcilerDeps) {
    this.queue = new WorkQueue(
      {
        name: 'audit',
        clock: d.clock,
        logger: d.logger,
        concurrency: 1,
        maxRetries: 8,
        ...(d.metrics ? { onMetrics: d.metrics.queueHook } : {}),
      },
      (key) => (key === FULL ? this.scanCluster() : this.scanNamespace(key.slice(NS_PREFIX.length))),
    );
    // A workload created, deleted, or changed in what decides its verdict: its namespace is scanned again.
    for (const inf of d.workloads?.all() ?? []) {
      const touched = (w: WorkloadFacts) => {
        if (inf.hasSynced() && !w.controlled)
          this.queue.addAfter(NS_PREFIX + w.namespace, this.d.namespaceDelayMs ?? 2000);
      };
      inf.addHandlers({
        onAdd: touched,
        onUpdate: (w, old) => w.stamp !== old.stamp && touched(w),
        onDelete: touched,
      });
    }
  }

  start(): void {
    this.requestFullScan();
    this.schedulePeriodic();
  }

  /** Stops the queue; resolves when a scan in progress has returned. */
  async stop(): Promise<void> {
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    await this.queue.stop();
  }

  /** A namespace's labels changed: its workloads are evaluated again (selectors may now match or not). */
  requestNamespaceScan(namespace: string): void {
    this.queue.addAfter(NS_PREFIX + namespace, this.d.namespaceDelayMs ?? 2000);
  }

  /** Policies changed: every workload is evaluated again. */
  requestFullScan(): void {
    this.queue.add(FULL);
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  hasSynced(): boolean {
    return this.d.workloads?.hasSynced() ?? true;
  }

  private schedulePeriodic(): void {
    this.timer = this.d.clock.setTimeout(() => {
      this.requestFullScan();
      this.schedulePeriodic();
    }, this.d.intervalMs ?? 600_000);
  }

  private newFindings(): NamespaceFindings {
    return {
      report: new ReportAccumulator(this.d.maxResultsPerReport ?? DEFAULT_MAX_RESULTS),
      counts: new Map(),
      violations: new Map(),
    };
  }

  /** Lists every workload (in `namespace`, or everywhere), page by page, folding findings per namespace. */
  private async evaluate(
    snapshot: PolicySnapshot,
    namespace?: string,
  ): Promise<{ byNs: Map<string, NamespaceFindings>; workloads: number; violations: number }> {
    const byNs = new Map<string, NamespaceFindings>();
    let workloads = 0;
    let violations = 0;
    const at = this.d.clock.now();
    for (const ref of this.d.workloadResources ?? WORKLOAD_RESOURCES) {
      let token: string | undefined;
      do {
        let page;
        try {
          page = await this.d.client.list(ref, {
            limit: this.d.pageSize ?? 500,
            ...(namespace ? { namespace } : {}),
            ...(token ? { continue: token } : {}),
          });
        } catch (err) {
          if (isStatus(err, 404)) break; // kind not installed (e.g. KServe)
          throw err;
        }
        for (const o of page.items) {
          workloads++;
          const a = auditWorkload(
            o,
            snapshot,
            this.d.exemptNamespaces,
            this.d.verifyBundle,
            this.d.admission,
          );
          if (!a) continue;
          const f = byNs.get(a.ref.namespace) ?? this.newFindings();
          byNs.set(a.ref.namespace, f);
          for (const r of reportResults(a, at)) f.report.add(r);
          countWorkload(f.counts, a);
          for (const v of a.violations) {
            violations++;
            const k = `${v.policy}\u0000${v.check}\u0000${v.enforcement}`;
            f.violations.set(k, (f.violations.get(k) ?? 0) + 1);
            this.recordViolation(a, v);
          }
        }
        token = page.continue;
      } while (token);
    }
    this.d.metrics?.auditWorkloads.inc(workloads);
    return { byNs, workloads, violations };
  }

  private recordViolation(a: WorkloadAudit, v: WorkloadAudit['violations'][number]): boolean {
    const reason =
      v.enforcement === 'Enforce'
        ? 'PolicyViolation'
        : v.enforcement === 'Warn'
          ? 'PolicyWarning'
          : 'PolicyAuditViolation';
    return this.d.events.record(
      a.ref,
      'Warning',
      reason,
      `modelgate audit: ${formatViolation(v)}`,
      violationKey(a, v),
    );
  }

  private async scanCluster(): Promise<void> {
    const started = this.d.clock.now();
    const t0 = performance.now();
    const snapshot = this.d.snapshot();
    const { byNs, workloads, violations } = await this.evaluate(snapshot);
    this.nsCounts = new Map([...byNs].map(([ns, f]) => [ns, f.counts]));
    this.nsViolations = new Map([...byNs].map(([ns, f]) => [ns, f.violations]));
    await this.writeReports(byNs, undefined);
    await this.writePolicySummaries(snapshot, started, true);
    this.publishMetrics(snapshot);
    const durationMs = performance.now() - t0;
    this.lastScan = { scope: 'cluster', workloads, violations, durationMs };
    this.d.metrics?.auditScans.inc({ scope: 'cluster' });
    this.d.metrics?.auditScanDuration.observe({ scope: 'cluster' }, durationMs / 1000);
    this.d.logger.info(
      { workloads, violations, namespaces: byNs.size, durationMs: Math.round(durationMs) },
      'audit scan finished',
    );
  }

  private async scanNamespace(namespace: string): Promise<void> {
    const started = this.d.clock.now();
    const t0 = performance.now();
    const snapshot = this.d.snapshot();
    const { byNs, workloads, violations } = await this.evaluate(snapshot, namespace);
    const f = byNs.get(namespace);
    if (f) {
      this.nsCounts.set(namespace, f.counts);
      this.nsViolations.set(namespace, f.violations);
    } else {
      this.nsCounts.delete(namespace);
      this.nsViolations.delete(namespace);
    }
    await this.writeReports(byNs, namespace);
    await this.writePolicySummaries(snapshot, started, false);
    this.publishMetrics(snapshot);
    const durationMs = performance.now() - t0;
    this.lastScan = { scope: 'namespace', workloads, violations, durationMs };
    this.d.metrics?.auditScans.inc({ scope: 'namespace' });
    this.d.metrics?.auditScanDuration.observe({ scope: 'namespace' }, durationMs / 1000);
  }

  /** Creates/updates the report of each namespace with findings; deletes stale ones (in `only`, or everywhere). */
  private async writeReports(byNs: Map<string, NamespaceFindings>, only: string | undefined): Promise<void> {
    const batch = await this.d.reports.begin(AUDIT_REPORT_NAME, only);
    if (!batch) return; // no report CRD: Events, status and metrics still say everything
    for (const [ns, f] of byNs)
      await batch.put({
        name: AUDIT_REPORT_NAME,
        namespace: ns,
        results: f.report.results,
        summary: f.report.summary,
        truncated: f.report.truncated,
      });
    await batch.finish();
  }

  private totals(): Map<string, PolicyCounts> {
    const out = new Map<string, PolicyCounts>();
    for (const counts of this.nsCounts.values()) {
      for (const [p, c] of counts) {
        const t = out.get(p) ?? { matched: 0, violating: 0 };
        t.matched += c.matched;
        t.violating += c.violating;
        out.set(p, t);
      }
    }
    return out;
  }

  /** status.audit of each compiled policy: after a full scan always (lastScan moves), otherwise only on change. */
  private async writePolicySummaries(
    snapshot: PolicySnapshot,
    scannedAt: number,
    full: boolean,
  ): Promise<void> {
    const totals = this.totals();
    const lastScan = new Date(scannedAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const p of snapshot.policies.policies) {
      const t = totals.get(p.id) ?? { matched: 0, violating: 0 };
      const cur = this.d.policyAudit(p.id);
      if (!full && cur?.matched === t.matched && cur.violating === t.violating) continue;
      const audit: AuditSummary = {
        matched: t.matched,
        violating: t.violating,
        lastScan: full || !cur?.lastScan ? lastScan : cur.lastScan,
      };
      try {
        await this.d.client.patch(
          p.kind === 'ModelPolicy' ? MODEL_POLICIES : CLUSTER_MODEL_POLICIES,
          p.name,
          p.namespace,
          { status: { audit } },
          'merge',
          'status',
        );
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
      }
    }
  }

  private publishMetrics(snapshot: PolicySnapshot): void {
    const m = this.d.metrics;
    if (!m) return;
    const totals = this.totals();
    m.policyMatched.reset();
    m.policyViolating.reset();
    for (const p of snapshot.policies.policies) {
      const t = totals.get(p.id) ?? { matched: 0, violating: 0 };
      m.policyMatched.set({ policy: p.id }, t.matched);
      m.policyViolating.set({ policy: p.id }, t.violating);
    }
    const byCheck = new Map<string, number>();
    for (const v of this.nsViolations.values())
      for (const [k, n] of v) byCheck.set(k, (byCheck.get(k) ?? 0) + n);
    m.violations.reset();
    for (const [k, n] of byCheck) {
      const [policy, check, enforcement] = k.split('\u0000') as [string, string, string];
      m.violations.set({ policy, check, enforcement }, n);
    }
  }
}
