// `modelgate controller`: policy status, audit, verification results, webhook TLS and configuration,
// leader-elected. Thin: parse flags, connect, build the Controller, serve health and metrics, wait for
// SIGTERM/SIGINT (then release the lease so a standby takes over at once).
import { readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { HttpKubeClient } from '../kube/client.ts';
import { Kubeconfig } from '../kube/kubeconfig.ts';
import { realClock } from '../kube/clock.ts';
import { startHealthServer, type HealthServer } from '../telemetry/health-server.ts';
import { Controller } from '../controller/manager.ts';
import { ControllerMetrics } from '../telemetry/metrics.ts';
import { preflight } from '../controller/preflight.ts';
import type { OciEvidenceOptions } from '../controller/oci-evidence.ts';
import type { ReportApiChoice } from '../controller/reports.ts';
import { Keyring } from '../oci/credentials.ts';
import { DEFAULT_VERIFIER_IMAGE } from '../mutation/verifier-container.ts';
import { createLogger, isLogLevel, LOG_LEVELS } from '../telemetry/logger.ts';
import { parseFlags, UsageError } from './args.ts';

const USAGE = `usage: modelgate controller [flags]

Runs the reconcilers (policy status, audit, verification results, webhook certificates and
configuration) on the replica holding the leader Lease; serves /healthz, /readyz and /metrics.

flags:
  --kubeconfig <FILE>            cluster to manage (default: in-cluster, then $KUBECONFIG / ~/.kube/config)
  --namespace <NS>               modelgate's namespace: Lease, TLS Secret, cluster-wide key Secrets (default $POD_NAMESPACE or modelgate-system)
  --metrics-port <N>             HTTP port for /healthz, /readyz, /metrics (default 8081; 0 picks one)
  --bind-address <IP>            address of the metrics port (default 0.0.0.0)
  --leader-elect[=true|false]    elect a leader with a coordination.k8s.io Lease (default true)
  --lease-name <NAME>            the Lease (default modelgate-controller)
  --lease-duration <DURATION>    how long a lease lasts without renewal (default 15s)
  --webhook-service <NAME>       the webhook's Service, named in the serving certificate (default modelgate-webhook)
  --webhook-secret <NAME>        Secret holding the webhook's TLS pair and CA (default modelgate-webhook-tls)
  --webhook-cert-extra-names <N> comma-separated extra DNS names / IPs in the serving certificate
  --validating-webhook <NAME>    ValidatingWebhookConfiguration to keep in line ("" for none; default modelgate)
  --mutating-webhook <NAME>      MutatingWebhookConfiguration to keep in line ("" for none; default modelgate)
  --cert-manager[=true|false]    cert-manager issues the certificate and injects caBundle: leave both alone
  --audit-interval <DURATION>    full audit period, e.g. 10m, 1h (default 10m)
  --certificate-expiry-warning <DURATION>  warn this long before a signing or CA certificate expires (default 720h)
  --verifier-image <IMG>         the verifier image the webhook injects (the same value as its --verifier-image;
                                 default ${DEFAULT_VERIFIER_IMAGE}): only results of that verifier count
  --reports <WHICH>              report API: auto (openreports.io Reports when that CRD is installed, else
                                 wgpolicyk8s.io PolicyReports), openreports, wgpolicyk8s, or both (default auto)
  --oci-evidence[=true|false]    look for signatures of digest-pinned OCI models in their registries, scan
                                 their layers, and record what is found for the webhooks (default true)
  --registry-credentials <FILE>  Docker config JSON with modelgate's own registry credentials (a mounted Secret)
  --insecure-registry <HOST>     a registry (host:port as in references) reached over plain HTTP (repeatable)
  --oci-pull-secrets[=true|false] also use the pull secrets (and service accounts) of the workloads that
                                 pin a digest; needs get on Secrets and ServiceAccounts (default true)
  --oci-scan-dir <DIR>           scratch directory for unpacking layers to scan (default the system temp dir)
  --oci-scan-max-layer-bytes <N> largest layer, unpacked, the controller scans (default 34359738368)
  --oci-refresh <DURATION>       look again at a digest with a signature after this long (default 10m)
  --oci-retry <DURATION>         look again at a digest without one, or whose registry failed (default 1m)
  --log-level <LEVEL>            ${LOG_LEVELS.join(', ')} (default info)`;

const FLAGS = {
  kubeconfig: { type: 'string' },
  namespace: { type: 'string' },
  'metrics-port': { type: 'string' },
  'bind-address': { type: 'string' },
  'leader-elect': { type: 'string' },
  'lease-name': { type: 'string' },
  'lease-duration': { type: 'string' },
  'webhook-service': { type: 'string' },
  'webhook-secret': { type: 'string' },
  'webhook-cert-extra-names': { type: 'string' },
  'validating-webhook': { type: 'string' },
  'mutating-webhook': { type: 'string' },
  'cert-manager': { type: 'string' },
  'audit-interval': { type: 'string' },
  'certificate-expiry-warning': { type: 'string' },
  'verifier-image': { type: 'string' },
  'log-level': { type: 'string' },
  reports: { type: 'string' },
  'oci-evidence': { type: 'string' },
  'registry-credentials': { type: 'string' },
  'insecure-registry': { type: 'string', multiple: true },
  'oci-pull-secrets': { type: 'string' },
  'oci-scan-dir': { type: 'string' },
  'oci-scan-max-layer-bytes': { type: 'string' },
  'oci-refresh': { type: 'string' },
  'oci-retry': { type: 'string' },
} as const;

const BOOLEAN_FLAGS = ['--leader-elect', '--cert-manager', '--oci-evidence', '--oci-pull-secrets'];
/** How long the start-up check waits for the API server. */
const PREFLIGHT_TIMEOUT_MS = 10_000;

/** "500ms", "30s", "10m", "1h", "1h30m" -> milliseconds. */
export function parseDuration(v: string, name: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(v))) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  if (!v || matched !== v.length || total <= 0)
    throw new UsageError(`--${name} must be a duration such as 30s, 10m or 1h, not "${v}"\n\n${USAGE}`);
  return total;
}

