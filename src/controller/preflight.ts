// Start-up checks of `modelgate controller`, so the three most common mistakes end in one line that says
// what to fix rather than in retries forever or a stack trace: an API server that cannot be reached (or
// refuses the credentials), and a --namespace that does not exist (the Lease and the TLS Secret live
// there).
import { NAMESPACES } from '../kube/resources.ts';
import { KubeApiError, type KubeClient } from '../kube/types.ts';

/** Node's error codes that mean "no answer from that address". */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** What went wrong reaching `server`, in one line with the fix; undefined when all is well. */
export function describeStartupError(err: unknown, server: string, namespace: string): string {
  if (err instanceof KubeApiError) {
    if (err.status === 404)
      return `namespace "${namespace}" does not exist: the controller keeps its Lease and the webhook's TLS Secret there. Create it (kubectl create namespace ${namespace}) or pass --namespace`;
    if (err.status === 401)
      return `the Kubernetes API server at ${server} refused the credentials (401 Unauthorized): check the kubeconfig's user, or the pod's service account token`;
    if (err.status === 403)
      return `the Kubernetes API server at ${server} does not allow this identity to read namespace "${namespace}" (403 Forbidden): install the chart's ClusterRole and binding (charts/modelgate), or run with a kubeconfig that may`;
    return `the Kubernetes API server at ${server} answered ${err.message}`;
  }
  const code = errorCode(err);
  const message = (err as Error).message ?? String(err);
  if ((code && UNREACHABLE.has(code)) || /timed out/.test(message))
    return `cannot reach the Kubernetes API server at ${server} (${code ?? message}): check --kubeconfig (or $KUBECONFIG, or the in-cluster service account) and that the cluster is running`;
  if (code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO/.test(code))
    return `the TLS connection to the Kubernetes API server at ${server} failed (${code}): the kubeconfig's certificate-authority does not match the server's certificate`;
  return `cannot talk to the Kubernetes API server at ${server}: ${message}`;
}

/** Reads the controller's namespace: proves the server answers, accepts us, and the namespace exists. */
export async function preflight(
  client: KubeClient,
  server: string,
  namespace: string,
): Promise<string | undefined> {
  try {
    const ns = await client.get(NAMESPACES, namespace);
    if (!ns) return describeStartupError(new KubeApiError(404, 'NotFound', 'not found'), server, namespace);
    return undefined;
  } catch (err) {
    return describeStartupError(err, server, namespace);
  }
}
