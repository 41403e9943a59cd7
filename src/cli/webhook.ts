// `modelgate webhook`: serve the admission webhook. Thin: parse flags, build the policy store, the
// telemetry and the server, then wait for SIGTERM/SIGINT (graceful) or SIGHUP (reload policy files).
import { DEFAULT_VERIFIER_IMAGE } from '../mutation/index.ts';
import { FilePolicyStore } from '../policy-store/file-store.ts';
import type { PolicyStore } from '../policy/store.ts';
import type { BundleVerifier } from '../policy/signature-seam.ts';
import { VerdictCache } from '../signing/index.ts';
import { createLogger, isLogLevel, LOG_LEVELS, type Logger } from '../telemetry/logger.ts';
import { AdmissionMetrics } from '../telemetry/metrics.ts';
import { createAdmission } from '../webhook/admission.ts';
import { OciEvidenceRequester } from '../webhook/oci-evidence-requests.ts';
import { watchPolicyFiles } from '../webhook/policy-files-watcher.ts';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, startWebhookServer } from '../webhook/server.ts';
import type { KubeAccess } from '../kube/kubeconfig.ts';
import { parseFlags, requireOne, UsageError } from './args.ts';
import { trustProblem } from '../signing/trust.ts';

const USAGE = `usage: modelgate webhook --tls-cert-file <PEM> --tls-private-key-file <PEM> [flags]

Serves POST /validate and POST /mutate (admission.k8s.io/v1) over HTTPS, and /healthz, /readyz and
/metrics over plain HTTP on the metrics port.

flags:
  --tls-cert-file <PEM>          serving certificate (chain); reloaded when the file changes
  --tls-private-key-file <PEM>   its private key; reloaded when the file changes
  --port <N>                     HTTPS port (default 9443)
  --metrics-port <N>             HTTP port for /healthz, /readyz, /metrics (default 8080)
  --bind-address <IP>            address to listen on (default 0.0.0.0)
  --kubeconfig <FILE>            read policies and cluster state from this cluster (default: in-cluster)
  --policy-dir <DIR>             read policies from files instead of a cluster (reloaded on change, SIGHUP)
  --cluster-file <FILE>          with --policy-dir: Namespaces, RuntimeClasses, ConfigMaps, Secrets
  --controller-namespace <NS>    where cluster-wide key Secrets live (default $POD_NAMESPACE or modelgate-system)
  --oci-evidence=true|false      read the controller's OCI evidence records and ask it for missing ones
                                 (default true; the controller's --oci-evidence must agree)
  --verifier-image <IMG>         runtime verifier image when a policy names none (default ${DEFAULT_VERIFIER_IMAGE})
  --log-level <LEVEL>            ${LOG_LEVELS.join(', ')} (default info)
  --max-body-bytes <N>           largest AdmissionReview accepted, else 413 (default ${DEFAULT_MAX_BODY_BYTES})
  --request-timeout <SECONDS>    deadline for a whole request, including slow clients (default ${DEFAULT_REQUEST_TIMEOUT_MS / 1000})
  --shutdown-delay <SECONDS>     on SIGTERM, keep serving while unready this long (endpoints catch up; default 5)
  --shutdown-grace <SECONDS>     then wait this long for in-flight requests (default 25)`;

