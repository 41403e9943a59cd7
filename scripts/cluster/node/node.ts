// The real node of the local cluster: a registry, containerd + runc, the kubelet and kube-proxy, next to
// the fake Nodes, inside the run's network namespace (namespaces.ts). startNode runs after the control
// plane is up; stopNode takes it all down again and leaves nothing behind: processes, mounts (inside the
// node's mount namespace, unmounted before anything is deleted), cgroups, iptables rules (they live and
// die with the run's network namespace) and the kubelet's global sysctls (restored).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubectlFor, mustKubectl, waitFor, ComponentExited } from '../exec.ts';
import { kubeconfigYaml } from '../kubeconfig.ts';
import { freePort } from '../ports.ts';
import { issueCertificate, loadCertificateAuthority } from '../pki.ts';
import {
  launchProcess,
  logFile,
  tail,
  writeState,
  type ClusterState,
  type Component,
  type NodeParts,
} from '../state.ts';
import {
  cgroupRootName,
  createCgroupRoot,
  moveIntoCgroup,
  pidsInCgroupTree,
  removeCgroupTree,
} from './cgroups.ts';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  nodeLayout,
  nodeNetwork,
  REAL_NODE_NAME,
} from './config.ts';
import { pushNodeImages } from './images.ts';
import { registryArgv, trustRegistry } from './registry.ts';
import { createNodeMntns, inNamespaces, mntnsFile, namespaceId, sh } from './namespaces.ts';
import {
  listProcesses,
  pidAlive,
  readMountInfo,
  mountsUnder,
  parseMountInfo,
  selfAndAncestors,
  stopProcesses,
} from './proc.ts';
import { recordSysctls, restoreSysctls } from './sysctls.ts';

const sysctlRecord = (runDir: string): string => join(runDir, 'sysctls.json');
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A stable id for the run directory: its cgroup root is named after it, so a crashed run's is found. */
export function runId(runDir: string): string {
  return createHash('sha256').update(runDir).digest('hex').slice(0, 10);
}

/** Runs scripts/cluster/node/build.sh (cached) and returns the part directories. */
export function ensureNodeParts(repoRoot: string, log: (line: string) => void): NodeParts {
  const fromEnv = process.env.MODELGATE_NODE_PARTS;
  const result = fromEnv
    ? { status: 0, stdout: fromEnv.replaceAll(',', '\n') }
    : spawnSync('bash', [join(repoRoot, 'scripts', 'cluster', 'node', 'build.sh')], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
      });
  if (result.status !== 0)
    throw new Error(`scripts/cluster/node/build.sh failed (exit ${String(result.status)})`);
  const parts: Partial<NodeParts> = {};
  for (const line of result.stdout.trim().split('\n')) {
    const [key, value] = line.split('=');
    if ((key === 'kubelet' || key === 'containerd' || key === 'debian') && value) parts[key] = value;
  }
  if (!parts.kubelet || !parts.containerd || !parts.debian)
    throw new Error(`scripts/cluster/node/build.sh printed no part directories: ${result.stdout}`);
  log(`node parts: ${parts.kubelet}, ${parts.containerd}, ${parts.debian}`);
  return parts as NodeParts;
}

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3_000) })).ok;
  } catch {
    return false;
  }
}

/**
 * Starts the registry, pushes the node's images, then containerd, the kubelet and kube-proxy, and waits
 * for the node to be Ready and schedulable (its not-ready taint lifted: the node-lifecycle controller
 * is off). Must run inside the run's network namespace.
 */
