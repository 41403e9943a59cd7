// The controller's Prometheus metrics, in a registry of their own (tests run several controllers in one
// process). Labels stay low-cardinality: policies and checks, never workloads.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueueEvent } from '../kube/workqueue.ts';

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly policyReady: Gauge<'policy'>;
  readonly policyMatched: Gauge<'policy'>;
  readonly policyViolating: Gauge<'policy'>;
  readonly violations: Gauge<'policy' | 'check' | 'enforcement'>;
  readonly auditScans: Counter<'scope'>;
  readonly auditScanDuration: Histogram<'scope'>;
  readonly auditWorkloads: Counter;
  readonly events: Counter<'reason'>;
  readonly eventsDropped: Counter<'cause'>;
  readonly verifications: Counter<'verdict'>;
  readonly verificationDuration: Histogram;
  readonly certExpiry: Gauge<'certificate'>;
  readonly certRotations: Counter<'certificate'>;
  readonly webhookConfigUpdates: Counter<'configuration'>;
  readonly leader: Gauge;
  readonly leaderTransitions: Counter;
  readonly informerEvents: Counter<'resource' | 'event' | 'reason'>;
  readonly queueDepth: Gauge<'queue'>;
  readonly reconciles: Counter<'queue' | 'result'>;
  readonly reconcileDuration: Histogram<'queue'>;
  readonly queueOverflows: Counter<'queue'>;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.policyReady = new Gauge({
      name: 'modelgate_policy_ready',
      help: '1 when the policy compiled and is enforced, 0 when its status says why not.',
      labelNames: ['policy'],
      registers,
    });
    this.policyMatched = new Gauge({
      name: 'modelgate_policy_matched_workloads',
      help: 'Existing workloads the policy applies to (last audit).',
      labelNames: ['policy'],
      registers,
    });
    this.policyViolating = new Gauge({
      name: 'modelgate_policy_violating_workloads',
      help: 'Existing workloads that violate the policy (last audit).',
      labelNames: ['policy'],
      registers,
    });
    this.violations = new Gauge({
      name: 'modelgate_audit_violations',
      help: 'Violations found by the last audit, by policy, check and enforcement.',
      labelNames: ['policy', 'check', 'enforcement'],
      registers,
    });
    this.auditScans = new Counter({
      name: 'modelgate_audit_scans_total',
      help: 'Audit scans run (scope: cluster or namespace).',
      labelNames: ['scope'],
      registers,
    });
    this.auditScanDuration = new Histogram({
      name: 'modelgate_audit_scan_duration_seconds',
      help: 'Duration of audit scans.',
      labelNames: ['scope'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.auditWorkloads = new Counter({
      name: 'modelgate_audit_workloads_evaluated_total',
      help: 'Workloads evaluated by audit scans.',
      registers,
    });
    this.events = new Counter({
      name: 'modelgate_events_total',
      help: 'Kubernetes Events recorded, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.eventsDropped = new Counter({
      name: 'modelgate_events_dropped_total',
      help: 'Events not written (queue-full: over the rate limit for too long; write-failed: after retries); a later scan records them.',
      labelNames: ['cause'],
      registers,
    });
    this.verifications = new Counter({
      name: 'modelgate_verifications_total',
      help: 'Verifier results read from pod status, by verdict.',
      labelNames: ['verdict'],
      registers,
    });
    this.verificationDuration = new Histogram({
      name: 'modelgate_verification_duration_seconds',
      help: 'Model verification time reported by the verifier init container.',
      buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600],
      registers,
    });
    this.certExpiry = new Gauge({
      name: 'modelgate_certificate_expiry_timestamp_seconds',
      help: 'Expiry of the webhook CA and serving certificate.',
      labelNames: ['certificate'],
      registers,
    });
    this.certRotations = new Counter({
      name: 'modelgate_certificate_rotations_total',
      help: 'Certificates issued (ca, serving).',
      labelNames: ['certificate'],
      registers,
    });
    this.webhookConfigUpdates = new Counter({
      name: 'modelgate_webhook_configuration_updates_total',
      help: 'Writes to the webhook configurations.',
      labelNames: ['configuration'],
      registers,
    });
    this.leader = new Gauge({
      name: 'modelgate_controller_leader',
      help: '1 when this replica holds the leader lease.',
      registers,
    });
    this.leaderTransitions = new Counter({
      name: 'modelgate_controller_leader_acquisitions_total',
      help: 'Times this replica acquired the lease.',
      registers,
    });
    this.informerEvents = new Counter({
      name: 'modelgate_informer_events_total',
      help: 'Informer re-lists, watch restarts and errors.',
      labelNames: ['resource', 'event', 'reason'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'modelgate_workqueue_depth',
      help: 'Keys waiting in a work queue.',
      labelNames: ['queue'],
      registers,
    });
    this.reconciles = new Counter({
      name: 'modelgate_reconciles_total',
      help: 'Reconciles by queue and result (success, retry, drop).',
      labelNames: ['queue', 'result'],
      registers,
    });
    this.reconcileDuration = new Histogram({
      name: 'modelgate_reconcile_duration_seconds',
      help: 'Reconcile duration by queue.',
      labelNames: ['queue'],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
    this.queueOverflows = new Counter({
      name: 'modelgate_workqueue_overflows_total',
      help: 'Keys a full work queue refused (bounded queues; the next change or resync brings them back).',
      labelNames: ['queue'],
      registers,
    });
    if (opts.processMetrics)
      collectDefaultMetrics({ register: this.registry, prefix: 'modelgate_controller_' });
  }

  /** A WorkQueue `onMetrics` hook. */
  queueHook = (m: { name: string; depth: number; event: QueueEvent; durationMs?: number }): void => {
    this.queueDepth.set({ queue: m.name }, m.depth);
    if (m.event === 'overflow') this.queueOverflows.inc({ queue: m.name });
    else if (m.event === 'done') {
      this.reconciles.inc({ queue: m.name, result: 'success' });
      if (m.durationMs !== undefined) this.reconcileDuration.observe({ queue: m.name }, m.durationMs / 1000);
    } else if (m.event !== 'add') this.reconciles.inc({ queue: m.name, result: m.event });
  };
}
