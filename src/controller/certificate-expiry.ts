// Certificate expiry reconciler: the runtime verifier validates certificate paths at every pod start,
// so a signing certificate, intermediate or CA that expires stops every pod whose model needs it. Ahead
// of that (default 30 days), this says so three ways: a Warning Event (on the policy for a CA of its
// authority, on the workload for a certificate in its signature bundle), a gauge of seconds left per
// certificate, and a CertificatesExpiring condition on each policy concerned. What expires when is
// computed by a pure function (src/signing/expiry.ts); time comes from the injected clock.
import { X509Certificate } from 'node:crypto';
import type pino from 'pino';
import { Gauge } from 'prom-client';
import type { Condition } from '../api/types.ts';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import { CLUSTER_MODEL_POLICIES, MODEL_POLICIES, WORKLOAD_RESOURCES } from '../kube/resources.ts';
import { isObj, isStatus, type KubeClient, type KubeObject, type ResourceRef } from '../kube/types.ts';
import type { PolicySnapshot } from '../policy/store.ts';
import type { PolicyCompileState } from '../policy-store/informer-store.ts';
import {
  certificateExpiries,
  describeExpiry,
  expiringSoon,
  type CertificateExpiry,
  type ExpirySource,
} from '../signing/expiry.ts';
import { extractModelReferences } from '../workloads/extract.ts';
import type { EventRecorder, EventTarget } from './events.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';

export const DEFAULT_EXPIRY_THRESHOLD_MS = 30 * 86_400_000;
const DEFAULT_INTERVAL_MS = 3_600_000;
export const EXPIRY_CONDITION = 'CertificatesExpiring';
const GAUGE = 'modelgate_certificate_expiry_seconds';

export interface CertificateExpiryDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics: ControllerMetrics;
  events: EventRecorder;
  snapshot: () => PolicySnapshot;
  /** The policy objects, for their conditions. */
  states: () => readonly PolicyCompileState[];
  /** Warn this long before a certificate expires (default 30 days). */
  thresholdMs?: number;
  /** How often to look (default hourly; every policy change is picked up at the next look). */
  intervalMs?: number;
  workloadResources?: readonly ResourceRef[];
}

/** A signature bundle seen on a workload, with the workload it came from. */
interface WorkloadBundle {
  source: ExpirySource;
  target: EventTarget;
}

type ConditionCore = Omit<Condition, 'lastTransitionTime'>;

/** The CertificatesExpiring condition of one policy, given its findings (soonest first). Pure. */
export function expiryCondition(
  findings: readonly CertificateExpiry[],
  generation: number,
  now: Date,
): ConditionCore {
  const first = findings[0];
  if (!first)
    return {
      type: EXPIRY_CONDITION,
      status: 'False',
      reason: 'NoneExpiringSoon',
      message: 'no certificate of its authorities or of the bundles they verify expires soon',
      observedGeneration: generation,
    };
  const expired = first.notAfter.getTime() <= now.getTime();
  return {
    type: EXPIRY_CONDITION,
    status: 'True',
    reason: expired ? 'CertificateExpired' : 'CertificateExpiresSoon',
    message:
      describeExpiry(first, now) +
      (findings.length > 1
        ? ` (and ${findings.length - 1} more certificate${findings.length > 2 ? 's' : ''})`
        : ''),
    observedGeneration: generation,
  };
}

/** Which policies' certificate authorities a signature bundle's chain leads to (by issuer name and key id). */
function policiesVerifying(anchors: Map<string, X509Certificate[]>, chain: X509Certificate[]): string[] {
  const top = chain[chain.length - 1];
  if (!top) return [];
  return [...anchors]
    .filter(([, certs]) => certs.some((a) => top.checkIssued(a) || top.fingerprint256 === a.fingerprint256))
    .map(([id]) => id);
}

export class CertificateExpiryReconciler {
  private timer: TimerHandle | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  private readonly gauge: Gauge<'kind' | 'role' | 'subject' | 'where'>;

