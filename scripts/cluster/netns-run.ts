// Runs a command inside the local cluster's network namespace: the cluster (control plane, registry,
// real node) and everything that talks to it live there, and nowhere else (docs/development.md).
//
//   tsx scripts/cluster/netns-run.ts [--fresh | --existing] [--dir <run dir>] -- <command> [args...]
//
// Reuses the namespace of a running cluster in .cache/cluster/; otherwise cleans up whatever an earlier
// run left, creates a new namespace and runs the command in it (the command then starts the cluster:
// up.ts, the e2e global setup and the demo do). --fresh: always start over. --existing: only enter a
// running cluster's namespace (npm run cluster:exec). --dir: a run directory other than .cache/cluster
// (the command is told it in MODELGATE_CLUSTER_DIR). The slow builds run first, outside the
// namespace, where the Go module proxy and apt are reachable.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import {
  clusterProcessesAlive,
  defaultClusterDir,
  ensureBinaries,
  repoRoot,
  stopCluster,
  withClusterLock,
} from './control-plane.ts';
import { createRunNetns, netnsFile } from './node/namespaces.ts';
import { ensureNodeParts } from './node/node.ts';

const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const flags = split === -1 ? argv : argv.slice(0, split);
const command = split === -1 ? [] : argv.slice(split + 1);
const log = (line: string): void => console.error(`[cluster] ${line}`);

function fail(message: string): never {
  console.error(`netns-run: ${message}`);
  process.exit(2);
}

if (command.length === 0)
  fail('usage: netns-run.ts [--fresh | --existing] [--dir <run dir>] -- <command> [args...]');
let dir = defaultClusterDir;
for (let i = 0; i < flags.length; i++) {
  const f = flags[i]!;
  if (f === '--dir' && flags[i + 1]) dir = resolve(flags[++i]!);
  else if (!['--fresh', '--existing'].includes(f)) fail(`unknown flag ${f}`);
}
if (process.platform !== 'linux' || process.getuid?.() !== 0)
  fail(
    'the local cluster runs a real node (kubelet, containerd, runc) in network and mount namespaces of its own, which needs root on Linux; run this as root (e.g. in the development VM or CI)',
  );

const existingOnly = flags.includes('--existing');
const fresh = flags.includes('--fresh');

const binDir = existingOnly ? '' : ensureBinaries(log);
const parts = existingOnly ? undefined : ensureNodeParts(repoRoot, log);

await withClusterLock(async () => {
  const running = await clusterProcessesAlive(dir);
  if (existingOnly) {
    if (!running) fail(`no cluster is running in ${dir}; start one with npm run cluster:up`);
    return;
  }
  if (running && !fresh) return;
  await stopCluster({ dir, log });
  createRunNetns(dir);
}, dir);

const env: NodeJS.ProcessEnv = { ...process.env, MODELGATE_CLUSTER_DIR: dir };
if (existingOnly) {
  const state = await clusterProcessesAlive(dir);
  if (state) {
    env.KUBECONFIG = state.kubeconfigPath;
    env.PATH = `${state.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  }
} else {
  env.MODELGATE_K8S_BIN = binDir;
  if (parts)
    env.MODELGATE_NODE_PARTS = `kubelet=${parts.kubelet},containerd=${parts.containerd},debian=${parts.debian}`;
}
for (const k of Object.keys(env)) if (/^(https?|all)_proxy$/i.test(k)) delete env[k];

const child = spawn('nsenter', [`--net=${netnsFile(dir)}`, '--', ...command], {
  stdio: 'inherit',
  env,
  cwd: process.cwd(),
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 128 : 1);
});
