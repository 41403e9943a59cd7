// Wires the controller: the informer-backed policy store (on every replica, for readiness), leader
// election, and, on the leader only, one reconciler per concern. Reconcilers are created afresh each
// time leadership is won, so a replica that loses and regains the lease starts clean.
//
// Losing the lease drains rather than exits: the reconcilers write through a client fenced by the
// term of leadership (writes refused from the renew deadline on, calls in flight aborted), and every
// work queue's stop waits for the reconciles that were running. A clean stop (SIGTERM) releases the
// lease only after that drain, so no two replicas ever write at once.
import type pino from 'pino';
import { sleep, type Clock } from '../kube/clock.ts';
import { FencedClient } from '../kube/fenced-client.ts';
import { InformerPolicyStore } from '../policy-store/informer-store.ts';
import { isObj, type KubeClient } from '../kube/types.ts';
import type { AuditSummary } from '../api/types.ts';
import { DEFAULT_EXEMPT_NAMESPACES } from '../policy/decide.ts';
import { VerdictCache } from '../signing/index.ts';
import { AuditReconciler } from './audit.ts';
import { CertificateReconciler, type CertLifetimes } from './certificates.ts';
import { CertificateExpiryReconciler } from './certificate-expiry.ts';
import { EventRecorder } from './events.ts';
import { LeaderElector, LeadershipTerm } from './leader.ts';
import type { ControllerMetrics } from '../telemetry/metrics.ts';
import { PolicyStatusReconciler } from './policy-status.ts';
import { CrdSchemaChecker } from './crd-schema.ts';
import { ReportWriter } from './report-writer.ts';
import { reportApis, type ReportApiChoice } from './reports.ts';
import { podVerification, VerificationReconciler } from './verification.ts';
import { WorkloadInformers } from './workload-informers.ts';
import { untrustedVerifier } from './verifier-origin.ts';
import { DEFAULT_VERIFIER_IMAGE, type VerifierDefaults } from '../mutation/verifier-container.ts';
import { verifierDecideOptions } from '../mutation/verifier-check.ts';
import { WebhookConfigReconciler } from './webhook-config.ts';
import { OciEvidenceReconciler, type OciEvidenceOptions } from './oci-evidence.ts';
import { ociReferencesOf } from '../policy/oci-evidence.ts';

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
  /** The verifier the installation injects (`--verifier-image`; the webhook's setting). */
  verifier?: VerifierDefaults;
  /** Periodic resync of policy status, webhook configurations and verification reports. */
  resyncMs?: number;
  /** Which report API(s) to write (default: openreports.io Reports when installed, else PolicyReports). */
  reports?: ReportApiChoice;
  /** Resolve OCI evidence (signatures in the registry, scans) for digest-pinned models (issue 17). */
  ociEvidence?: OciEvidenceOptions;
}

/** How long a drain waits for aborted calls' answers (well under a pod's termination grace period). */
const QUIET_WAIT_MS = 5000;

interface Reconcilers {
  term: LeadershipTerm;
  client: FencedClient;
  events: EventRecorder;
  workloads: WorkloadInformers;
  crdSchema: CrdSchemaChecker;
  status: PolicyStatusReconciler;
  audit: AuditReconciler;
  verification: VerificationReconciler;
  webhookConfig: WebhookConfigReconciler;
  certificates?: CertificateReconciler;
  expiry: CertificateExpiryReconciler;
  oci?: OciEvidenceReconciler;
}

