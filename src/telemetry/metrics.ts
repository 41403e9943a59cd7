// Prometheus metrics of the admission webhook, in a registry of their own (tests start several servers in
// one process; the global registry would collide).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** 0.5 ms … 10 s: admission must answer well under the API server's timeout (10 s by default). */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export type Endpoint = 'validate' | 'mutate';
/** allowed | denied | warned (allowed with warnings) | patched (mutate) | invalid (malformed request) | error. */
export type Outcome = 'allowed' | 'denied' | 'warned' | 'patched' | 'invalid' | 'error';

export class AdmissionMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'endpoint' | 'kind' | 'decision'>;
  readonly policyResults: Counter<'policy' | 'result'>;
  readonly latency: Histogram<'endpoint'>;
  readonly inFlight: Gauge<'endpoint'>;
  readonly policies: Gauge<'state'>;

  constructor(opts: { processMetrics?: boolean } = {}) {
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
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'modelgate_' });
  }

  setPolicyCounts(compiled: number, failed: number): void {
    this.policies.set({ state: 'compiled' }, compiled);
    this.policies.set({ state: 'failed' }, failed);
  }
}