const FLAGS = {
  'tls-cert-file': { type: 'string' },
  'tls-private-key-file': { type: 'string' },
  port: { type: 'string' },
  'metrics-port': { type: 'string' },
  'bind-address': { type: 'string' },
  kubeconfig: { type: 'string' },
  'policy-dir': { type: 'string' },
  'cluster-file': { type: 'string' },
  'controller-namespace': { type: 'string' },
  'oci-evidence': { type: 'string' },
  'verifier-image': { type: 'string' },
  'log-level': { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'request-timeout': { type: 'string' },
  'shutdown-delay': { type: 'string' },
  'shutdown-grace': { type: 'string' },
} as const;

function intFlag(v: string | undefined, name: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, not "${v}"\n\n${USAGE}`);
  return n;
}

/** The cluster cannot be reached as configured: one line for the operator, exit 1 (not a usage error). */
class KubeconfigUnusable extends Error {}

async function clusterStore(
  kubeconfig: string | undefined,
  controllerNamespace: string,
  logger: Logger,
  ociEvidence: boolean,
): Promise<{ store: PolicyStore; requester?: OciEvidenceRequester }> {
  // modelgate's own loader, not @kubernetes/client-node's KubeConfig: importing that loads the whole generated
  // API (~57 MiB resident) to read a few fields (src/kube/kubeconfig.ts).
  const { Kubeconfig } = await import('../kube/kubeconfig.ts');
  let kubeConfig: KubeAccess;
  try {
    kubeConfig = Kubeconfig.load(kubeconfig);
  } catch (err) {
    throw new KubeconfigUnusable(
      `cannot load the kubeconfig: ${(err as Error).message}; pass --kubeconfig, set $KUBECONFIG, or run in a pod with a service account`,
    );
  }
  const mod = (await import('../policy-store/informer-store.ts')) as {
    createClusterPolicyStore?: (o: {
      kubeConfig: typeof kubeConfig;
      controllerNamespace: string;
      logger: Logger;
      ociEvidence?: boolean;
    }) => PolicyStore;
  };
  if (typeof mod.createClusterPolicyStore !== 'function')
    throw new Error(
      'this build has no cluster policy store (src/policy-store/informer-store.ts); use --policy-dir',
    );
  const store = mod.createClusterPolicyStore({
    kubeConfig,
    controllerNamespace,
    logger: logger.child({ component: 'policy-store' }),
    ociEvidence,
  });
  if (!ociEvidence) return { store };
  // Asks the controller for OCI evidence the decisions missed (after answering, never on the admission path).
  const { HttpKubeClient } = await import('../kube/client.ts');
  const requester = new OciEvidenceRequester({
    client: new HttpKubeClient(kubeConfig),
    namespace: controllerNamespace,
    logger: logger.child({ component: 'oci-evidence-requests' }),
  });
  return { store, requester };
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAGS, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const certFile = requireOne(values, 'tls-cert-file', USAGE);
  const keyFile = requireOne(values, 'tls-private-key-file', USAGE);
  const level = values['log-level'] ?? 'info';
  if (!isLogLevel(level))
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}\n\n${USAGE}`);
  if (values['cluster-file'] && !values['policy-dir'])
    throw new UsageError(`--cluster-file needs --policy-dir\n\n${USAGE}`);
  if (values['policy-dir'] && values.kubeconfig)
    throw new UsageError(`use either --policy-dir or --kubeconfig, not both\n\n${USAGE}`);
  const port = intFlag(values.port, 'port', 9443, 0, 65535);
  const metricsPort = intFlag(values['metrics-port'], 'metrics-port', 8080, 0, 65535);
  const maxBodyBytes = intFlag(
    values['max-body-bytes'],
    'max-body-bytes',
    DEFAULT_MAX_BODY_BYTES,
    1024,
    64 * 1024 * 1024,
  );
  const requestTimeoutMs =
    intFlag(values['request-timeout'], 'request-timeout', DEFAULT_REQUEST_TIMEOUT_MS / 1000, 1, 300) * 1000;
  const shutdownDelayMs = intFlag(values['shutdown-delay'], 'shutdown-delay', 5, 0, 300) * 1000;
  const shutdownGraceMs = intFlag(values['shutdown-grace'], 'shutdown-grace', 25, 0, 600) * 1000;
  const controllerNamespace =
    values['controller-namespace'] ?? process.env.POD_NAMESPACE ?? 'modelgate-system';

  const logger = createLogger({ level, name: 'webhook' });
  const metrics = new AdmissionMetrics({ processMetrics: true });

  let store: PolicyStore;
  let requester: OciEvidenceRequester | undefined;
  const cleanups: (() => void)[] = [];
  const policyDir = values['policy-dir'];
  if (policyDir) {
    const fileStore = new FilePolicyStore({
      policyPaths: [policyDir],
      clusterPaths: values['cluster-file'] ? [values['cluster-file']] : [],
      controllerNamespace,
    });
    const reload = () => {
      try {
        fileStore.reload();
      } catch (err) {
        logger.error(
          { err: (err as Error).message },
          'policy files could not be loaded; the previous policies stay in force',
        );
      }
    };
    process.on('SIGHUP', reload);
    cleanups.push(() => process.off('SIGHUP', reload));
    const paths = [policyDir, ...(values['cluster-file'] ? [values['cluster-file']] : [])];
    cleanups.push(watchPolicyFiles(paths, reload, logger));
    store = fileStore;
  } else {
    const oci = values['oci-evidence'] ?? 'true';
    if (oci !== 'true' && oci !== 'false')
      throw new UsageError(`--oci-evidence must be true or false, not "${oci}"\n\n${USAGE}`);
    try {
      ({ store, requester } = await clusterStore(
        values.kubeconfig,
        controllerNamespace,
        logger,
        oci === 'true',
      ));
    } catch (err) {
      if (!(err instanceof KubeconfigUnusable)) throw err;
      logger.fatal(err.message);
      return 1;
    }
  }
  store.onChange((s) => {
    metrics.setPolicyCounts(s.policies.size, s.errors.length);
    for (const e of s.errors)
      logger.warn({ source: e.source, reason: e.reason, message: e.message }, 'policy not enforced');
    logger.info({ policies: s.policies.size, errors: s.errors.length }, 'policies loaded');
  });

  const verifierImage = values['verifier-image'] ?? DEFAULT_VERIFIER_IMAGE;
  if (!/@sha256:[0-9a-f]{64}$/.test(verifierImage))
    logger.warn(
      { verifierImage },
      'the verifier image is not pinned by digest: whoever can move its tag decides what verifies models in every pod; pin it (--verifier-image <repository>@sha256:<digest>, Helm verifier.image.digest)',
    );
  // Verdicts memoised by bundle digest and trust material, with a TTL (certificates expire).
  const verdicts = new VerdictCache();
  const verifyBundle: BundleVerifier = (bundle, trust) => verdicts.verify(bundle, trust);
  const admission = createAdmission({
    store,
    verifier: { image: verifierImage },
    verifyBundle,
    validateTrust: trustProblem,
    controllerNamespace,
    ...(requester ? { onOciMisses: (m, o, ns) => requester.request(m, o, ns) } : {}),
  });
  const server = await startWebhookServer({
    admission,
    tls: { certFile, keyFile },
    logger,
    metrics,
    notReadyReason: () => (store.ready() ? undefined : 'policies not loaded yet'),
    ...(values['bind-address'] ? { host: values['bind-address'] } : {}),
    port,
    metricsPort,
    maxBodyBytes,
    requestTimeoutMs,
  });
  // Serve (and report not ready) while the store loads; a file store that fails to load is fatal.
  try {
    await store.start();
  } catch (err) {
    logger.fatal({ err: (err as Error).message }, 'cannot load policies');
    for (const cleanup of cleanups) cleanup();
    await server.close(1000);
    return 1;
  }

  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, shutdownDelayMs }, 'shutting down');
      void (async () => {
        // Unready first, and keep answering while endpoints and the API server's connections converge.
        server.beginShutdown();
        await new Promise((r) => setTimeout(r, shutdownDelayMs));
        for (const cleanup of cleanups) cleanup();
        await server.close(shutdownGraceMs);
        await store.stop();
        resolve(0);
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
