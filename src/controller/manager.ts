// Wires the controller: the informer-backed policy store (on every replica, for readiness), leader
// election, and, on the leader only, one reconciler per concern. Reconcilers are created afresh each
// time leadership is won, so a replica that loses and regains the lease starts clean.
import type pino from 'pino';
import type { Clock } from '../kube/clock.ts';
import { InformerPolicyStore } from '../policy-store/informer-store.ts';
import { isObj, type KubeClient } from '../kube/types.ts';
import type { AuditSummary } from '../api/types.ts';
import { DEFAULT_EXEMPT_NAMESPACES } from '../policy/decide.ts';
import { VerdictCache } from '../signing/index.ts';
import { AuditReconciler } from './audit.ts';
import { CertificateReconciler, type CertLifetimes } from './certificates.ts';
import { CertificateExpiryReconciler } from './certificate-expiry.ts';
import { EventRecorder } from './events.ts';
import { LeaderElector } from './leader.ts';
import type { ControllerMetrics } from './metrics.ts';
import { PolicyStatusReconciler } from './policy-status.ts';
import { VerificationReconciler } from './verification.ts';
import { WebhookConfigReconciler } from './webhook-config.ts';

export interface ControllerConfig {
  namespace: string;
  identity: string;
  leaderElect: boolean;
  leaseName: string;
  webhookService: string;
  webhookSecret: string;
  validatingWebhook: string;
  mutatingWebhook: string;
  certManager: boolean;
  auditIntervalMs: number;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Extra names in the serving certificate (e.g. 127.0.0.1 for a webhook reached by URL). */
  extraCertNames?: string[];
  certLifetimes?: CertLifetimes;
  caPropagationDelayMs?: number;
  /** Warn this long before a certificate modelgate validates at pod start expires (default 30 days). */
  certificateExpiryWarningMs?: number;
}

interface Reconcilers {
  status: PolicyStatusReconciler;
  audit: AuditReconciler;
  verification: VerificationReconciler;
  webhookConfig: WebhookConfigReconciler;
  certificates?: CertificateReconciler;
  expiry: CertificateExpiryReconciler;
}

