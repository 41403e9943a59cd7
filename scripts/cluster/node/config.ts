// The real node's configuration files, as pure functions of its layout: containerd's config.toml, the CNI
// network, the kubelet's and kube-proxy's configuration files. Every path a component would write to by
// default is set to a place under the run directory (docs/development.md, "The real node").
import { join } from 'node:path';
import yaml from 'js-yaml';

/** Addresses inside the run's own network namespace (nothing here is routed anywhere else). */
export const nodeNetwork = {
  /** The CNI bridge; its address is also the node's InternalIP, the API server's advertise address and
   *  the registry's address, so pods reach all three through their default route. */
  bridge: 'mg-cni0',
  nodeIp: '10.244.0.1',
  podCidr: '10.244.0.0/24',
  podRangeStart: '10.244.0.10',
  podRangeEnd: '10.244.0.250',
  serviceCidr: '10.96.0.0/16',
  /** The `kubernetes` Service's ClusterIP (first address of the service range). */
  kubernetesServiceIp: '10.96.0.1',
} as const;

export const REAL_NODE_NAME = 'mg-node-0';
/** Every pod a test means to run on the real node tolerates this taint and selects this label. */
export const REAL_NODE_TAINT = {
  key: 'modelgate.io/real-node',
  value: 'true',
  effect: 'NoSchedule',
} as const;
export const REAL_NODE_LABEL = { key: 'modelgate.io/real-node', value: 'true' } as const;

/** Where the node keeps its state, all under `<run dir>/node`. */
export interface NodeLayout {
  root: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  containerdConfig: string;
  certsDir: string;
  cniConfDir: string;
  cniIpamDir: string;
  kubeletRoot: string;
  kubeletConfig: string;
  podLogs: string;
  resolvConf: string;
  kubeProxyConfig: string;
  /** Directories bind-mounted over /run, /var/lib and /var/log in the node's mount namespace, so that even
   *  the paths no component lets us configure (/var/lib/cni, /var/lib/kubelet/device-plugins,
   *  /var/log/containers, /var/log/pods, /run/xtables.lock, containerd's shim sockets under
   *  /run/containerd/s) land in the run directory. (/tmp is the host's: nothing of the node writes there.) */
  privateDirs: { target: string; source: string }[];
}

export function nodeLayout(runDir: string): NodeLayout {
  const root = join(runDir, 'node');
  const c = join(root, 'containerd');
  return {
    root,
    containerdRoot: join(c, 'root'),
    containerdState: join(c, 'state'),
    containerdSocket: join(c, 'containerd.sock'),
    containerdConfig: join(c, 'config.toml'),
    certsDir: join(c, 'certs.d'),
    cniConfDir: join(root, 'cni', 'net.d'),
    cniIpamDir: join(root, 'cni', 'ipam'),
    kubeletRoot: join(root, 'kubelet'),
    kubeletConfig: join(root, 'kubelet-config.yaml'),
    podLogs: join(root, 'pod-logs'),
    resolvConf: join(root, 'resolv.conf'),
    kubeProxyConfig: join(root, 'kube-proxy-config.yaml'),
    privateDirs: ['/run', '/var/lib', '/var/log'].map((target) => ({
      target,
      source: join(root, 'private', target.slice(1).replaceAll('/', '-')),
    })),
  };
}

const toml = (s: string): string => JSON.stringify(s);

export interface ContainerdInput {
  layout: NodeLayout;
  /** Directory holding runc (Debian package, unpacked). */
  runcPath: string;
  cniBinDir: string;
  /** The sandbox ("pause") image, by digest, in the local registry. */
  sandboxImage: string;
}

/**
 * containerd 2.x (config version 3). restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so runc
 * cannot lower a sandbox's oom_score_adj to the kubelet's -998 and every sandbox would fail. NRI is off
 * (its socket would live in /var/run/nri); network namespaces are mounted under the state directory.
 */