  constructor(private readonly d: CertificateExpiryDeps) {
    // One gauge per registry, kept across leadership terms (a new term builds a new reconciler).
    this.gauge =
      (d.metrics.registry.getSingleMetric(GAUGE) as
        Gauge<'kind' | 'role' | 'subject' | 'where'> | undefined) ??
      new Gauge({
        name: GAUGE,
        help: 'Seconds until a certificate modelgate validates at pod start expires (negative: expired), by where it is (CA bundle of a policy authority, or signature bundle of a workload).',
        labelNames: ['kind', 'role', 'subject', 'where'],
        registers: [d.metrics.registry],
      });
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** For tests: run one look now and wait for it. */
  async reconcileNow(): Promise<void> {
    await (this.running ??= this.reconcile().finally(() => (this.running = undefined)));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.d.clock.setTimeout(() => {
      void this.reconcileNow()
        .catch((err: unknown) =>
          this.d.logger.warn(
            { err: (err as Error).message },
            'certificate expiry check failed; retrying at the next interval',
          ),
        )
        .finally(() => this.schedule(this.d.intervalMs ?? DEFAULT_INTERVAL_MS));
    }, ms);
  }

  private async workloadBundles(): Promise<WorkloadBundle[]> {
    const cluster = this.d.snapshot().cluster;
    const out: WorkloadBundle[] = [];
    for (const ref of this.d.workloadResources ?? WORKLOAD_RESOURCES) {
      let token: string | undefined;
      do {
        let page;
        try {
          page = await this.d.client.list(ref, { limit: 500, ...(token ? { continue: token } : {}) });
        } catch (err) {
          if (isStatus(err, 404)) break; // kind not installed
          throw err;
        }
        for (const o of page.items) out.push(...bundlesOf(o, cluster));
        token = page.continue;
      } while (token);
    }
    return out;
  }

  private async reconcile(): Promise<void> {
    const now = new Date(this.d.clock.now());
    const threshold = this.d.thresholdMs ?? DEFAULT_EXPIRY_THRESHOLD_MS;
    const states = this.d.states();
    const caSources: ExpirySource[] = [];
    const anchors = new Map<string, X509Certificate[]>();
    for (const s of states) {
      if (!s.result.ok) continue;
      for (const a of s.result.policy.authorities) {
        if (a.trust.method !== 'certificate') continue;
        caSources.push({
          kind: 'ca-bundle',
          where: `authority ${a.name} of ${s.id}`,
          policy: s.id,
          pem: a.trust.caCertificatesPem,
        });
        const list = anchors.get(s.id) ?? [];
        for (const block of a.trust.caCertificatesPem.match(
          /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
        ) ?? []) {
          try {
            list.push(new X509Certificate(block));
          } catch {
            /* a policy that does not compile is reported by the status reconciler */
          }
        }
        anchors.set(s.id, list);
      }
    }
    const bundles = await this.workloadBundles();

    const byPolicy = new Map<string, CertificateExpiry[]>();
    const note = (policy: string, e: CertificateExpiry) =>
      byPolicy.set(policy, [...(byPolicy.get(policy) ?? []), e]);
    this.gauge.reset();
    const record = (kind: string, e: CertificateExpiry) =>
      this.gauge.set(
        { kind, role: e.role, subject: e.subject, where: e.where },
        Math.round((e.notAfter.getTime() - now.getTime()) / 1000),
      );

    for (const source of caSources) {
      for (const e of certificateExpiries([source]).expiries) {
        record('ca-bundle', e);
        if (!expiringSoon([e], now, threshold).length) continue;
        if (e.policy) note(e.policy, e);
        await this.warn(policyTarget(states, e.policy), e, now);
      }
    }
    for (const { source, target } of bundles) {
      const found = certificateExpiries([source]).expiries;
      if (found.length === 0 || source.kind !== 'signature-bundle') continue;
      const policies = policiesVerifying(anchors, chainOf(source.bundle));
      for (const e of found) {
        record('signature-bundle', e);
        if (!expiringSoon([e], now, threshold).length) continue;
        for (const p of policies) note(p, e);
        await this.warn(target, e, now);
      }
    }
    await this.writeConditions(states, byPolicy, now);
  }

  private async warn(target: EventTarget | undefined, e: CertificateExpiry, now: Date): Promise<void> {
    if (!target) return;
    const expired = e.notAfter.getTime() <= now.getTime();
    await this.d.events.record(
      target,
      'Warning',
      expired ? 'CertificateExpired' : 'CertificateExpiring',
      describeExpiry(e, now),
      `${e.fingerprint}|${e.where}|${expired ? 'expired' : 'soon'}`,
    );
  }

  private async writeConditions(
    states: readonly PolicyCompileState[],
    byPolicy: Map<string, CertificateExpiry[]>,
    now: Date,
  ): Promise<void> {
    for (const s of states) {
      const findings = (byPolicy.get(s.id) ?? []).sort((a, b) => a.notAfter.getTime() - b.notAfter.getTime());
      const generation = s.object.metadata.generation ?? 0;
      const want = expiryCondition(findings, generation, now);
      const status = isObj(s.object.status) ? s.object.status : {};
      const current = (Array.isArray(status.conditions)
        ? status.conditions.filter(isObj)
        : []) as unknown as Condition[];
      const old = current.find((c) => c.type === EXPIRY_CONDITION);
      // Nothing to say on a policy that never had the condition and has nothing expiring.
      if (!old && want.status === 'False') continue;
      if (
        old &&
        old.status === want.status &&
        old.reason === want.reason &&
        old.message === want.message &&
        old.observedGeneration === want.observedGeneration
      )
        continue;
      const lastTransitionTime =
        old && old.status === want.status && old.lastTransitionTime
          ? old.lastTransitionTime
          : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
      const conditions = [
        ...current.filter((c) => c.type !== EXPIRY_CONDITION),
        { ...want, lastTransitionTime },
      ];
      const ref = s.object.kind === 'ModelPolicy' ? MODEL_POLICIES : CLUSTER_MODEL_POLICIES;
      try {
        // Optimistic concurrency: conditions are one list that the status reconciler writes too.
        await this.d.client.patch(
          ref,
          s.object.metadata.name,
          s.object.metadata.namespace,
          { metadata: { resourceVersion: s.object.metadata.resourceVersion }, status: { conditions } },
          'merge',
          'status',
        );
      } catch (err) {
        if (isStatus(err, 404) || isStatus(err, 409)) continue; // deleted, or changed: next look
        throw err;
      }
    }
  }
}

function chainOf(bundle: Uint8Array): X509Certificate[] {
  try {
    const json = JSON.parse(Buffer.from(bundle).toString('utf8')) as {
      verificationMaterial?: { x509CertificateChain?: { certificates?: { rawBytes?: string }[] } };
    };
    return (json.verificationMaterial?.x509CertificateChain?.certificates ?? []).map(
      (c) => new X509Certificate(Buffer.from(c.rawBytes ?? '', 'base64')),
    );
  } catch {
    return [];
  }
}

function policyTarget(
  states: readonly PolicyCompileState[],
  id: string | undefined,
): EventTarget | undefined {
  const s = states.find((x) => x.id === id);
  if (!s) return undefined;
  const m = s.object.metadata;
  return {
    apiVersion: String(s.object.apiVersion ?? 'modelgate.io/v1alpha1'),
    kind: String(s.object.kind),
    name: m.name,
    namespace: m.namespace ?? 'default',
    ...(m.uid ? { uid: m.uid } : {}),
  };
}

/** The inline and ConfigMap signature bundles a workload's modelgate.io/models annotation names. */
function bundlesOf(o: KubeObject, cluster: PolicySnapshot['cluster']): WorkloadBundle[] {
  const w = extractModelReferences(o);
  if (!w) return [];
  const namespace = w.namespace ?? 'default';
  const target: EventTarget = {
    apiVersion: String(o.apiVersion),
    kind: w.kind,
    name: w.name,
    namespace,
    ...(o.metadata.uid ? { uid: o.metadata.uid } : {}),
  };
  const out: WorkloadBundle[] = [];
  for (const m of w.models) {
    const sig = m.declared?.signature;
    if (!sig) continue;
    let bundle: Uint8Array | undefined;
    let from = '';
    if ('inline' in sig) {
      bundle = Buffer.from(sig.inline, 'base64');
      from = 'inline bundle';
    } else if ('configMapRef' in sig) {
      const text = cluster.configMapData(namespace, sig.configMapRef.name)?.[sig.configMapRef.key];
      if (text === undefined) continue; // the signature check reports a missing ConfigMap
      bundle = Buffer.from(text, 'utf8');
      from = `ConfigMap ${namespace}/${sig.configMapRef.name} key ${sig.configMapRef.key}`;
    }
    if (bundle)
      out.push({
        source: {
          kind: 'signature-bundle',
          where: `${from} of model ${m.declared?.name ?? m.name} in ${w.kind} ${namespace}/${w.name}`,
          bundle,
        },
        target,
      });
  }
  return out;
}