export class Controller {
  readonly store: InformerPolicyStore;
  readonly elector: LeaderElector | undefined;
  private reconcilers: Reconcilers | undefined;
  /** The previous term's drain; a new term starts only after it. */
  private draining: Promise<void> = Promise.resolve();
  private drainPending = false;
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
    await this.stopReconcilers();
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
    // A term may start only once the previous one has drained (it always has, unless the lease came
    // back within the drain).
    if (!this.drainPending) return this.startTerm();
    void this.draining.then(() => {
      if (this.elector && !this.elector.isLeader()) return;
      this.startTerm();
    });
  }

  private startTerm(): void {
    if (this.reconcilers) return;
    const { clock, metrics, config } = this;
    const elector = this.elector;
    const term = new LeadershipTerm(clock, () => (elector ? elector.leaseValidUntil() : undefined));
    const client = new FencedClient(this.client, term);
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
    const resync = config.resyncMs !== undefined ? { resyncMs: config.resyncMs } : {};
    const webhookConfig: WebhookConfigReconciler = new WebhookConfigReconciler({
      client,
      clock,
      logger: log('webhook-config'),
      metrics,
      ...(config.validatingWebhook ? { validatingName: config.validatingWebhook } : {}),
      ...(config.mutatingWebhook ? { mutatingName: config.mutatingWebhook } : {}),
      exemptNamespaces: this.exempt,
      snapshot,
      ...(config.certManager ? {} : { caBundle: (): string | undefined => certificates?.caBundle() }),
      ...resync,
    });
    const certificates: CertificateReconciler | undefined = config.certManager
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
          publishBundle: (): Promise<void> => webhookConfig.sync(),
        });
    // The webhook's verifier and cache: signature bundles at admission (inline, ConfigMap) verify once per TTL.
    const verdicts = new VerdictCache();
    const exempt = new Set(this.exempt);
    const verifier = config.verifier ?? { image: DEFAULT_VERIFIER_IMAGE };
    const reports = new ReportWriter({
      client,
      clock,
      logger: log('reports'),
      ...reportApis(config.reports ?? 'auto'),
    });
    // One informer per workload resource (one Pod watch), shared by the audit and verification results.
    const workloads = new WorkloadInformers({
      client,
      clock,
      logger: log('informers'),
      metrics,
      podVerification: podVerification((pod) =>
        untrustedVerifier(pod, snapshot(), {
          defaults: verifier,
          exemptNamespaces: exempt,
          verifyBundle: (b, t) => verdicts.verify(b, t),
        }),
      ),
      ...(config.ociEvidence ? { ociReferences: (o) => ociReferencesOf(o) } : {}),
    });
    const oci = config.ociEvidence
      ? new OciEvidenceReconciler({
          ...config.ociEvidence,
          client,
          clock,
          logger: log('oci-evidence'),
          namespace: config.namespace,
          snapshot,
          verify: (bundle, trust) => verdicts.verify(bundle, trust),
        })
      : undefined;
    if (oci)
      for (const inf of workloads.all())
        inf.addHandlers({
          onAdd: (f, key) => oci.workloadWants(key, f.namespace, f.oci ?? []),
          onUpdate: (f, _old, key) => oci.workloadWants(key, f.namespace, f.oci ?? []),
          onDelete: (_f, key) => oci.workloadGone(key),
        });
    const pods = workloads.pods;
    if (!pods) throw new Error('the workload informers have no Pod informer');
    // Helm never upgrades CRDs: every policy's status says whether the installed schema is this build's.
    const crdSchema: CrdSchemaChecker = new CrdSchemaChecker({
      client,
      clock,
      logger: log('crd-schema'),
      onChange: () => status.resync(),
    });
    const status = new PolicyStatusReconciler({
      client,
      clock,
      logger: log('policy-status'),
      metrics,
      states: () => this.store.compileStates(),
      schema: () => crdSchema.current(),
      ...resync,
    });
    const r: Reconcilers = {
      term,
      client,
      events,
      workloads,
      crdSchema,
      status,
      audit: new AuditReconciler({
        client,
        clock,
        logger: log('audit'),
        metrics,
        events,
        snapshot,
        policyAudit: (id) => this.policyAudit(id),
        exemptNamespaces: exempt,
        verifyBundle: (bundle, trust) => verdicts.verify(bundle, trust),
        admission: verifierDecideOptions(verifier),
        intervalMs: config.auditIntervalMs,
        reports,
        workloads,
      }),
      verification: new VerificationReconciler({
        client,
        clock,
        logger: log('verification'),
        metrics,
        events,
        reports,
        pods,
        ...resync,
      }),
      webhookConfig,
      ...(certificates ? { certificates } : {}),
      ...(oci ? { oci } : {}),
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
    r.status.start();
    r.crdSchema.start();
    r.audit.start();
    r.verification.start();
    r.expiry.start();
    r.oci?.start();
    r.workloads.start();
    this.logger.info({ certificates: !config.certManager }, 'reconcilers started');
  }

  /**
   * Ends the term (writes refused, calls in flight aborted) and resolves once every reconciler has
   * returned from what it was doing: after this, this replica writes nothing.
   */
  private stopReconcilers(): Promise<void> {
    const r = this.reconcilers;
    if (!r) return this.draining;
    this.reconcilers = undefined;
    r.term.end();
    r.workloads.stop();
    r.crdSchema.stop();
    const t0 = this.clock.now();
    this.drainPending = true;
    this.draining = Promise.all([
      r.status.stop(),
      r.audit.stop(),
      r.verification.stop(),
      r.webhookConfig.stop(),
      r.certificates?.stop(),
      Promise.resolve(r.expiry.stop()),
      r.oci?.stop(),
      r.events.stop(),
    ])
      // Calls aborted by the end of the term may still be on the wire: wait for their answers, briefly
      // (they were sent while the lease was held; the wait only orders them before a clean release).
      .then(() => Promise.race([r.client.quiet(), sleep(this.clock, QUIET_WAIT_MS)]))
      .then(() => {
        this.drainPending = false;
        this.logger.info(
          { drainMs: this.clock.now() - t0 },
          'reconcilers stopped; nothing is written any more',
        );
      });
    return this.draining;
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
    r.webhookConfig.requestSync();
  }
}