export function containerdConfig(input: ContainerdInput): string {
  const { layout } = input;
  return `version = 3
root = ${toml(layout.containerdRoot)}
state = ${toml(layout.containerdState)}
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${toml(layout.containerdSocket)}

[ttrpc]
  address = ""

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = ${toml(join(layout.containerdRoot, 'opt'))}

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = ${toml(input.sandboxImage)}
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = ${toml(layout.certsDir)}

[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_cdi = false
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = ${toml(input.runcPath)}
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = [${toml(input.cniBinDir)}]
    conf_dir = ${toml(layout.cniConfDir)}
    max_conf_num = 1
`;
}

/** containerd pulls from the local registry over plain HTTP (certs.d/<host:port>/hosts.toml). */
export function registryHostsToml(registry: string): string {
  return `server = ${toml(`http://${registry}`)}

[host.${toml(`http://${registry}`)}]
  capabilities = ["pull", "resolve"]
`;
}

/** One bridge network for the node's pods; the bridge's address is the gateway and the node IP. No
 *  masquerading: nothing leaves the run's network namespace. */
export function cniConfig(layout: NodeLayout): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'modelgate-local',
      plugins: [
        {
          type: 'bridge',
          bridge: nodeNetwork.bridge,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            dataDir: layout.cniIpamDir,
            ranges: [
              [
                {
                  subnet: nodeNetwork.podCidr,
                  rangeStart: nodeNetwork.podRangeStart,
                  rangeEnd: nodeNetwork.podRangeEnd,
                  gateway: nodeNetwork.nodeIp,
                },
              ],
            ],
            routes: [{ dst: '0.0.0.0/0' }],
          },
        },
        { type: 'loopback' },
      ],
    },
    null,
    2,
  )}\n`;
}

export interface KubeletInput {
  layout: NodeLayout;
  caCertPath: string;
  tlsCertPath: string;
  tlsKeyPath: string;
  cgroupRoot: string;
  port: number;
  healthzPort: number;
}

/**
 * The kubelet on this machine kind: cgroup v1 hierarchies (failCgroupV1: false), its own cgroup root,
 * no iptables chains in the namespace's tables (makeIPTablesUtilChains: false), eviction and image GC
 * thresholds that a shared development disk never trips, no DNS server (pods get an empty resolv.conf).
 * protectKernelDefaults stays false: the kubelet then sets a few global sysctls, which the node records
 * before it starts and restores when it stops (sysctls.ts).
 */
export function kubeletConfig(input: KubeletInput): string {
  return yaml.dump({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: nodeNetwork.nodeIp,
    port: input.port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: input.healthzPort,
    tlsCertFile: input.tlsCertPath,
    tlsPrivateKeyFile: input.tlsKeyPath,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: input.caCertPath },
    },
    authorization: { mode: 'Webhook' },
    cgroupDriver: 'cgroupfs',
    cgroupRoot: input.cgroupRoot,
    cgroupsPerQOS: true,
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${input.layout.containerdSocket}`,
    podLogsDirectory: input.layout.podLogs,
    makeIPTablesUtilChains: false,
    protectKernelDefaults: false,
    oomScoreAdj: 0,
    resolvConf: input.layout.resolvConf,
    serializeImagePulls: false,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
    },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    registerNode: true,
    registerWithTaints: [REAL_NODE_TAINT],
    maxPods: 110,
    shutdownGracePeriod: '0s',
    shutdownGracePeriodCriticalPods: '0s',
  });
}

export interface KubeProxyInput {
  layout: NodeLayout;
  kubeconfigPath: string;
  healthzPort: number;
  metricsPort: number;
}

/**
 * kube-proxy in iptables mode, its rules in the run's network namespace only. masqueradeAll: a pod
 * reaching a Service backed by a pod on the same bridge gets its reply through the router, not straight
 * across the bridge (no br_netfilter here). conntrack limits are left alone: they are global.
 */
export function kubeProxyConfig(input: KubeProxyInput): string {
  return yaml.dump({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: input.kubeconfigPath },
    hostnameOverride: REAL_NODE_NAME,
    mode: 'iptables',
    clusterCIDR: nodeNetwork.podCidr,
    healthzBindAddress: `127.0.0.1:${input.healthzPort}`,
    metricsBindAddress: `127.0.0.1:${input.metricsPort}`,
    bindAddressHardFail: false,
    iptables: { masqueradeAll: true, syncPeriod: '30s', minSyncPeriod: '0s' },
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s' },
  });
}