export async function startNode(
  state: ClusterState,
  parts: NodeParts,
  log: (line: string) => void,
): Promise<void> {
  const layout = nodeLayout(state.dir);
  const ports = {
    registry: await freePort(),
    kubelet: await freePort(),
    kubeletHealthz: await freePort(),
    kubeProxyHealthz: await freePort(),
    kubeProxyMetrics: await freePort(),
  };
  const registry = `${nodeNetwork.nodeIp}:${ports.registry}`;
  const cgroupRoot = cgroupRootName(runId(state.dir));
  const exited = (component: Component): string =>
    `${component} ${pidAlive(state.pids[component] ?? -1) ? 'still running' : 'exited'}; last lines of its log:\n${tail(logFile(state, component))}`;
  const assertRunning = (component: Component): void => {
    const pid = state.pids[component];
    if (pid === undefined || !pidAlive(pid)) throw new ComponentExited(exited(component));
  };

  // ---- registry ----
  await launchProcess(
    state,
    'registry',
    registryArgv(parts.containerd, state.dir, ports.registry, 'spec'),
    log,
  );
  await waitFor(
    `the registry at ${registry}`,
    async () => {
      assertRunning('registry');
      return httpOk(`http://${registry}/v2/`);
    },
    30_000,
    () => exited('registry'),
  );
  const images = await pushNodeImages(
    state.dir,
    { containerdDir: parts.containerd, debianDir: parts.debian },
    registry,
  );
  log(`registry ${registry}: pushed ${images.pause}, ${images.busybox}`);

  state.node = { name: REAL_NODE_NAME, registry, cgroupRoot, images, ports, parts };
  await writeState(state);

  // ---- files ----
  for (const d of [
    layout.containerdRoot,
    layout.containerdState,
    layout.cniConfDir,
    layout.cniIpamDir,
    layout.kubeletRoot,
    layout.podLogs,
  ])
    mkdirSync(d, { recursive: true, mode: 0o700 });
  trustRegistry(state.dir, registry);
  writeFileSync(
    layout.containerdConfig,
    containerdConfig({
      layout,
      runcPath: join(parts.debian, 'bin', 'runc'),
      cniBinDir: join(parts.debian, 'root', 'usr', 'lib', 'cni'),
      sandboxImage: images.pause,
    }),
  );
  writeFileSync(join(layout.cniConfDir, '10-modelgate.conflist'), cniConfig(layout));
  writeFileSync(layout.resolvConf, '');

  const ca = await loadCertificateAuthority(
    readFileSync(state.caCertPath, 'utf8'),
    readFileSync(state.caKeyPath, 'utf8'),
  );
  const pki = join(layout.root, 'pki');
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const kubeletClient = await issueCertificate(ca, {
    commonName: `system:node:${REAL_NODE_NAME}`,
    organizations: ['system:nodes'],
    usage: 'client',
  });
  const kubeletServing = await issueCertificate(ca, {
    commonName: REAL_NODE_NAME,
    hosts: [nodeNetwork.nodeIp, REAL_NODE_NAME],
    usage: 'server',
  });
  const kubeProxyClient = await issueCertificate(ca, { commonName: 'system:kube-proxy', usage: 'client' });
  writeFileSync(join(pki, 'kubelet.crt'), kubeletServing.certPem);
  writeFileSync(join(pki, 'kubelet.key'), kubeletServing.keyPem, { mode: 0o600 });
  const kubeletKubeconfig = join(layout.root, 'kubeconfig-kubelet');
  const kubeProxyKubeconfig = join(layout.root, 'kubeconfig-kube-proxy');
  writeFileSync(
    kubeletKubeconfig,
    kubeconfigYaml(state.server, ca.certPem, kubeletClient, `system:node:${REAL_NODE_NAME}`),
    { mode: 0o600 },
  );
  writeFileSync(
    kubeProxyKubeconfig,
    kubeconfigYaml(state.server, ca.certPem, kubeProxyClient, 'system:kube-proxy'),
    { mode: 0o600 },
  );
  writeFileSync(
    layout.kubeletConfig,
    kubeletConfig({
      layout,
      caCertPath: state.caCertPath,
      tlsCertPath: join(pki, 'kubelet.crt'),
      tlsKeyPath: join(pki, 'kubelet.key'),
      cgroupRoot,
      port: ports.kubelet,
      healthzPort: ports.kubeletHealthz,
    }),
  );
  writeFileSync(
    layout.kubeProxyConfig,
    kubeProxyConfig({
      layout,
      kubeconfigPath: kubeProxyKubeconfig,
      healthzPort: ports.kubeProxyHealthz,
      metricsPort: ports.kubeProxyMetrics,
    }),
  );

  // ---- host resources: mount namespace, cgroup root, sysctl record ----
  // The clone too: a pod's hostPath into it (the cleanup test's) must see the host's files.
  createNodeMntns(state.dir, layout.privateDirs, [
    repoRoot,
    state.dir,
    parts.kubelet,
    parts.containerd,
    parts.debian,
  ]);
  createCgroupRoot(cgroupRoot);
  recordSysctls(
    sysctlRecord(state.dir),
    otherRunDirs(state.dir).map((d) => sysctlRecord(d)),
  );
  const inNode = inNamespaces(state.dir, { mount: true });
  const nodeEnv: NodeJS.ProcessEnv = {
    PATH: `${join(parts.debian, 'bin')}:${join(parts.containerd, 'bin')}:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: layout.root,
  };

  // ---- containerd ----
  const containerdPid = await launchProcess(
    state,
    'containerd',
    [
      ...inNode,
      join(parts.containerd, 'bin', 'containerd'),
      `--config=${layout.containerdConfig}`,
      '--log-level=warn',
    ],
    log,
    nodeEnv,
  );
  moveIntoCgroup(containerdPid, cgroupRoot, 'daemons');
  await waitFor(
    'containerd',
    async () => {
      assertRunning('containerd');
      return existsSync(layout.containerdSocket);
    },
    60_000,
    () => exited('containerd'),
  );

  // ---- kubelet ----
  const kubeletPid = await launchProcess(
    state,
    'kubelet',
    [
      ...inNode,
      join(parts.kubelet, 'bin', 'kubelet'),
      `--config=${layout.kubeletConfig}`,
      `--kubeconfig=${kubeletKubeconfig}`,
      `--root-dir=${layout.kubeletRoot}`,
      `--cert-dir=${pki}`,
      `--hostname-override=${REAL_NODE_NAME}`,
      `--node-ip=${nodeNetwork.nodeIp}`,
      '--node-labels=modelgate.io/real-node=true',
      '--v=1',
    ],
    log,
    nodeEnv,
  );
  moveIntoCgroup(kubeletPid, cgroupRoot, 'daemons');
  const kubectl = kubectlFor(state);
  await waitFor(
    `node ${REAL_NODE_NAME} Ready`,
    async () => {
      assertRunning('kubelet');
      const r = await kubectl([
        'get',
        'node',
        REAL_NODE_NAME,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return r.code === 0 && r.stdout === 'True';
    },
    120_000,
    () => exited('kubelet'),
  );
  const untaint = await kubectl([
    'taint',
    'node',
    REAL_NODE_NAME,
    'node.kubernetes.io/not-ready:NoSchedule-',
  ]);
  if (untaint.code !== 0 && !/not found/.test(untaint.stderr))
    throw new Error(`removing the not-ready taint from ${REAL_NODE_NAME}: ${untaint.stderr.trim()}`);

  // ---- kube-proxy ----
  const kubeProxyPid = await launchProcess(
    state,
    'kube-proxy',
    [...inNode, join(parts.kubelet, 'bin', 'kube-proxy'), `--config=${layout.kubeProxyConfig}`, '--v=1'],
    log,
    nodeEnv,
  );
  moveIntoCgroup(kubeProxyPid, cgroupRoot, 'daemons');
  await waitFor(
    'kube-proxy /healthz',
    async () => {
      assertRunning('kube-proxy');
      return httpOk(`http://127.0.0.1:${ports.kubeProxyHealthz}/healthz`);
    },
    60_000,
    () => exited('kube-proxy'),
  );
  await mustKubectl(kubectl, ['get', 'node', REAL_NODE_NAME]);
  log(`real node ${REAL_NODE_NAME} Ready (${nodeNetwork.nodeIp}; registry ${registry})`);
}

