// The local cluster: etcd, kube-apiserver, kube-controller-manager and kube-scheduler, built from source
// by scripts/cluster/build.sh, three fake Nodes, and one real node (node/node.ts: a registry, containerd,
// runc, the kubelet and kube-proxy), all inside a network namespace the run creates (node/namespaces.ts).
//
// Everything a run creates lives under one directory (default .cache/cluster/):
// ns/, pki/, etcd/, logs/, node/, registry/, the kubeconfigs and state.json (ports, pids). A run that
// crashed leaves that directory behind; the next start or stop finds its processes by the recorded pids,
// by their command lines (every component's arguments name the directory), by namespace and by cgroup,
// kills them, unmounts what the node mounted and removes the directory.
//
// Fake Nodes stay Ready because kube-controller-manager runs without its node-lifecycle controller
// (--controllers=*,-node-lifecycle-controller): nothing ever marks them NotReady or taints them
// unreachable, so no heartbeat process is needed (baseline.ts lifts the not-ready taint that controller
// would). Pods bound to them never run; pods on the real node do.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, statSync, writeSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile, readdir, unlink } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ensureBaseline } from './baseline.ts';
import { ComponentExited, waitFor } from './exec.ts';
import { nodeNetwork } from './node/config.ts';
import { insideRunNetns, namespaceId, netnsFile, nsDir, removeNamespaceFiles } from './node/namespaces.ts';
import { ensureNodeParts, hostMountsUnder, startNode, stopNode } from './node/node.ts';
import { cmdline, listProcesses, pidAlive, selfAndAncestors, stopProcesses } from './node/proc.ts';
import { kubeconfigYaml } from './kubeconfig.ts';
import { freePort } from './ports.ts';
import { createCertificateAuthority, createServiceAccountKey, issueCertificate } from './pki.ts';
import {
  controlPlaneComponents,
  launchProcess,
  nodeComponents,
  logFile,
  readState as readStateIn,
  runBinaries,
  tail,
  writeState,
  type ClusterState,
  type Component,
  type NodeParts,
} from './state.ts';

export { applyCrds, ensureBaseline, fakeNodes, teeRuntimeClasses, type FakeNode } from './baseline.ts';
export { kubectlFor, run, type ExecResult, type KubectlTarget } from './exec.ts';
export { REAL_NODE_LABEL, REAL_NODE_NAME, REAL_NODE_TAINT, nodeNetwork } from './node/config.ts';
export { insideRunNetns, netnsFile } from './node/namespaces.ts';
export type { ClusterState, Component, NodeState } from './state.ts';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** .cache/cluster, or the run directory netns-run.ts was given (MODELGATE_CLUSTER_DIR). */
export const defaultClusterDir = process.env.MODELGATE_CLUSTER_DIR
  ? resolve(process.env.MODELGATE_CLUSTER_DIR)
  : join(repoRoot, '.cache', 'cluster');

const components = controlPlaneComponents;
const podReaperScript = join(dirname(fileURLToPath(import.meta.url)), 'pod-reaper.ts');

export interface StartOptions {
  /** State directory; default .cache/cluster in the repo. */
  dir?: string;
  /** Directory with the binaries; default: whatever scripts/cluster/build.sh builds or reuses. */
  binDir?: string;
  /** Progress lines; default console.error. */
  log?: (line: string) => void;
  /** The real node's parts; default: whatever scripts/cluster/node/build.sh builds or reuses. */
  nodeParts?: NodeParts;
}

const defaultLog = (line: string): void => console.error(`[cluster] ${line}`);

/** Runs scripts/cluster/build.sh (which reuses its cache when present) and returns the bin directory. */
export function ensureBinaries(log: (line: string) => void = defaultLog): string {
  const fromEnv = process.env.MODELGATE_K8S_BIN;
  if (fromEnv) return fromEnv;
  log('locating binaries (scripts/cluster/build.sh; the first build takes many minutes)');
  const result = spawnSync(join(repoRoot, 'scripts', 'cluster', 'build.sh'), [], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`scripts/cluster/build.sh failed (exit ${String(result.status)})`);
  const binDir = result.stdout.trim().split('\n').pop() ?? '';
  if (!existsSync(join(binDir, 'kube-apiserver')))
    throw new Error(`build.sh printed no usable bin directory: ${binDir}`);
  return binDir;
}

