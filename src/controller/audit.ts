// Audit reconciler: evaluates the workloads that already exist against the policies, with the webhook's
// decision core. A full scan runs when the policies change and every `intervalMs`; a namespace scan
// when a workload in it changes. Lists are paginated and only bounded report results are kept, so memory
// does not grow with the number of workloads. Findings go to Events on the workload (violations only,
// de-duplicated), a PolicyReport per namespace ("modelgate-audit"), each policy's status.audit, and
// Prometheus metrics.
import type pino from 'pino';
import type { AuditSummary } from '../api/types.ts';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import { Informer } from '../kube/informer.ts';
import {
  CLUSTER_MODEL_POLICIES,
  MODEL_POLICIES,
  POLICY_REPORTS,
  WORKLOAD_RESOURCES,
} from '../kube/resources.ts';
import { isStatus, KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/types.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import { formatViolation } from '../policy/decide.ts';
import type { PolicySnapshot } from '../policy/store.ts';
import type { BundleVerifier } from '../policy/signature-seam.ts';
import {
  auditWorkload,
  controlledBySupportedKind,
  countWorkload,
  reportResults,
  violationKey,
  type PolicyCounts,
  type WorkloadAudit,
} from './audit-evaluate.ts';
import type { EventRecorder } from './events.ts';
import type { ControllerMetrics } from './metrics.ts';
import {
  buildPolicyReport,
  DEFAULT_MAX_RESULTS,
  ReportAccumulator,
  sameReportContent,
} from './policy-report.ts';

export const AUDIT_REPORT_NAME = 'modelgate-audit';
const FULL = '*';
const NS_PREFIX = 'ns/';

export interface AuditReconcilerDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics?: ControllerMetrics;
  events: EventRecorder;
  snapshot: () => PolicySnapshot;
  /** The status of a policy object by id (for writing status.audit only when it changes). */
  policyAudit: (id: string) => AuditSummary | undefined;
  exemptNamespaces: ReadonlySet<string>;
  /** Signature verification for bundles available at admission (the webhook's verifier, with its cache). */
  verifyBundle?: BundleVerifier;
  intervalMs?: number;
  pageSize?: number;
  maxResultsPerReport?: number;
  /** Coalesces workload changes in a namespace into one scan. */
  namespaceDelayMs?: number;
  workloadResources?: readonly ResourceRef[];
  /** Watch workloads for changes (off in the benchmark). */
  watchWorkloads?: boolean;
}

interface NamespaceFindings {
  report: ReportAccumulator;
  counts: Map<string, PolicyCounts>;
  violations: Map<string, number>;
}

interface WorkloadStamp {
  namespace: string;
  stamp: string;
  controlled: boolean;
}

export interface ScanStats {
  scope: 'cluster' | 'namespace';
  workloads: number;
  violations: number;
  durationMs: number;
}

export class AuditReconciler {
  private readonly queue: WorkQueue;
  private readonly informers: Informer<WorkloadStamp>[] = [];
  /** Per-namespace per-policy counts: the sum is each policy's status.audit. */
  private nsCounts = new Map<string, Map<string, PolicyCounts>>();
  private nsViolations = new Map<string, Map<string, number>>();
  private timer: TimerHandle | undefined;
  private reportsServed = true;
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
  }

  start(): void {
    if (this.d.watchWorkloads !== false) {
      for (const ref of this.d.workloadResources ?? WORKLOAD_RESOURCES) {
        const inf = new Informer<WorkloadStamp>({
          client: this.d.client,
          ref,
          clock: this.d.clock,
          logger: this.d.logger,
          // Keep only what tells a meaningful change apart: spec generation and labels.
          transform: (o) => ({
            namespace: o.metadata.namespace ?? 'default',
            stamp: `${o.metadata.generation ?? o.metadata.resourceVersion}|${JSON.stringify(o.metadata.labels ?? {})}|${JSON.stringify(o.metadata.annotations?.['modelgate.io/models'] ?? '')}`,
            controlled: controlledBySupportedKind(o),
          }),
          ...(this.d.metrics
            ? {
                onEvent: (what, reason) =>
                  this.d.metrics?.informerEvents.inc({ resource: ref.resource, event: what, reason }),
              }
            : {}),
        });
        const touched = (w: WorkloadStamp) => {
          if (inf.hasSynced() && !w.controlled)
            this.queue.addAfter(NS_PREFIX + w.namespace, this.d.namespaceDelayMs ?? 2000);
        };
        inf.addHandlers({
          onAdd: touched,
          onUpdate: (w, old) => w.stamp !== old.stamp && touched(w),
          onDelete: touched,
        });
        inf.start();
        this.informers.push(inf);
      }
    }
    this.requestFullScan();
    this.schedulePeriodic();
  }

  /** Stops the informers and the queue; resolves when a scan in progress has returned. */
  async stop(): Promise<void> {
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    for (const i of this.informers) i.stop();
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
    return this.informers.every((i) => i.hasSynced());
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
          const a = auditWorkload(o, snapshot, this.d.exemptNamespaces, this.d.verifyBundle);
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
    if (!this.reportsServed && only !== undefined) return;
    const existing = new Map<string, KubeObject>();
    try {
      let token: string | undefined;
      do {
        const page = await this.d.client.list(POLICY_REPORTS, {
          labelSelector: `modelgate.io/report=${AUDIT_REPORT_NAME}`,
          limit: 500,
          ...(only ? { namespace: only } : {}),
          ...(token ? { continue: token } : {}),
        });
        for (const r of page.items)
          if (r.metadata.name === AUDIT_REPORT_NAME) existing.set(r.metadata.namespace ?? '', r);
        token = page.continue;
      } while (token);
    } catch (err) {
      // A list answers 404 only when the resource is not served: the PolicyReport CRD is not installed.
      if (isStatus(err, 404)) {
        if (this.reportsServed)
          this.d.logger.warn(
            'PolicyReport CRD (wgpolicyk8s.io/v1alpha2) not installed; audit results go to Events, metrics and policy status only',
          );
        this.reportsServed = false;
        return;
      }
      throw err;
    }
    this.reportsServed = true;
    for (const [ns, f] of byNs) {
      const want = buildPolicyReport({
        name: AUDIT_REPORT_NAME,
        namespace: ns,
        results: f.report.results,
        summary: f.report.summary,
        truncated: f.report.truncated,
        component: AUDIT_REPORT_NAME,
      });
      const cur = existing.get(ns);
      existing.delete(ns);
      if (sameReportContent(cur, want)) continue;
      try {
        if (cur)
          await this.d.client.replace(POLICY_REPORTS, {
            ...want,
            metadata: { ...want.metadata, resourceVersion: cur.metadata.resourceVersion ?? '' },
          });
        else await this.d.client.create(POLICY_REPORTS, want);
      } catch (err) {
        // The namespace is being deleted (or was): its report goes with it.
        if (
          isStatus(err, 404) ||
          (err instanceof KubeApiError && err.status === 403 && /terminat/i.test(err.message))
        )
          continue;
        throw err;
      }
    }
    for (const [ns] of existing) await this.d.client.delete(POLICY_REPORTS, AUDIT_REPORT_NAME, ns);
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
