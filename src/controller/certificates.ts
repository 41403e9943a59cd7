// Webhook certificate reconciler (when cert-manager is not used): keeps a CA and a serving certificate
// for the webhook Service in one Secret (tls.crt, tls.key, ca.crt, ca.key), and publishes the CA bundle
// to the webhook configurations. Rotation never breaks a request:
//   1. a new CA is added in front of the bundle, the old one stays until it expires (CA overlap);
//   2. the bundle is published to the webhook configurations (the API server trusts both CAs) ...
//   3. ... and only then is a serving certificate from the new CA written; the webhook reloads it from
//      the mounted Secret whenever the kubelet refreshes it, and both old and new are trusted meanwhile.
// Certificates are renewed when a third of their lifetime is left (cert-manager's default).
import type pino from 'pino';
import { Informer } from '../kube/informer.ts';
import type { Clock, TimerHandle } from '../kube/clock.ts';
import { SECRETS } from '../kube/resources.ts';
import { isObj, isStatus, type KubeClient, type KubeObject } from '../kube/types.ts';
import { WorkQueue } from '../kube/workqueue.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';
import {
  coversNames,
  issueCa,
  issuedBy,
  issueServingCert,
  keyMatches,
  parseBundle,
  type CertInfo,
} from './pki.ts';

export interface CertLifetimes {
  caValidityMs: number;
  servingValidityMs: number;
  /** Renew when less than this fraction of the lifetime is left. */
  renewFraction: number;
}

export const DEFAULT_LIFETIMES: CertLifetimes = {
  caValidityMs: 5 * 365 * 86_400_000,
  servingValidityMs: 365 * 86_400_000,
  renewFraction: 1 / 3,
};

export interface TlsState {
  bundle: CertInfo[];
  caKeyPem?: string;
  currentCa?: CertInfo;
  serving?: CertInfo;
  servingKeyPem?: string;
}

const decode = (v: unknown) =>
  typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : undefined;

export function readTlsSecret(secret: KubeObject | undefined): TlsState {
  const data = secret && isObj(secret.data) ? secret.data : {};
  const bundle = parseBundle(decode(data['ca.crt']));
  const caKeyPem = decode(data['ca.key']);
  const currentCa = bundle.find((c) => keyMatches(c.cert, caKeyPem));
  const serving = parseBundle(decode(data['tls.crt']))[0];
  const servingKeyPem = decode(data['tls.key']);
  return {
    bundle,
    ...(caKeyPem ? { caKeyPem } : {}),
    ...(currentCa ? { currentCa } : {}),
    ...(serving ? { serving } : {}),
    ...(servingKeyPem ? { servingKeyPem } : {}),
  };
}

export const renewAt = (c: CertInfo, fraction: number): number =>
  c.notAfter - fraction * (c.notAfter - c.notBefore);

export interface TlsPlan {
  rotateCa: boolean;
  issueServing: boolean;
  /** CAs past their expiry, dropped from the bundle. */
  expired: CertInfo[];
  reasons: string[];
  /** When to look again (earliest renewal or expiry). */
  nextCheckAt: number;
}

/** What the Secret needs. Pure. */
export function planTls(s: TlsState, now: number, dnsNames: string[], l: CertLifetimes): TlsPlan {
  const reasons: string[] = [];
  let rotateCa = false;
  if (!s.currentCa) {
    rotateCa = true;
    reasons.push(s.bundle.length ? 'no CA in the bundle matches ca.key' : 'no CA yet');
  } else if (now >= renewAt(s.currentCa, l.renewFraction)) {
    rotateCa = true;
    reasons.push('CA due for renewal');
  }
  let issueServing = rotateCa;
  if (!s.serving || !keyMatches(s.serving.cert, s.servingKeyPem)) {
    issueServing = true;
    reasons.push('no usable serving certificate');
  } else if (now >= renewAt(s.serving, l.renewFraction)) {
    issueServing = true;
    reasons.push('serving certificate due for renewal');
  } else if (!coversNames(s.serving.cert, dnsNames)) {
    issueServing = true;
    reasons.push('serving certificate does not name the webhook Service');
  } else if (!s.currentCa || !issuedBy(s.serving.cert, s.currentCa.cert)) {
    issueServing = true;
    reasons.push('serving certificate not issued by the current CA');
  }
  const expired = s.bundle.filter((c) => c.notAfter <= now);
  const times = [
    ...(s.currentCa ? [renewAt(s.currentCa, l.renewFraction)] : []),
    ...(s.serving ? [renewAt(s.serving, l.renewFraction)] : []),
    ...s.bundle.map((c) => c.notAfter),
  ].filter((t) => t > now);
  return {
    rotateCa,
    issueServing,
    expired,
    reasons,
    nextCheckAt: times.length ? Math.min(...times) : now + 3_600_000,
  };
}

