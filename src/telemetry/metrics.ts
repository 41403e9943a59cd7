// modelgate's Prometheus metrics: the admission webhook's and the controller's, each in a registry of
// its own (tests start several servers and controllers in one process; the global registry would
// collide), with Node.js process metrics under the component's prefix. Labels stay low-cardinality:
// endpoints, kinds, policies and checks, never workloads.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { QueueEvent } from '../kube/workqueue.ts';

/** A registry, with the process metrics (CPU, memory, event loop, GC) under `prefix` when asked. */
function newRegistry(processMetrics: boolean | undefined, prefix: string): Registry {
  const registry = new Registry();
  if (processMetrics) collectDefaultMetrics({ register: registry, prefix });
  return registry;
}

/** 0.5 ms … 10 s: admission must answer well under the API server's timeout (10 s by default). */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export type Endpoint = 'validate' | 'mutate';
/** allowed | denied | warned (allowed with warnings) | patched (mutate) | invalid (malformed request) | error. */
export type Outcome = 'allowed' | 'denied' | 'warned' | 'patched' | 'invalid' | 'error';

export class AdmissionMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'endpoint' | 'kind' | 'decision'>;
  readonly policyResults: Counter<'policy' | 'result'>;
  readonly latency: Histogram<'endpoint'>;
  readonly inFlight: Gauge<'endpoint'>;
  readonly policies: Gauge<'state'>;

  constructor(opts: { processMetrics?: boolean } = {}) {
    this.registry = newRegistry(opts.processMetrics, 'modelgate_');
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'modelgate_admission_requests_total',
      help: 'Admission requests answered, by endpoint, object kind and decision.',
      labelNames: ['endpoint', 'kind', 'decision'],
      registers,
    });
    this.policyResults = new Counter({
      name: 'modelgate_admission_policy_results_total',
      help: 'Evaluations of a policy on an admission request, by policy and result (pass, violation).',
      labelNames: ['policy', 'result'],
      registers,
    });
    this.latency = new Histogram({
      name: 'modelgate_admission_duration_seconds',
      help: 'Time from request received to response sent, by endpoint.',
      labelNames: ['endpoint'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.inFlight = new Gauge({
      name: 'modelgate_admission_in_flight_requests',
      help: 'Admission requests being processed.',
      labelNames: ['endpoint'],
      registers,
    });
    this.policies = new Gauge({
      name: 'modelgate_policies',
      help: 'Policies in the current snapshot: compiled (enforced) and failed (not enforced, see policy status).',
      labelNames: ['state'],
      registers,
    });
  }

  setPolicyCounts(compiled: number, failed: number): void {
    this.policies.set({ state: 'compiled' }, compiled);
    this.policies.set({ state: 'failed' }, failed);
  }
}

/** The controller's metrics (docs/controller.md lists them). */
export class ControllerMetrics {
  readonly registry: Registry;
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
    this.registry = newRegistry(opts.processMetrics, 'modelgate_controller_');
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