// ---------- teardown ----------

/** The node's processes: in its mount namespace, in its cgroup tree, or running one of its binaries
 *  with the run directory on the command line (also after a crash that lost the namespace file). */
function nodeProcesses(
  runDir: string,
  cgroupRoot: string,
): { daemons: Map<string, number[]>; containers: number[] } {
  const mnt = namespaceId(mntnsFile(runDir), 'mnt');
  const spare = selfAndAncestors();
  const inTree = new Set(pidsInCgroupTree(cgroupRoot));
  const daemons = new Map<string, number[]>();
  const containers: number[] = [];
  for (const p of listProcesses()) {
    if (spare.has(p.pid)) continue;
    const exe = (p.cmdline.split(' ')[0] ?? '').split('/').pop() ?? '';
    const named =
      p.cmdline.includes(`${runDir}/`) &&
      ['containerd', 'containerd-shim-runc-v2', 'kubelet', 'kube-proxy'].includes(exe);
    const inMnt = mnt !== undefined && p.mntns === mnt;
    if (named || inMnt) daemons.set(exe, [...(daemons.get(exe) ?? []), p.pid]);
    else if (inTree.has(p.pid)) containers.push(p.pid);
  }
  return { daemons, containers };
}

/** Unmounts everything under the run directory inside the node's mount namespace, deepest first. */
function unmountNodeMounts(runDir: string, privateTargets: string[], log: (line: string) => void): void {
  const file = mntnsFile(runDir);
  if (!namespaceId(file, 'mnt')) return;
  const table = parseMountInfo(sh('nsenter', [`--mount=${file}`, '--', 'cat', '/proc/self/mountinfo']));
  const targets = [
    ...mountsUnder(table, runDir),
    ...privateTargets.filter((t) => table.some((m) => m.mountPoint === t)),
  ];
  if (targets.length) log(`unmounting ${targets.length} mounts in the node's mount namespace`);
  for (const target of targets) {
    const plain = spawnSync('nsenter', [`--mount=${file}`, '--', 'umount', target], { encoding: 'utf8' });
    if (plain.status !== 0) {
      const lazy = spawnSync('nsenter', [`--mount=${file}`, '--', 'umount', '-l', target], {
        encoding: 'utf8',
      });
      if (lazy.status !== 0 && !/not mounted|no mount point/.test(lazy.stderr))
        throw new Error(`cannot unmount ${target} in the node's mount namespace: ${lazy.stderr.trim()}`);
    }
  }
}

