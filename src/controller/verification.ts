// Verification results reconciler: the verifier init container ("modelgate-verifier") writes its result
// to its termination message (src/verifier/result.ts): JSON {model, verdict, digest, signer, durationMs,
// reason, ...} or a list of those. The kubelet copies it into the Pod's status; this reconciler reads it
// from there and records it: an Event on the Pod (ModelVerified, or ModelVerificationFailed as a
// Warning), Prometheus metrics, and a PolicyReport per namespace ("modelgate-verification") listing
// which model runs in which Pod and whether it was verified.
//
// Only the verifier modelgate injected counts (verifier-origin.ts): a result written by any other
// container that merely carries the name is reported as untrusted, never as verified.
import type pino from 'pino';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import type { Informer } from '../kube/informer.ts';
import { isObj, type KubeClient, type KubeObject } from '../kube/types.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import type { EventRecorder } from './events.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';
import type { ReportWriter } from './report-writer.ts';
import { VERIFIED, type WorkloadFacts } from './workload-informers.ts';
import { DEFAULT_MAX_RESULTS, ReportAccumulator, type ReportContent, type ReportResult } from './reports.ts';

export const VERIFIER_CONTAINER = 'modelgate-verifier';
export const VERIFICATION_REPORT_NAME = 'modelgate-verification';

export interface VerifierRecord {
  model: string;
  verdict: string;
  digest?: string;
  signer?: string;
  /** runtime-hash: the verifier hashed the files; admission-oci: proven at admission, only scanned here. */
  evidence?: 'runtime-hash' | 'admission-oci';
  reason?: string;
  durationMs?: number;
}