export class Controller {
  readonly store: InformerPolicyStore;
  readonly elector: LeaderElector | undefined;
  private reconcilers: Reconcilers | undefined;
  private policyFingerprint = '';
  readonly exempt: string[];

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock,
    private readonly logger: pino.Logger,
    readonly metrics: ControllerMetrics,
    private readonly config: ControllerConfig,
  ) {
    this.exempt = [
      ...DEFAULT_EXEMPT_NAMESPACES,
      ...(DEFAULT_EXEMPT_NAMESPACES.has(config.namespace) ? [] : [config.namespace]),
    ];
    this.store = new InformerPolicyStore({
      client,
      clock,
      logger: logger.child({ reconciler: 'policy-store' }),
      controllerNamespace: config.namespace,
      onInformerEvent: (resource, event, reason) => metrics.informerEvents.inc({ resource, event, reason }),
    });
    this.store.onChange(() => this.policiesChanged());
    this.store.onNamespaceLabelsChanged((ns) => this.reconcilers?.audit.requestNamespaceScan(ns));
    if (config.leaderElect) {
      this.elector = new LeaderElector({
        client,
        clock,
        logger: logger.child({ reconciler: 'leader-election' }),
        metrics,
        namespace: config.namespace,
        name: config.leaseName,
        identity: config.identity,
        ...(config.leaseDurationMs ? { leaseDurationMs: config.leaseDurationMs } : {}),
        ...(config.renewDeadlineMs ? { renewDeadlineMs: config.renewDeadlineMs } : {}),
        ...(config.retryPeriodMs ? { retryPeriodMs: config.retryPeriodMs } : {}),
        onStartedLeading: () => this.startReconcilers(),
        onStoppedLeading: () => this.stopReconcilers(),
      });
    }
  }

  /** Loads policies (readiness), then campaigns for the lease (or leads at once without election). */
  async start(): Promise<void> {
    await this.store.start();
    this.logger.info(
      { policies: this.store.snapshot().policies.size, errors: this.store.snapshot().errors.length },
      'initial sync done',
    );
    if (this.elector) this.elector.start();
    else {
      this.metrics.leader.set(1);
      this.startReconcilers();
    }
  }

  async stop(): Promise<void> {
    await this.elector?.stop();
    this.stopReconcilers();
    await this.store.stop();
  }

  ready(): boolean {
    return this.store.ready();
  }

  isLeader(): boolean {
    return this.reconcilers !== undefined;
  }

  /** For tests: the running reconcilers, when leading. */
  get running(): Readonly<Reconcilers> | undefined {
    return this.reconcilers;
  }

  private policyAudit(id: string): AuditSummary | undefined {
    const s = this.store.compileStates().find((x) => x.id === id);
    const status = s && isObj(s.object.status) ? s.object.status : undefined;
    return status && isObj(status.audit) ? (status.audit as AuditSummary) : undefined;
  }

  private startReconcilers(): void {
    if (this.reconcilers) return;
    const { client, clock, metrics, config } = this;
    const log = (reconciler: string) => this.logger.child({ reconciler });
    const events = new EventRecorder({
      client,
      clock,
      logger: log('events'),
      metrics,
      instance: config.identity,
    });
    // Read back what the previous leader recorded while the informers sync (the audit awaits it too).
    void events.restore();
    const snapshot = () => this.store.snapshot();
    const webhookConfig = new WebhookConfigReconciler({
      client,
      clock,
      logger: log('webhook-config'),
      metrics,
      ...(config.validatingWebhook ? { validatingName: config.validatingWebhook } : {}),
      ...(config.mutatingWebhook ? { mutatingName: config.mutatingWebhook } : {}),
      exemptNamespaces: this.exempt,
      snapshot,
      ...(config.certManager ? {} : { caBundle: () => certificates?.caBundle() }),
    });
    const certificates = config.certManager
      ? undefined
      : new CertificateReconciler({
          client,
          clock,
          logger: log('certificates'),
          metrics,
          namespace: config.namespace,
          secretName: config.webhookSecret,
          serviceName: config.webhookService,
          ...(config.extraCertNames ? { extraNames: config.extraCertNames } : {}),
          ...(config.certLifetimes ? { lifetimes: config.certLifetimes } : {}),
          ...(config.caPropagationDelayMs !== undefined
            ? { caPropagationDelayMs: config.caPropagationDelayMs }
            : {}),
          publishBundle: async () => {
            await webhookConfig.sync();
          },
        });
    // The webhook's verifier and cache: signature bundles at admission (inline, ConfigMap) verify once per TTL.
    const verdicts = new VerdictCache();
    const r: Reconcilers = {
      status: new PolicyStatusReconciler({
        client,
        clock,
        logger: log('policy-status'),
        metrics,
        states: () => this.store.compileStates(),
      }),
      audit: new AuditReconciler({
        client,
        clock,
        logger: log('audit'),
        metrics,
        events,
        snapshot,
        policyAudit: (id) => this.policyAudit(id),
        exemptNamespaces: new Set(this.exempt),
        verifyBundle: (bundle, trust) => verdicts.verify(bundle, trust),
        intervalMs: config.auditIntervalMs,
      }),
      verification: new VerificationReconciler({
        client,
        clock,
        logger: log('verification'),
        metrics,
        events,
      }),
      webhookConfig,
      ...(certificates ? { certificates } : {}),
      expiry: new CertificateExpiryReconciler({
        client,
        clock,
        logger: log('certificate-expiry'),
        metrics,
        events,
        snapshot,
        states: () => this.store.compileStates(),
        ...(config.certificateExpiryWarningMs ? { thresholdMs: config.certificateExpiryWarningMs } : {}),
      }),
    };
    this.reconcilers = r;
    this.policyFingerprint = this.fingerprint();
    r.webhookConfig.start();
    r.certificates?.start();
    r.status.resync();
    r.audit.start();
    r.verification.start();
    r.expiry.start();
    void r.webhookConfig.sync().catch(() => undefined);
    this.logger.info({ certificates: !config.certManager }, 'reconcilers started');
  }

  private stopReconcilers(): void {
    const r = this.reconcilers;
    if (!r) return;
    this.reconcilers = undefined;
    r.status.stop();
    r.audit.stop();
    r.verification.stop();
    r.webhookConfig.stop();
    r.certificates?.stop();
    r.expiry.stop();
    this.logger.info('reconcilers stopped');
  }

  /** What, in the policies, changes audit results and webhook rules (not their status writes). */
  private fingerprint(): string {
    return JSON.stringify(
      this.store
        .compileStates()
        .map((s) => [
          s.id,
          s.object.metadata.generation,
          s.result.ok ? s.result.policy.authorities.map((a) => a.fingerprint) : s.result.message,
        ]),
    );
  }

  private policiesChanged(): void {
    const r = this.reconcilers;
    if (!r) return;
    r.status.resync();
    const fp = this.fingerprint();
    if (fp === this.policyFingerprint) return;
    this.policyFingerprint = fp;
    r.audit.requestFullScan();
    void r.webhookConfig.sync().catch(() => undefined);
  }
}