/**
 * Stops the node of the run in `runDir` (also what a crashed run left): kubelet first (so nothing is
 * restarted), then every container process in the node's cgroup tree, containerd, its shims and
 * kube-proxy; then unmounts inside the node's mount namespace, removes the cgroup tree and restores the
 * kubelet's sysctls. The namespace files themselves are released by the caller, with the rest of the run.
 */
export async function stopNode(runDir: string, log: (line: string) => void): Promise<void> {
  const cgroupRoot = cgroupRootName(runId(runDir));
  let procs = nodeProcesses(runDir, cgroupRoot);
  await stopProcesses(procs.daemons.get('kubelet') ?? [], log, 'the kubelet', 10_000);
  procs = nodeProcesses(runDir, cgroupRoot);
  await stopProcesses(procs.containers, log, 'container processes', 0);
  await stopProcesses(
    [...(procs.daemons.get('containerd') ?? []), ...(procs.daemons.get('kube-proxy') ?? [])],
    log,
    'containerd and kube-proxy',
    10_000,
  );
  procs = nodeProcesses(runDir, cgroupRoot);
  await stopProcesses(
    [...procs.daemons.values()].flat().concat(procs.containers),
    log,
    'the remaining node processes',
    0,
  );
  unmountNodeMounts(
    runDir,
    nodeLayout(runDir).privateDirs.map((d) => d.target),
    log,
  );
  const left = removeCgroupTree(cgroupRoot);
  if (left.length) throw new Error(`cgroups still in use after the node stopped: ${left.join(', ')}`);
  const others = otherRunDirs(runDir);
  const restored = restoreSysctls(sysctlRecord(runDir), others.length > 0);
  if (restored.length) log(`restored sysctls changed by the kubelet: ${restored.join(', ')}`);
  if (others.length)
    log(
      `left the kubelet's sysctls to the other running cluster(s), which restore them: ${others.join(', ')}`,
    );
}

/** Run directories of other local clusters whose kubelet is running (found by its --root-dir). */
export function otherRunDirs(runDir: string): string[] {
  const dirs = new Set<string>();
  for (const p of listProcesses()) {
    const argv = p.cmdline.split(' ');
    if ((argv[0] ?? '').split('/').pop() !== 'kubelet') continue;
    const root = argv.find((a) => a.startsWith('--root-dir='))?.slice('--root-dir='.length);
    const m = root ? /^(.*)\/node\/kubelet$/.exec(root) : null;
    if (m?.[1] && m[1] !== runDir) dirs.add(m[1]);
  }
  return [...dirs].sort();
}

/** Mount points under `dir` in this process's mount namespace (the host's, for `cluster:down`). */
export function hostMountsUnder(dir: string): string[] {
  return mountsUnder(readMountInfo(), dir);
}