export interface CertificateReconcilerDeps {
  client: KubeClient;
  clock: Clock;
  logger: pino.Logger;
  metrics?: ControllerMetrics;
  namespace: string;
  secretName: string;
  serviceName: string;
  /** Extra SANs (e.g. 127.0.0.1 for a webhook reached by URL in tests). */
  extraNames?: string[];
  lifetimes?: CertLifetimes;
  /** Look at the Secret at least this often (default hourly). */
  maxCheckIntervalMs?: number;
  /** Restart the Secret watch after this long without events (tests raise it). */
  silenceTimeoutMs?: number;
  /**
   * After a new CA is published, how long to wait before serving a certificate it issued (API server
   * replicas pick up the new caBundle through their own informers). Default 30 s; skipped when there is
   * no usable certificate at all.
   */
  caPropagationDelayMs?: number;
  /** Publishes the CA bundle (PEM) to the webhook configurations; resolves once written. */
  publishBundle: (pem: string) => Promise<void>;
}

const enc = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const KEY = 'tls';

export class CertificateReconciler {
  private readonly queue: WorkQueue;
  private readonly informer: Informer;
  private timer: TimerHandle | undefined;
  private bundlePem: string | undefined;
  /** When each CA (by PEM) was first published by this process. */
  private readonly caPublishedAt = new Map<string, number>();

  constructor(private readonly d: CertificateReconcilerDeps) {
    this.queue = new WorkQueue(
      {
        name: 'certificates',
        clock: d.clock,
        logger: d.logger,
        baseDelayMs: 1000,
        maxDelayMs: 60_000,
        // The webhook's TLS depends on it: never give up (back-off stays at most a minute).
        maxRetries: Number.MAX_SAFE_INTEGER,
        ...(d.metrics ? { onMetrics: d.metrics.queueHook } : {}),
      },
      () => this.reconcile(),
    );
    this.informer = new Informer({
      client: d.client,
      ref: SECRETS,
      clock: d.clock,
      logger: d.logger,
      namespace: d.namespace,
      fieldSelector: `metadata.name=${d.secretName}`,
      ...(d.silenceTimeoutMs ? { silenceTimeoutMs: d.silenceTimeoutMs } : {}),
    });
    // Someone emptied or replaced the Secret: look again at once.
    this.informer.addHandlers({
      onAdd: () => this.queue.add(KEY),
      onUpdate: () => this.queue.add(KEY),
      onDelete: () => this.queue.add(KEY),
    });
  }

  get dnsNames(): string[] {
    const { serviceName: s, namespace: n } = this.d;
    return [`${s}.${n}.svc`, `${s}.${n}.svc.cluster.local`, `${s}.${n}`, s, ...(this.d.extraNames ?? [])];
  }

  /** The CA bundle last written (PEM), for the webhook configuration reconciler. */
  caBundle(): string | undefined {
    return this.bundlePem;
  }

  start(): void {
    this.informer.start();
    this.queue.add(KEY);
  }