function boolFlag(v: string | undefined, name: string, def: boolean): boolean {
  if (v === undefined) return def;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`--${name} must be true or false, not "${v}"\n\n${USAGE}`);
}

export interface ControllerFlags {
  kubeconfig?: string;
  namespace: string;
  metricsPort: number;
  bindAddress: string;
  leaderElect: boolean;
  leaseName: string;
  leaseDurationMs: number;
  webhookService: string;
  webhookSecret: string;
  extraCertNames: string[];
  validatingWebhook: string;
  mutatingWebhook: string;
  certManager: boolean;
  auditIntervalMs: number;
  certificateExpiryWarningMs: number;
  verifierImage: string;
  logLevel: string;
  reports: ReportApiChoice;
  /** Undefined when --oci-evidence=false. */
  oci?: {
    credentialsFile?: string;
    insecureRegistries: string[];
    pullSecrets: boolean;
    scanDir: string;
    maxLayerBytes: number;
    refreshMs: number;
    retryMs: number;
  };
}

export function parseControllerFlags(argv: string[]): ControllerFlags | 'help' {
  // `--leader-elect` and `--cert-manager` may stand alone (true) or carry =true/=false.
  const args = argv.map((a) => (BOOLEAN_FLAGS.includes(a) ? `${a}=true` : a));
  const { values, positionals } = parseFlags(args, FLAGS, USAGE);
  if ((values as { help?: boolean }).help) return 'help';
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"\n\n${USAGE}`);
  const port = values['metrics-port'] === undefined ? 8081 : Number(values['metrics-port']);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--metrics-port must be a port number, not "${values['metrics-port']}"\n\n${USAGE}`);
  const logLevel = values['log-level'] ?? 'info';
  if (!isLogLevel(logLevel))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}\n\n${USAGE}`);
  return {
    ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    namespace: values.namespace ?? process.env.POD_NAMESPACE ?? 'modelgate-system',
    metricsPort: port,
    bindAddress: values['bind-address'] ?? '0.0.0.0',
    leaderElect: boolFlag(values['leader-elect'], 'leader-elect', true),
    leaseName: values['lease-name'] ?? 'modelgate-controller',
    leaseDurationMs: values['lease-duration']
      ? parseDuration(values['lease-duration'], 'lease-duration')
      : 15_000,
    webhookService: values['webhook-service'] ?? 'modelgate-webhook',
    webhookSecret: values['webhook-secret'] ?? 'modelgate-webhook-tls',
    extraCertNames: (values['webhook-cert-extra-names'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    validatingWebhook: values['validating-webhook'] ?? 'modelgate',
    mutatingWebhook: values['mutating-webhook'] ?? 'modelgate',
    certManager: boolFlag(values['cert-manager'], 'cert-manager', false),
    auditIntervalMs: values['audit-interval']
      ? parseDuration(values['audit-interval'], 'audit-interval')
      : 600_000,
    certificateExpiryWarningMs: values['certificate-expiry-warning']
      ? parseDuration(values['certificate-expiry-warning'], 'certificate-expiry-warning')
      : 30 * 86_400_000,
    verifierImage: values['verifier-image'] || DEFAULT_VERIFIER_IMAGE,
    logLevel,
    reports: reportsFlag(values.reports),
    ...(boolFlag(values['oci-evidence'], 'oci-evidence', true) ? { oci: ociFlags(values) } : {}),
  };
}

function reportsFlag(v: string | undefined): ReportApiChoice {
  if (v === undefined) return 'auto';
  if (v === 'auto' || v === 'openreports' || v === 'wgpolicyk8s' || v === 'both') return v;
  throw new UsageError(`--reports must be auto, openreports, wgpolicyk8s or both, not "${v}"\n\n${USAGE}`);
}

function ociFlags(values: {
  'registry-credentials'?: string;
  'insecure-registry'?: string[];
  'oci-pull-secrets'?: string;
  'oci-scan-dir'?: string;
  'oci-scan-max-layer-bytes'?: string;
  'oci-refresh'?: string;
  'oci-retry'?: string;
}): NonNullable<ControllerFlags['oci']> {
  const max = values['oci-scan-max-layer-bytes'];
  if (max !== undefined && !/^[1-9][0-9]*$/.test(max))
    throw new UsageError(
      `--oci-scan-max-layer-bytes must be a whole number of bytes, not "${max}"\n\n${USAGE}`,
    );
  return {
    ...(values['registry-credentials'] ? { credentialsFile: values['registry-credentials'] } : {}),
    insecureRegistries: values['insecure-registry'] ?? [],
    pullSecrets: boolFlag(values['oci-pull-secrets'], 'oci-pull-secrets', true),
    scanDir: values['oci-scan-dir'] ?? tmpdir(),
    maxLayerBytes: max === undefined ? 32 * 1024 ** 3 : Number(max),
    refreshMs: values['oci-refresh'] ? parseDuration(values['oci-refresh'], 'oci-refresh') : 600_000,
    retryMs: values['oci-retry'] ? parseDuration(values['oci-retry'], 'oci-retry') : 60_000,
  };
}

export async function run(argv: string[]): Promise<number> {
  const flags = parseControllerFlags(argv);
  if (flags === 'help') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const logger = createLogger({
    level: flags.logLevel as Parameters<typeof createLogger>[0]['level'],
    name: 'modelgate-controller',
  });
  const identity = `${process.env.POD_NAME ?? hostname()}_${randomBytes(4).toString('hex')}`;
  // Start-up failures are one line on stderr and exit code 1: no stack trace, no retrying forever.
  const fail = (message: string) => {
    process.stderr.write(`modelgate controller: ${message}\n`);
    return 1;
  };
  let kubeConfig: Kubeconfig;
  let client: HttpKubeClient;
  try {
    kubeConfig = Kubeconfig.load(flags.kubeconfig);
    client = new HttpKubeClient(kubeConfig);
  } catch (err) {
    return fail(
      `cannot load the kubeconfig: ${(err as Error).message}; pass --kubeconfig, set $KUBECONFIG, or run in a pod with a service account`,
    );
  }
  const server = kubeConfig.getCurrentCluster().server;
  let ociOptions: OciEvidenceOptions | undefined;
  if (flags.oci) {
    let credentials: string | undefined;
    if (flags.oci.credentialsFile !== undefined)
      try {
        credentials = readFileSync(flags.oci.credentialsFile, 'utf8');
        new Keyring().addDockerConfig(credentials, flags.oci.credentialsFile);
      } catch (err) {
        return fail(
          `cannot use --registry-credentials ${flags.oci.credentialsFile}: ${(err as Error).message}; give a Docker config JSON file ({"auths": {...}})`,
        );
      }
    ociOptions = {
      ...(credentials !== undefined ? { credentials } : {}),
      insecureHosts: flags.oci.insecureRegistries,
      pullSecrets: flags.oci.pullSecrets,
      refreshMs: flags.oci.refreshMs,
      retryMs: flags.oci.retryMs,
      // The controller's memory is small (docs/operations.md, Sizing): what it cannot hold is scanned at pod start.
      scan: {
        scratchDir: flags.oci.scanDir,
        maxLayerBytes: flags.oci.maxLayerBytes,
        scanLimits: { maxPickleBytes: 64 * 1024 * 1024, maxHeaderBytes: 32 * 1024 * 1024 },
      },
    };
  }
  const metrics = new ControllerMetrics({ processMetrics: true });
  const controller = new Controller(client, realClock, logger, metrics, {
    namespace: flags.namespace,
    identity,
    leaderElect: flags.leaderElect,
    leaseName: flags.leaseName,
    leaseDurationMs: flags.leaseDurationMs,
    renewDeadlineMs: Math.round(flags.leaseDurationMs * (2 / 3)),
    retryPeriodMs: Math.max(500, Math.round(flags.leaseDurationMs / 7.5)),
    webhookService: flags.webhookService,
    webhookSecret: flags.webhookSecret,
    validatingWebhook: flags.validatingWebhook,
    mutatingWebhook: flags.mutatingWebhook,
    certManager: flags.certManager,
    auditIntervalMs: flags.auditIntervalMs,
    certificateExpiryWarningMs: flags.certificateExpiryWarningMs,
    verifier: { image: flags.verifierImage },
    ...(flags.extraCertNames.length ? { extraCertNames: flags.extraCertNames } : {}),
    reports: flags.reports,
    ...(ociOptions ? { ociEvidence: ociOptions } : {}),
  });
  let health: HealthServer;
  try {
    health = await startHealthServer({
      port: flags.metricsPort,
      host: flags.bindAddress,
      registry: metrics.registry,
      notReadyReason: () => (controller.ready() ? undefined : 'initial sync not finished'),
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  const problem = await preflight(
    new HttpKubeClient(kubeConfig, { requestTimeoutMs: PREFLIGHT_TIMEOUT_MS }),
    server,
    flags.namespace,
  );
  if (problem) {
    await health.close();
    return fail(problem);
  }
  logger.info(
    {
      identity,
      namespace: flags.namespace,
      metricsPort: health.port,
      leaderElect: flags.leaderElect,
      certManager: flags.certManager,
      verifierImage: flags.verifierImage,
    },
    'controller starting',
  );
  let stopping = false;
  const done = new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      void controller
        .stop()
        .then(() => health.close())
        .then(
          () => resolve(0),
          () => resolve(1),
        );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  controller.start().catch((err: unknown) => {
    logger.fatal({ err: (err as Error).message }, 'controller failed to start');
    process.exit(1);
  });
  // Keep the process alive: the clock's timers are unref'd.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const code = await done;
  clearInterval(keepAlive);
  return code;
}
