// A run of the local cluster on disk: state.json (addresses, ports, pids) in the run directory, and the
// launcher every long-running process of the run goes through (detached, logging to logs/<name>.log,
// its pid recorded).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv } from './exec.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const controlPlaneComponents = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
] as const;
export const nodeComponents = ['registry', 'containerd', 'kubelet', 'kube-proxy'] as const;
export type Component =
  (typeof controlPlaneComponents)[number] | (typeof nodeComponents)[number] | 'pod-reaper';

/** Binaries (by file name) that belong to a run when their command line names its directory. */
export const runBinaries: readonly string[] = [
  ...controlPlaneComponents,
  ...nodeComponents,
  'containerd-shim-runc-v2',
];

export interface NodeState {
  name: string;
  /** host:port of the run's registry (the node address): the kubelet pulls from it, tests push to it. */
  registry: string;
  /** The node's cgroup root ("/modelgate-<id>"), in every hierarchy. */
  cgroupRoot: string;
  /** Images in the registry, by digest. */
  images: { pause: string; busybox: string };
  ports: {
    registry: number;
    kubelet: number;
    kubeletHealthz: number;
    kubeProxyHealthz: number;
    kubeProxyMetrics: number;
  };
  /** Where the node's binaries come from (scripts/cluster/node/build.sh). */
  parts: NodeParts;
}

export interface NodeParts {
  kubelet: string;
  containerd: string;
  debian: string;
}

export interface ClusterState {
  version: 2;
  dir: string;
  binDir: string;
  server: string;
  kubeconfigPath: string;
  caCertPath: string;
  caKeyPath: string;
  ports: {
    etcdClient: number;
    etcdPeer: number;
    apiserver: number;
    controllerManager: number;
    scheduler: number;
  };
  pids: Partial<Record<Component, number>>;
  node?: NodeState;
  startedAt: string;
}

export async function readState(dir: string): Promise<ClusterState | undefined> {
  try {
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as ClusterState;
    return state.version === 2 ? state : undefined;
  } catch {
    return undefined;
  }
}

export async function writeState(state: ClusterState): Promise<void> {
  await writeFile(join(state.dir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export const logFile = (state: ClusterState, component: Component): string =>
  join(state.dir, 'logs', `${component}.log`);

/**
 * Starts a long-running process of the run, detached in its own process group (a Ctrl-C of `npm run
 * cluster:up` after start-up does not stop the cluster; `cluster:down` does), logging to
 * logs/<component>.log, and records its pid in state.json.
 */
export async function launchProcess(
  state: ClusterState,
  component: Component,
  argv: string[],
  log: (line: string) => void,
  env: NodeJS.ProcessEnv = childEnv(),
): Promise<number> {
  const file = logFile(state, component);
  const fd = openSync(file, 'a');
  const [command, ...args] = argv;
  if (!command) throw new Error(`no command for ${component}`);
  const child = spawn(command, args, { cwd: repoRoot, detached: true, stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${component} (${command})`);
  state.pids[component] = child.pid;
  await writeState(state);
  log(`started ${component} (pid ${child.pid}, log ${file})`);
  return child.pid;
}