  /** Resolves when a reconcile in progress (a Secret write) has returned. */
  async stop(): Promise<void> {
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    this.informer.stop();
    await this.queue.stop();
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  private async reconcile(): Promise<void> {
    const now = this.d.clock.now();
    const lifetimes = this.d.lifetimes ?? DEFAULT_LIFETIMES;
    let secret = await this.d.client.get(SECRETS, this.d.secretName, this.d.namespace);
    const state = readTlsSecret(secret);
    const plan = planTls(state, now, this.dnsNames, lifetimes);

    let ca =
      state.currentCa && state.caKeyPem
        ? { certPem: state.currentCa.pem, keyPem: state.caKeyPem }
        : undefined;
    let bundle = state.bundle.filter((c) => !plan.expired.includes(c)).map((c) => c.pem);
    if (plan.rotateCa || !ca) {
      ca = await issueCa(now, lifetimes.caValidityMs);
      bundle = [ca.certPem, ...bundle];
      this.d.metrics?.certRotations.inc({ certificate: 'ca' });
      this.d.logger.info(
        { reasons: plan.reasons, cas: bundle.length },
        'issued a new webhook CA (previous CAs stay trusted until they expire)',
      );
    }
    const bundlePem = bundle.join('');
    const data = isObj(secret?.data) ? (secret.data as Record<string, string>) : {};
    if (decode(data['ca.crt']) !== bundlePem || decode(data['ca.key']) !== ca.keyPem) {
      secret = await this.writeSecret(secret, {
        ...data,
        'ca.crt': enc(bundlePem),
        'ca.key': enc(ca.keyPem),
      });
    }
    // Step 2: the API server must trust the (new) CA before a certificate from it is served.
    await this.d.publishBundle(bundlePem);
    this.bundlePem = bundlePem;
    if (!this.caPublishedAt.has(ca.certPem)) this.caPublishedAt.set(ca.certPem, now);

    // Step 3, once the API server has had time to see the bundle; at once if nothing usable is served.
    const usable =
      state.serving !== undefined &&
      keyMatches(state.serving.cert, state.servingKeyPem) &&
      state.serving.notAfter > now &&
      !plan.expired.some((c) => state.serving && issuedBy(state.serving.cert, c.cert));
    const waitMs =
      (this.caPublishedAt.get(ca.certPem) ?? now) + (this.d.caPropagationDelayMs ?? 30_000) - now;
    if (plan.issueServing && usable && waitMs > 0) {
      this.d.logger.info(
        { reasons: plan.reasons, inMs: waitMs },
        'serving certificate renewal waits for the new CA to reach the API server',
      );
      if (this.timer) this.d.clock.clearTimeout(this.timer);
      this.timer = this.d.clock.setTimeout(() => this.queue.add(KEY), waitMs);
      return;
    }
    if (plan.issueServing) {
      const serving = await issueServingCert(ca, this.dnsNames, now, lifetimes.servingValidityMs);
      const cur = isObj(secret?.data) ? (secret.data as Record<string, string>) : {};
      secret = await this.writeSecret(secret, {
        ...cur,
        'tls.crt': enc(serving.certPem),
        'tls.key': enc(serving.keyPem),
      });
      this.d.metrics?.certRotations.inc({ certificate: 'serving' });
      this.d.logger.info(
        { reasons: plan.reasons, names: this.dnsNames },
        'issued a new webhook serving certificate',
      );
    }

    const after = readTlsSecret(secret);
    if (after.currentCa)
      this.d.metrics?.certExpiry.set({ certificate: 'ca' }, after.currentCa.notAfter / 1000);
    if (after.serving)
      this.d.metrics?.certExpiry.set({ certificate: 'serving' }, after.serving.notAfter / 1000);
    const next = planTls(after, now, this.dnsNames, lifetimes).nextCheckAt;
    // Look again at the next renewal point, and at least hourly (clock jumps, missed events).
    if (this.timer) this.d.clock.clearTimeout(this.timer);
    this.timer = this.d.clock.setTimeout(
      () => this.queue.add(KEY),
      Math.max(1000, Math.min(next - now, this.d.maxCheckIntervalMs ?? 3_600_000)),
    );
  }

  private async writeSecret(
    secret: KubeObject | undefined,
    data: Record<string, string>,
  ): Promise<KubeObject> {
    if (!secret) {
      try {
        return await this.d.client.create(SECRETS, {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: this.d.secretName,
            namespace: this.d.namespace,
            labels: { 'app.kubernetes.io/managed-by': 'modelgate' },
          },
          type: 'Opaque',
          data,
        });
      } catch (err) {
        if (isStatus(err, 409)) throw new Error('the Secret appeared meanwhile; retrying');
        throw err;
      }
    }
    // Optimistic update: a concurrent writer (another leader, a user) makes this fail and retry from a fresh read.
    return this.d.client.replace(SECRETS, { ...secret, data, metadata: { ...secret.metadata } });
  }
}