export interface PodVerification {
  namespace: string;
  name: string;
  uid: string;
  /** The workload that owns the Pod ("ReplicaSet/x"), for the report. */
  owner?: string;
  node?: string;
  finishedAt?: string;
  exitCode?: number;
  records: VerifierRecord[];
  /** Set when the termination message is not a verifier result. */
  unreadable?: string;
  /** Set when the container is not the verifier modelgate injects: why its result is not evidence. */
  untrusted?: string;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

function toRecord(v: unknown): VerifierRecord | undefined {
  if (!isObj(v) || typeof v.model !== 'string' || typeof v.verdict !== 'string') return undefined;
  return {
    model: v.model,
    verdict: v.verdict,
    ...(str(v.digest) ? { digest: str(v.digest) as string } : {}),
    ...(str(v.signer) ? { signer: str(v.signer) as string } : {}),
    ...(str(v.reason) ? { reason: str(v.reason) as string } : {}),
    ...(v.evidence === 'runtime-hash' || v.evidence === 'admission-oci' ? { evidence: v.evidence } : {}),
    ...(typeof v.durationMs === 'number' && Number.isFinite(v.durationMs)
      ? { durationMs: v.durationMs }
      : {}),
  };
}

/** The verifier's result in a Pod's status, if its init container has terminated. Pure; tolerant of any shape. */
export function readVerification(pod: KubeObject): PodVerification | undefined {
  const status = isObj(pod.status) ? pod.status : {};
  const spec = isObj(pod.spec) ? pod.spec : {};
  const statuses = Array.isArray(status.initContainerStatuses)
    ? status.initContainerStatuses.filter(isObj)
    : [];
  const c = statuses.find((s) => s.name === VERIFIER_CONTAINER);
  if (!c) return undefined;
  const term = [c.state, c.lastState]
    .map((s) => (isObj(s) && isObj(s.terminated) ? s.terminated : undefined))
    .find((t) => t !== undefined);
  if (!term) return undefined;
  const owner = (pod.metadata.ownerReferences ?? []).find((r) => r.controller);
  const base: PodVerification = {
    namespace: pod.metadata.namespace ?? 'default',
    name: pod.metadata.name,
    uid: pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`,
    ...(owner ? { owner: `${owner.kind}/${owner.name}` } : {}),
    ...(str(spec.nodeName) ? { node: str(spec.nodeName) as string } : {}),
    ...(str(term.finishedAt) ? { finishedAt: str(term.finishedAt) as string } : {}),
    ...(typeof term.exitCode === 'number' ? { exitCode: term.exitCode } : {}),
    records: [],
  };
  const message = str(term.message) ?? '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return { ...base, unreadable: message ? 'termination message is not JSON' : 'no termination message' };
  }
  const records = (Array.isArray(parsed) ? parsed : [parsed]).map(toRecord);
  if (records.length === 0 || records.some((r) => r === undefined))
    return { ...base, unreadable: 'termination message is not a verifier result' };
  return { ...base, records: records as VerifierRecord[] };
}

export const verified = (r: VerifierRecord) => r.verdict === 'valid' || r.verdict === 'verified';

function describe(r: VerifierRecord): string {
  if (verified(r))
    return `model ${r.model} verified${r.digest ? ` (${r.digest})` : ''}${r.signer ? `, signed by ${r.signer}` : ''}${r.durationMs !== undefined ? ` in ${r.durationMs} ms` : ''}`;
  return `model ${r.model} failed verification (${r.verdict})${r.reason ? `: ${r.reason}` : ''}`;
}

/** The Event and report message of a result that is not evidence. */
export function untrustedMessage(p: PodVerification): string {
  return `the result of init container ${VERIFIER_CONTAINER} is not counted as verification: it is not the verifier modelgate injects (${p.untrusted ?? 'unknown'}). Fix: let modelgate's mutating webhook inject the verifier, and give no other container the name ${VERIFIER_CONTAINER}`;
}

export function verificationResults(p: PodVerification, at: number): ReportResult[] {
  const resources = [{ apiVersion: 'v1', kind: 'Pod', name: p.name, namespace: p.namespace, uid: p.uid }];
  const props = { ...(p.owner ? { owner: p.owner } : {}), ...(p.node ? { node: p.node } : {}) };
  if (p.untrusted !== undefined)
    return [
      {
        policy: 'modelgate-verifier',
        rule: 'provenance',
        result: 'fail',
        message: untrustedMessage(p),
        severity: 'high',
        category: 'Model integrity',
        resources,
        properties: props,
        at,
      },
    ];
  if (p.unreadable)
    return [
      {
        policy: 'modelgate-verifier',
        rule: 'verify',
        result: 'error',
        message: `${VERIFIER_CONTAINER}: ${p.unreadable}`,
        resources,
        properties: props,
        at,
      },
    ];
  return p.records.map((r) => ({
    policy: 'modelgate-verifier',
    rule: 'verify',
    result: verified(r) ? 'pass' : r.verdict === 'invalid' ? 'fail' : 'error',
    message: describe(r),
    severity: verified(r) ? 'low' : 'high',
    category: 'Model integrity',
    resources,
    properties: {
      ...props,
      model: r.model,
      verdict: r.verdict,
      ...(r.digest ? { digest: r.digest } : {}),
      ...(r.signer ? { signer: r.signer } : {}),
      ...(r.evidence ? { evidence: r.evidence } : {}),
      ...(r.durationMs !== undefined ? { durationMs: String(r.durationMs) } : {}),
    },
    at,
  }));
}

/**
 * What the shared Pod informer keeps of a pod for this reconciler: its verifier result, marked untrusted
 * when `untrusted` (verifier-origin.ts) says the container is not the verifier modelgate injects.
 */
export function podVerification(
  untrusted: (pod: KubeObject) => string | undefined,
): (pod: KubeObject) => PodVerification | undefined {
  return (pod) => {
    const v = readVerification(pod);
    if (!v) return undefined;
    const why = untrusted(pod);
    return why === undefined ? v : { ...v, untrusted: why };
  };
}

export interface VerificationReconcilerDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics?: ControllerMetrics;
  events: EventRecorder;
  reports: ReportWriter;
  /** The shared Pod informer; its transform keeps `podVerification(…)` of each pod. */
  pods: Informer<WorkloadFacts>;
  maxResultsPerReport?: number;
  /** Results older than this at start-up are reported but get no Event and do not count in metrics. */
  freshForMs?: number;
  /** Rewrite every namespace's report this often, even without a change (default 10 minutes). */
  resyncMs?: number;
}

const ALL = '*';
const NS_PREFIX = 'ns/';

export class VerificationReconciler {
  private readonly queue: WorkQueue;
  /** Pod uid → the termination already recorded (Events and metrics once per Pod and termination). */
  private readonly recorded = new Map<string, string>();
  private resyncTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly d: VerificationReconcilerDeps) {
    this.queue = new WorkQueue(
      {
        name: 'verification',
        clock: d.clock,
        logger: d.logger,
        concurrency: 2,
        ...(d.metrics ? { onMetrics: d.metrics.queueHook } : {}),
      },
      (key) => (key === ALL ? this.syncAll() : this.syncNamespace(key.slice(NS_PREFIX.length))),
    );
    // The results themselves stay in the shared Pod informer (indexed by namespace): nothing is copied.
    const changed = (ns: string) => this.queue.addAfter(NS_PREFIX + ns, 1000);
    d.pods.addHandlers({
      onAdd: (f) => {
        if (!f.verification || this.stopped) return;
        changed(f.namespace);
        this.record(f.verification);
      },
      onUpdate: (f, old) => {
        if (this.stopped) return;
        if (JSON.stringify(f.verification) !== JSON.stringify(old.verification)) changed(f.namespace);
        if (f.verification) this.record(f.verification);
      },
      onDelete: (f) => {
        if (!f.verification || this.stopped) return;
        changed(f.namespace);
        this.recorded.delete(f.verification.uid);
      },
    });
  }

