// Audit reconciler: evaluates the workloads that already exist against the policies, with the webhook's
// decision core. A full scan runs when the policies change and every `intervalMs`; a namespace scan
// when a workload in it changes. Findings go to Events on the workload (violations only, de-duplicated,
// rate-limited), a report per namespace ("modelgate-audit"), each policy's status.audit, and Prometheus
// metrics.
//
// Memory does not grow with the number of workloads: a scan goes namespace by namespace (the shared
// workload informers know which namespaces hold which kinds, keeping a few facts per object), lists
// only the kinds present there, page by page, and writes that namespace's report before the next one.
// What outlives a namespace is its per-policy counts. Exempt namespaces and kinds that only hold
// objects controlled by another audited kind (a Deployment's ReplicaSets and Pods) are not listed.
import type pino from 'pino';
import type { AuditSummary } from '../api/types.ts';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import { CLUSTER_MODEL_POLICIES, MODEL_POLICIES } from '../kube/resources.ts';
import { isStatus, type KubeClient } from '../kube/types.ts';
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
import { DEFAULT_MAX_RESULTS, ReportAccumulator, type ReportContent } from './reports.ts';

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
  admission?: Pick<DecideOptions, 'extraChecks' | 'expectedVerifier'>;
  intervalMs?: number;
  pageSize?: number;
  /** Namespaces evaluated at once in a full scan (default 4). */
  scanConcurrency?: number;
  maxResultsPerReport?: number;
  /** Coalesces workload changes in a namespace into one scan. */
  namespaceDelayMs?: number;
  /**
   * The shared workload informers: which namespaces hold which audited kinds, and a scan of a namespace
   * again when a workload in it changes.
   */
  workloads: WorkloadInformers;
}

interface NamespaceFindings {
  report: ReportAccumulator;
  counts: Map<string, PolicyCounts>;
  /** policy, check, enforcement → violations (metrics). */
  violations: Map<string, number>;
  /** Some workload matched a policy: the namespace has a report. */
  matched: boolean;
  workloads: number;
  violationCount: number;
}

export interface ScanStats {
  scope: 'cluster' | 'namespace';
  workloads: number;
  violations: number;
  durationMs: number;
}

/**
 * Runs `work` on every item, `concurrency` at a time; settles only when every started item has (so a
 * drain that waits for the scan waits for all of it), rejecting with the first error, after which no
 * new item starts.
 */
async function inParallel<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
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
    for (const inf of d.workloads.all()) {
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
    return this.d.workloads.hasSynced();
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
      matched: false,
      workloads: 0,
      violationCount: 0,
    };
  }

  /** Lists the audited kinds of one namespace, page by page, and folds what `decide` finds. */
  private async evaluateNamespace(snapshot: PolicySnapshot, namespace: string): Promise<NamespaceFindings> {
    const f = this.newFindings();
    if (this.d.exemptNamespaces.has(namespace)) return f;
    const at = this.d.clock.now();
    for (const ref of this.d.workloads.auditedKinds(namespace)) {
      let token: string | undefined;
      do {
        let page;
        try {
          page = await this.d.client.list(ref, {
            namespace,
            limit: this.d.pageSize ?? 500,
            ...(token ? { continue: token } : {}),
          });
        } catch (err) {
          if (isStatus(err, 404)) break; // the kind went away (a CRD uninstalled)
          throw err;
        }
        for (const o of page.items) {
          f.workloads++;
          const a = auditWorkload(
            o,
            snapshot,
            this.d.exemptNamespaces,
            this.d.verifyBundle,
            this.d.admission,
          );
          if (!a) continue;
          f.matched = true;
          for (const r of reportResults(a, at)) f.report.add(r);
          countWorkload(f.counts, a);
          for (const v of a.violations) {
            f.violationCount++;
            const k = `${v.policy}\u0000${v.check}\u0000${v.enforcement}`;
            f.violations.set(k, (f.violations.get(k) ?? 0) + 1);
            this.recordViolation(a, v);
          }
        }
        token = page.continue;
      } while (token);
    }
    this.d.metrics?.auditWorkloads.inc(f.workloads);
    return f;
  }

  /** Keeps a namespace's counts (its findings are written and dropped). */
  private remember(namespace: string, f: NamespaceFindings): void {
    if (f.matched) {
      this.nsCounts.set(namespace, f.counts);
      this.nsViolations.set(namespace, f.violations);
    } else {
      this.nsCounts.delete(namespace);
      this.nsViolations.delete(namespace);
    }
  }

  private content(namespace: string, f: NamespaceFindings): ReportContent {
    return {
      name: AUDIT_REPORT_NAME,
      namespace,
      results: f.report.results,
      summary: f.report.summary,
      truncated: f.report.truncated,
    };
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
    // Which namespaces hold which kinds comes from the informers: they must have listed everything.
    await this.d.workloads.synced();
    const started = this.d.clock.now();
    const t0 = performance.now();
    const snapshot = this.d.snapshot();
    const batch = await this.d.reports.begin(AUDIT_REPORT_NAME);
    const seen = new Set<string>();
    let workloads = 0;
    let violations = 0;
    let reported = 0;
    // A few namespaces at a time: one's lists and report write overlap another's evaluation, and memory
    // stays a few namespaces' findings.
    await inParallel(
      [...this.d.workloads.auditedNamespaces()].sort(),
      this.d.scanConcurrency ?? 4,
      async (ns) => {
        const f = await this.evaluateNamespace(snapshot, ns);
        seen.add(ns);
        workloads += f.workloads;
        violations += f.violationCount;
        this.remember(ns, f);
        if (f.matched) {
          reported++;
          await batch?.put(this.content(ns, f));
        }
      },
    );
    // Namespaces that no longer hold any audited workload.
    for (const ns of [...this.nsCounts.keys()]) if (!seen.has(ns)) this.remember(ns, this.newFindings());
    await batch?.finish();
    await this.writePolicySummaries(snapshot, started, true);
    this.publishMetrics(snapshot);
    const durationMs = performance.now() - t0;
    this.lastScan = { scope: 'cluster', workloads, violations, durationMs };
    this.d.metrics?.auditScans.inc({ scope: 'cluster' });
    this.d.metrics?.auditScanDuration.observe({ scope: 'cluster' }, durationMs / 1000);
    this.d.logger.info(
      { workloads, violations, namespaces: reported, durationMs: Math.round(durationMs) },
      'audit scan finished',
    );
  }

  private async scanNamespace(namespace: string): Promise<void> {
    await this.d.workloads.synced();
    const started = this.d.clock.now();
    const t0 = performance.now();
    const snapshot = this.d.snapshot();
    const f = await this.evaluateNamespace(snapshot, namespace);
    this.remember(namespace, f);
    const batch = await this.d.reports.begin(AUDIT_REPORT_NAME, namespace);
    if (f.matched) await batch?.put(this.content(namespace, f));
    await batch?.finish();
    await this.writePolicySummaries(snapshot, started, false);
    this.publishMetrics(snapshot);
    const durationMs = performance.now() - t0;
    this.lastScan = { scope: 'namespace', workloads: f.workloads, violations: f.violationCount, durationMs };
    this.d.metrics?.auditScans.inc({ scope: 'namespace' });
    this.d.metrics?.auditScanDuration.observe({ scope: 'namespace' }, durationMs / 1000);
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