/** Processes whose command line names the cluster directory: ours, from this or an earlier run. */
function processesUsing(dir: string): number[] {
  const needle = `${dir}/`;
  const pids: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const line = cmdline(pid);
    // Only the run's binaries and the pod reaper: never a shell or editor that mentions the path.
    const exe = line.split(' ')[0] ?? '';
    const base = exe.split('/').pop() ?? '';
    const ours = runBinaries.includes(base) || line.includes(podReaperScript);
    if (line.includes(needle) && ours) pids.push(pid);
  }
  return pids;
}

export async function readState(dir: string = defaultClusterDir): Promise<ClusterState | undefined> {
  return readStateIn(dir);
}

/**
 * Stops every process of the cluster in `dir` (also those of a crashed run), unmounts what its node
 * mounted, removes its cgroups, restores the kubelet's sysctls, releases its namespaces and deletes the
 * directory. keepNetns: keep the run's network namespace (and ns/) because the caller runs inside it and
 * is about to start a new cluster there.
 */
export async function stopCluster(
  options: { dir?: string; log?: (line: string) => void; keepNetns?: boolean } = {},
): Promise<void> {
  const dir = resolve(options.dir ?? defaultClusterDir);
  const log = options.log ?? defaultLog;
  if (!existsSync(dir)) return;
  await stopNode(dir, log);
  const state = await readState(dir);
  const recorded = Object.values(state?.pids ?? {}).filter((pid): pid is number => {
    // A recorded pid counts only while it still runs one of our commands: pids get reused.
    return typeof pid === 'number' && cmdline(pid).includes(`${dir}/`);
  });
  const all = [...new Set([...recorded, ...processesUsing(dir)])];
  // etcd last, so the API server and controllers shut down against a live store.
  const isEtcd = (pid: number): boolean => (cmdline(pid).split(' ')[0] ?? '').endsWith('/etcd');
  await stopProcesses(
    all.filter((pid) => !isEtcd(pid)),
    log,
    'the control plane, the registry and the pod reaper',
    15_000,
  );
  await stopProcesses(all.filter(isEtcd), log, 'etcd', 15_000);
  if (!options.keepNetns) {
    // Anything else still in the run's network namespace (a shell from cluster:exec, a process a
    // crashed test left behind) would keep it alive unseen: stop it. From inside the namespace (a test
    // run's teardown) the rest is the caller's own process tree, and the namespace ends with it.
    const netns = namespaceId(netnsFile(dir), 'net');
    if (netns && !insideRunNetns(dir)) {
      const spare = selfAndAncestors();
      await stopProcesses(
        listProcesses()
          .filter((p) => p.netns === netns && !spare.has(p.pid))
          .map((p) => p.pid),
        log,
        "what else was left in the cluster's network namespace",
        15_000,
      );
    }
    removeNamespaceFiles(dir);
  }
  const mounted = hostMountsUnder(dir).filter((m) => !(options.keepNetns && m.startsWith(nsDir(dir))));
  if (mounted.length)
    throw new Error(
      `refusing to delete ${dir}: still mounted there: ${mounted.join(', ')} (unmount them, then run npm run cluster:down again)`,
    );
  // --one-file-system: even a mount that appeared since the check above is never descended into.
  const targets = options.keepNetns
    ? readdirSync(dir)
        .filter((e) => e !== 'ns')
        .map((e) => join(dir, e))
    : [dir];
  if (targets.length) {
    const rmResult = spawnSync('rm', ['-rf', '--one-file-system', ...targets], { encoding: 'utf8' });
    if (rmResult.status !== 0) throw new Error(`removing ${dir} failed: ${rmResult.stderr.trim()}`);
  }
}

// ---------- HTTP checks ----------

interface TlsClient {
  ca: string;
  cert: string;
  key: string;
}

