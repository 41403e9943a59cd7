// Harness for end-to-end tests against the real local control plane
// (scripts/cluster/control-plane.ts). startCluster() reuses a healthy cluster in
// .cache/cluster/ (for example one from `npm run cluster:up`) and otherwise starts
// one; only a cluster this process started is stopped by stop().
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import {
  clusterHealthy,
  defaultClusterDir,
  ensureBaseline,
  ensurePodReaper,
  kubectlFor,
  run,
  startCluster as startControlPlane,
  stopCluster,
  withClusterLock,
  type ClusterState,
  type ExecResult,
  type NodeState,
} from '../../scripts/cluster/control-plane.ts';

export type { ExecResult } from '../../scripts/cluster/control-plane.ts';
export {
  fakeNodes,
  nodeNetwork,
  REAL_NODE_LABEL,
  REAL_NODE_NAME,
  REAL_NODE_TAINT,
  teeRuntimeClasses,
} from '../../scripts/cluster/control-plane.ts';

export interface CommandOptions {
  /** Written to the command's stdin (e.g. a manifest for `apply -f -`). */
  input?: string;
  timeoutMs?: number;
}

export interface Cluster {
  /** The run directory (.cache/cluster). */
  dir: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Admin kubeconfig (client certificate in group system:masters). */
  kubeconfigPath: string;
  /** The directory holding kubectl, helm, kube-apiserver, ... */
  binDir: string;
  /** The cluster CA (PEM files): it signs the API server's serving cert and client certs. */
  caCertPath: string;
  caKeyPath: string;
  /** Whether this process started the cluster (and stop() will stop it). */
  startedHere: boolean;
  /** The real node: its name, the run's registry (host:port, plain HTTP), the images pushed at start. */
  node: NodeState;
  /** Runs kubectl with the admin kubeconfig. Never throws on a non-zero exit. */
  kubectl(args: string[], options?: CommandOptions): Promise<ExecResult>;
  /** Runs helm with the admin kubeconfig and helm's own dirs under the cluster directory. */
  helm(args: string[], options?: CommandOptions): Promise<ExecResult>;
  /** A @kubernetes/client-node KubeConfig loaded from the admin kubeconfig. */
  kubeConfig(): KubeConfig;
  /** Stops the cluster if this process started it (force: stop it anyway). */
  stop(options?: { force?: boolean }): Promise<void>;
}

function toCluster(state: ClusterState, startedHere: boolean): Cluster {
  const kubectl = kubectlFor(state);
  const node = state.node;
  if (!node)
    throw new Error(
      `the cluster in ${state.dir} has no real node; restart it (npm run cluster:up -- --fresh)`,
    );
  const helmHome = join(state.dir, 'helm');
  return {
    dir: state.dir,
    server: state.server,
    kubeconfigPath: state.kubeconfigPath,
    binDir: state.binDir,
    caCertPath: state.caCertPath,
    caKeyPath: state.caKeyPath,
    startedHere,
    node,
    kubectl: (args, options = {}) => kubectl(args, options),
    helm: (args, options = {}) => {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? helmHome,
        NO_PROXY: '127.0.0.1,localhost',
        KUBECONFIG: state.kubeconfigPath,
        HELM_CONFIG_HOME: join(helmHome, 'config'),
        HELM_CACHE_HOME: join(helmHome, 'cache'),
        HELM_DATA_HOME: join(helmHome, 'data'),
      };
      return run(join(state.binDir, 'helm'), args, { ...options, env });
    },
    kubeConfig: () => {
      const kc = new KubeConfig();
      kc.loadFromFile(state.kubeconfigPath);
      return kc;
    },
    stop: async ({ force = false } = {}) => {
      if (startedHere || force) await withClusterLock(() => stopCluster({ dir: state.dir }), state.dir);
    },
  };
}

/** Reuses the healthy cluster in .cache/cluster/ or starts a new one (minutes on a cold binary cache). */
export async function startCluster(
  options: {
    dir?: string;
    log?: (line: string) => void;
    /** When reusing a running cluster, first restore its baseline objects (global setup does). */
    restoreBaseline?: boolean;
  } = {},
): Promise<Cluster> {
  const dir = options.dir ?? defaultClusterDir;
  return withClusterLock(async () => {
    const running = await clusterHealthy(dir);
    if (running) {
      // Put back nodes, RuntimeClasses and CRDs an earlier run may have changed.
      if (options.restoreBaseline) {
        await ensureBaseline(running, options.log);
        await ensurePodReaper(running, options.log);
      }
      return toCluster(running, false);
    }
    const state = await startControlPlane({ dir, ...(options.log ? { log: options.log } : {}) });
    return toCluster(state, true);
  }, dir);
}

/** The running cluster, without starting one; throws when none is healthy. */
export async function connectCluster(dir: string = defaultClusterDir): Promise<Cluster> {
  const running = await clusterHealthy(dir);
  if (!running) throw new Error(`no healthy cluster in ${dir}; run \`npm run cluster:up\``);
  return toCluster(running, false);
}