  /**
   * The Pod informer is started by its owner (the manager), after every reconciler subscribed. Once it
   * has listed, every report is brought in line (stale ones deleted), and again every `resyncMs`.
   */
  start(): void {
    void this.d.pods.waitForSync().then(
      () => this.queue.add(ALL),
      () => undefined, // stopped first
    );
    this.scheduleResync();
  }

  /** Resolves when a report write in progress has returned. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) this.d.clock.clearTimeout(this.resyncTimer);
    await this.queue.stop();
  }

  private scheduleResync(): void {
    this.resyncTimer = this.d.clock.setTimeout(() => {
      this.queue.add(ALL);
      this.scheduleResync();
    }, this.d.resyncMs ?? 600_000);
  }

  hasSynced(): boolean {
    return this.d.pods.hasSynced();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** The report of one namespace, from the Pod cache. */
  private content(ns: string): ReportContent | undefined {
    const keys = this.d.pods.byIndex(VERIFIED, ns);
    if (keys.size === 0) return undefined;
    const at = this.d.clock.now();
    const acc = new ReportAccumulator(this.d.maxResultsPerReport ?? DEFAULT_MAX_RESULTS);
    for (const key of keys) {
      const p = this.d.pods.get(key)?.verification;
      if (!p) continue;
      for (const r of verificationResults(p, p.finishedAt ? Date.parse(p.finishedAt) : at)) acc.add(r);
    }
    return {
      name: VERIFICATION_REPORT_NAME,
      namespace: ns,
      results: acc.results,
      summary: acc.summary,
      truncated: acc.truncated,
    };
  }

  private async syncNamespace(ns: string): Promise<void> {
    const batch = await this.d.reports.begin(VERIFICATION_REPORT_NAME, ns);
    if (!batch) return; // no report CRD: Events and metrics still say everything
    const content = this.content(ns);
    if (content) await batch.put(content);
    await batch.finish();
  }

  /** Every namespace's report; reports of namespaces without results any more are deleted. */
  private async syncAll(): Promise<void> {
    const batch = await this.d.reports.begin(VERIFICATION_REPORT_NAME);
    if (!batch) return;
    for (const ns of this.d.pods.indexKeys(VERIFIED).sort()) {
      const content = this.content(ns);
      if (content) await batch.put(content);
    }
    await batch.finish();
  }

  /** Events and metrics, once per Pod and termination (the recorder queues, rate-limits and retries). */
  private record(p: PodVerification): void {
    const id = `${p.uid}|${p.finishedAt ?? ''}|${p.exitCode ?? ''}`;
    if (this.recorded.get(p.uid) === id) return;
    this.recorded.set(p.uid, id);
    const finished = p.finishedAt ? Date.parse(p.finishedAt) : this.d.clock.now();
    if (this.d.clock.now() - finished > (this.d.freshForMs ?? 3_600_000)) return;
    const target = { apiVersion: 'v1', kind: 'Pod', name: p.name, namespace: p.namespace, uid: p.uid };
    if (p.untrusted !== undefined) {
      this.d.metrics?.verifications.inc({ verdict: 'untrusted' });
      this.d.logger.warn(
        { pod: `${p.namespace}/${p.name}`, why: p.untrusted },
        'verifier result not counted: the container is not the verifier modelgate injects',
      );
      this.d.events.record(target, 'Warning', 'ModelVerificationUntrusted', untrustedMessage(p), id);
      return;
    }
    if (p.unreadable) {
      this.d.metrics?.verifications.inc({ verdict: 'unreadable' });
      this.d.events.record(
        target,
        'Warning',
        'ModelVerificationUnreadable',
        `${VERIFIER_CONTAINER}: ${p.unreadable}`,
        id,
      );
      return;
    }
    for (const r of p.records) {
      this.d.metrics?.verifications.inc({ verdict: r.verdict });
      if (r.durationMs !== undefined) this.d.metrics?.verificationDuration.observe(r.durationMs / 1000);
      const ok = verified(r);
      this.d.events.record(
        target,
        ok ? 'Normal' : 'Warning',
        ok ? 'ModelVerified' : 'ModelVerificationFailed',
        describe(r),
        `${id}|${r.model}`,
      );
    }
  }
}