async function httpsGet(
  url: string,
  tls: TlsClient | { insecure: true },
  timeoutMs = 5_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request(
      url,
      'insecure' in tls ? { rejectUnauthorized: false, timeout: timeoutMs } : { ...tls, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function httpGet(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  return res.status;
}

// ---------- health ----------

function adminTls(dir: string): TlsClient {
  return {
    ca: readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'),
    cert: readFileSync(join(dir, 'pki', 'admin.crt'), 'utf8'),
    key: readFileSync(join(dir, 'pki', 'admin.key'), 'utf8'),
  };
}

/** The run's state when every process of the cluster in `dir` (control plane and real node) still runs;
 *  needs no network, so it works from outside the run's network namespace too. */
export async function clusterProcessesAlive(
  dir: string = defaultClusterDir,
): Promise<ClusterState | undefined> {
  const state = await readState(resolve(dir));
  if (!state?.node) return undefined;
  for (const c of [...components, ...nodeComponents]) {
    const pid = state.pids[c];
    if (pid === undefined || !pidAlive(pid) || !cmdline(pid).includes(`${state.dir}/`)) return undefined;
  }
  return namespaceId(netnsFile(state.dir), 'net') ? state : undefined;
}

/** True when every process of the cluster in `dir` runs and the API server is ready. Only meaningful
 *  inside the run's network namespace (the API server listens there). */
export async function clusterHealthy(dir: string = defaultClusterDir): Promise<ClusterState | undefined> {
  const state = await clusterProcessesAlive(dir);
  if (!state || !insideRunNetns(state.dir)) return undefined;
  try {
    const res = await httpsGet(`${state.server}/readyz`, adminTls(state.dir), 3_000);
    return res.status === 200 ? state : undefined;
  } catch {
    return undefined;
  }
}

// ---------- start ----------

async function writePrivate(path: string, content: string): Promise<void> {
  await writeFile(path, content, { mode: 0o600 });
}

async function launchComponent(
  state: ClusterState,
  component: Component,
  args: string[],
  log: (line: string) => void,
): Promise<void> {
  const argv =
    component === 'pod-reaper'
      ? [process.execPath, '--import', 'tsx', podReaperScript, ...args]
      : [join(state.binDir, component), ...args];
  await launchProcess(state, component, argv, log);
}

/**
 * Starts the pod reaper (pod-reaper.ts: completes pod deletions, the kubelet's part)
 * unless it already runs. startCluster calls it; so do the reuse paths, which also
 * covers clusters started before the reaper existed.
 */
export async function ensurePodReaper(
  state: ClusterState,
  log: (line: string) => void = defaultLog,
): Promise<void> {
  const pid = state.pids['pod-reaper'];
  if (pid !== undefined && pidAlive(pid) && cmdline(pid).includes(podReaperScript)) return;
  await launchComponent(state, 'pod-reaper', [state.kubeconfigPath], log);
}

/**
 * Starts a fresh cluster in `dir`, replacing whatever ran there before.
 * Resolves once the API server is ready, the controller manager and scheduler are
 * healthy, and nodes, RuntimeClasses and the CRDs in crds/ are in place.
 */
export async function startCluster(options: StartOptions = {}): Promise<ClusterState> {
  const dir = resolve(options.dir ?? defaultClusterDir);
  const log = options.log ?? defaultLog;
  const t0 = Date.now();
  if (!insideRunNetns(dir))
    throw new Error(
      `the cluster in ${dir} must be started inside its own network namespace: run it through scripts/cluster/netns-run.ts (npm run cluster:up, npm run test:e2e, npm run demo do)`,
    );
  const binDir = options.binDir ?? ensureBinaries(log);
  const nodeParts = options.nodeParts ?? ensureNodeParts(repoRoot, log);

  if (readdirSync(dir).some((e) => e !== 'ns')) {
    log(`cleaning up earlier run in ${dir}`);
    await stopCluster({ dir, log, keepNetns: true });
  }
  const pki = join(dir, 'pki');
  const logs = join(dir, 'logs');
  for (const d of [pki, logs, join(dir, 'etcd'), join(dir, 'run')])
    await mkdir(d, { recursive: true, mode: 0o700 });

  const ports = {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiserver: await freePort(),
    controllerManager: await freePort(),
    scheduler: await freePort(),
  };
  const server = `https://127.0.0.1:${ports.apiserver}`;

  log('generating certificates');
  const ca = await createCertificateAuthority('modelgate-local-ca');
  const apiserverCert = await issueCertificate(ca, {
    commonName: 'kube-apiserver',
    usage: 'server',
    hosts: [
      '127.0.0.1',
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
      nodeNetwork.kubernetesServiceIp,
      nodeNetwork.nodeIp,
    ],
  });
  // The API server's client certificate for kubelets (logs, exec, port-forward).
  const kubeletClient = await issueCertificate(ca, {
    commonName: 'kube-apiserver-kubelet-client',
    organizations: ['system:masters'],
    usage: 'client',
  });
  const admin = await issueCertificate(ca, {
    commonName: 'modelgate-admin',
    organizations: ['system:masters'],
    usage: 'client',
  });
  const kcm = await issueCertificate(ca, { commonName: 'system:kube-controller-manager', usage: 'client' });
  const scheduler = await issueCertificate(ca, { commonName: 'system:kube-scheduler', usage: 'client' });
  // A separate CA for the aggregation layer (front proxy), as kubeadm sets it up: the
  // delegated authenticators of the controller manager and scheduler expect it.
  const frontProxyCa = await createCertificateAuthority('modelgate-local-front-proxy-ca');
  const frontProxyClient = await issueCertificate(frontProxyCa, {
    commonName: 'front-proxy-client',
    usage: 'client',
  });
  const sa = await createServiceAccountKey();
  const files: Record<string, string> = {
    'ca.crt': ca.certPem,
    'ca.key': ca.keyPem,
    'apiserver.crt': apiserverCert.certPem,
    'apiserver.key': apiserverCert.keyPem,
    'admin.crt': admin.certPem,
    'admin.key': admin.keyPem,
    'apiserver-kubelet-client.crt': kubeletClient.certPem,
    'apiserver-kubelet-client.key': kubeletClient.keyPem,
    'front-proxy-ca.crt': frontProxyCa.certPem,
    'front-proxy-client.crt': frontProxyClient.certPem,
    'front-proxy-client.key': frontProxyClient.keyPem,
    'sa.key': sa.privateKeyPem,
    'sa.pub': sa.publicKeyPem,
  };
  for (const [name, content] of Object.entries(files)) await writePrivate(join(pki, name), content);
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writePrivate(kubeconfigPath, kubeconfigYaml(server, ca.certPem, admin, 'modelgate-admin'));
  await writePrivate(
    join(dir, 'kubeconfig-controller-manager'),
    kubeconfigYaml(server, ca.certPem, kcm, 'system:kube-controller-manager'),
  );
  await writePrivate(
    join(dir, 'kubeconfig-scheduler'),
    kubeconfigYaml(server, ca.certPem, scheduler, 'system:kube-scheduler'),
  );

  const state: ClusterState = {
    version: 2,
    dir,
    binDir,
    server,
    kubeconfigPath,
    caCertPath: join(pki, 'ca.crt'),
    caKeyPath: join(pki, 'ca.key'),
    ports,
    pids: {},
    startedAt: new Date().toISOString(),
  };
  await writeState(state);

  const launch = (component: Component, args: string[]): Promise<void> =>
    launchComponent(state, component, args, log);
  const exitedEarly = (component: Component): string => {
    const pid = state.pids[component];
    const status = pid !== undefined && pidAlive(pid) ? 'still running' : 'exited';
    return `${component} ${status}; last lines of its log:\n${tail(logFile(state, component))}`;
  };
  const assertRunning = (component: Component): void => {
    const pid = state.pids[component];
    if (pid === undefined || !pidAlive(pid)) throw new ComponentExited(exitedEarly(component));
  };

  try {
    const etcdClientUrl = `http://127.0.0.1:${ports.etcdClient}`;
    const etcdPeerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    await launch('etcd', [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdClientUrl}`,
      `--advertise-client-urls=${etcdClientUrl}`,
      `--listen-peer-urls=${etcdPeerUrl}`,
      `--initial-advertise-peer-urls=${etcdPeerUrl}`,
      `--initial-cluster=default=${etcdPeerUrl}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    await waitFor(
      'etcd /health',
      async () => {
        assertRunning('etcd');
        return (await httpGet(`${etcdClientUrl}/health`)) === 200;
      },
      30_000,
      () => exitedEarly('etcd'),
    );

    await launch('kube-apiserver', [
      `--etcd-servers=${etcdClientUrl}`,
      // Inside the run's network namespace: loopback for the components and tests, the node address
      // for pods (through the kubernetes Service, which kube-proxy maps to the advertise address).
      '--bind-address=0.0.0.0',
      `--advertise-address=${nodeNetwork.nodeIp}`,
      `--secure-port=${ports.apiserver}`,
      `--cert-dir=${join(dir, 'run', 'kube-apiserver')}`,
      `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
      `--client-ca-file=${join(pki, 'ca.crt')}`,
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      `--service-cluster-ip-range=${nodeNetwork.serviceCidr}`,
      `--kubelet-client-certificate=${join(pki, 'apiserver-kubelet-client.crt')}`,
      `--kubelet-client-key=${join(pki, 'apiserver-kubelet-client.key')}`,
      '--kubelet-preferred-address-types=InternalIP',
      // Webhooks and aggregated APIs behind a Service are called at an endpoint's address, so the
      // chart's Service-based webhook configuration works without the API server needing kube-proxy.
      '--enable-aggregator-routing=true',
      `--requestheader-client-ca-file=${join(pki, 'front-proxy-ca.crt')}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${join(pki, 'front-proxy-client.crt')}`,
      `--proxy-client-key-file=${join(pki, 'front-proxy-client.key')}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      // The lease reconciler keeps the kubernetes Service's endpoints at the advertise address.
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '-v=1',
    ]);
    const tls = adminTls(dir);
    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        assertRunning('kube-apiserver');
        return (await httpsGet(`${server}/readyz`, tls)).status === 200;
      },
      120_000,
      () => exitedEarly('kube-apiserver'),
    );
    log(`kube-apiserver ready at ${server} after ${((Date.now() - t0) / 1000).toFixed(1)}s`);

    const kcmKubeconfig = join(dir, 'kubeconfig-controller-manager');
    await launch('kube-controller-manager', [
      `--kubeconfig=${kcmKubeconfig}`,
      `--authentication-kubeconfig=${kcmKubeconfig}`,
      `--authorization-kubeconfig=${kcmKubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      `--cert-dir=${join(dir, 'run', 'kube-controller-manager')}`,
      `--service-account-private-key-file=${join(pki, 'sa.key')}`,
      `--root-ca-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-cert-file=${join(pki, 'ca.crt')}`,
      `--cluster-signing-key-file=${join(pki, 'ca.key')}`,
      '--use-service-account-credentials=true',
      // Fake nodes have no kubelet heartbeat; without this controller they stay Ready.
      '--controllers=*,-node-lifecycle-controller',
      '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
      '-v=1',
    ]);
    const schedulerKubeconfig = join(dir, 'kubeconfig-scheduler');
    await launch('kube-scheduler', [
      `--kubeconfig=${schedulerKubeconfig}`,
      `--authentication-kubeconfig=${schedulerKubeconfig}`,
      `--authorization-kubeconfig=${schedulerKubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      `--cert-dir=${join(dir, 'run', 'kube-scheduler')}`,
      '--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics',
      '-v=1',
    ]);
    for (const [component, port] of [
      ['kube-controller-manager', ports.controllerManager],
      ['kube-scheduler', ports.scheduler],
    ] as const) {
      await waitFor(
        `${component} /healthz`,
        async () => {
          assertRunning(component);
          return (await httpsGet(`https://127.0.0.1:${port}/healthz`, { insecure: true })).status === 200;
        },
        60_000,
        () => exitedEarly(component),
      );
    }

    await ensureBaseline(state, log);
    await startNode(state, nodeParts, log);
    await ensurePodReaper(state, log);
    log(`cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)}s; kubeconfig: ${kubeconfigPath}`);
    return state;
  } catch (error) {
    log(`startup failed; stopping what was started (logs copied to ${dir}-failed/)`);
    await preserveLogs(dir);
    await stopCluster({ dir, log, keepNetns: true });
    throw error;
  }
}

async function preserveLogs(dir: string): Promise<void> {
  const target = `${dir}-failed`;
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  for (const name of await readdir(join(dir, 'logs')).catch(() => [] as string[])) {
    await writeFile(join(target, name), await readFile(join(dir, 'logs', name)));
  }
}

/**
 * Serialises start/stop between processes (a test run and `npm run cluster:up`).
 * A lock whose holder died is taken over.
 */
export async function withClusterLock<T>(
  fn: () => Promise<T>,
  dir: string = defaultClusterDir,
  timeoutMs = 45 * 60_000,
): Promise<T> {
  // <run dir>.lock: .cache/cluster.lock for the default cluster.
  const lockPath = `${resolve(dir)}.lock`;
  await mkdir(dirname(lockPath), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSafe(lockPath), 10);
      const stale = Number.isFinite(holder) ? !pidAlive(holder) : Date.now() - mtimeMs(lockPath) > 10_000;
      if (stale) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`cluster lock ${lockPath} held by pid ${holder} for too long`);
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function mtimeMs(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
