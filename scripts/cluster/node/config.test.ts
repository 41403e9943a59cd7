import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import {
  cniConfig,
  containerdConfig,
  kubeletConfig,
  kubeProxyConfig,
  nodeLayout,
  nodeNetwork,
} from './config.ts';

const layout = nodeLayout('/work/run');

/** Every absolute path in a text: each must be under the run directory, or one of `allowed`. */
const paths = (text: string) =>
  [...text.matchAll(/"(\/[^"]*)"|: (\/[^\s]+)/g)].map((m) => m[1] ?? m[2] ?? '');

describe('the real node configuration', () => {
  it('containerd keeps its root, state, socket, CNI files and certs.d under the run directory; NRI is off', () => {
    const toml = containerdConfig({
      layout,
      runcPath: '/cache/debian/bin/runc',
      cniBinDir: '/cache/debian/root/usr/lib/cni',
      sandboxImage: '10.244.0.1:5000/pause@sha256:' + 'a'.repeat(64),
    });
    for (const p of paths(toml)) expect(p.startsWith('/work/run/') || p.startsWith('/cache/'), p).toBe(true);
    expect(toml).toContain('restrict_oom_score_adj = true');
    expect(toml).toContain('netns_mounts_under_state_dir = true');
    expect(toml).toMatch(/disabled_plugins = \[[^\]]*"io\.containerd\.nri\.v1\.nri"/);
  });

  it('the kubelet: own cgroup root, no iptables chains, pod logs in the run directory, registers tainted', () => {
    const cfg = yaml.load(
      kubeletConfig({
        layout,
        caCertPath: '/work/run/pki/ca.crt',
        tlsCertPath: '/work/run/node/pki/k.crt',
        tlsKeyPath: '/work/run/node/pki/k.key',
        cgroupRoot: '/modelgate-abc',
        port: 10250,
        healthzPort: 10248,
      }),
    ) as Record<string, unknown>;
    expect(cfg).toMatchObject({
      cgroupRoot: '/modelgate-abc',
      cgroupDriver: 'cgroupfs',
      failCgroupV1: false,
      makeIPTablesUtilChains: false,
      podLogsDirectory: '/work/run/node/pod-logs',
      address: nodeNetwork.nodeIp,
      registerWithTaints: [{ key: 'modelgate.io/real-node', value: 'true', effect: 'NoSchedule' }],
    });
    expect(cfg.containerRuntimeEndpoint).toBe('unix:///work/run/node/containerd/containerd.sock');
  });

  it('kube-proxy leaves the global conntrack limits alone', () => {
    const cfg = yaml.load(
      kubeProxyConfig({ layout, kubeconfigPath: '/k', healthzPort: 1, metricsPort: 2 }),
    ) as { conntrack: Record<string, unknown>; mode: string };
    expect(cfg.mode).toBe('iptables');
    expect(cfg.conntrack).toEqual({
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: '0s',
      tcpCloseWaitTimeout: '0s',
    });
  });

  it('the CNI network keeps its IPAM state in the run directory and never masquerades out', () => {
    const cni = JSON.parse(cniConfig(layout)) as {
      plugins: { type: string; ipMasq?: boolean; ipam?: { dataDir: string } }[];
    };
    expect(cni.plugins[0]).toMatchObject({
      type: 'bridge',
      ipMasq: false,
      ipam: { dataDir: '/work/run/node/cni/ipam' },
    });
  });

  it('binds the node mount namespace’s /run, /var/lib and /var/log to run directories', () => {
    expect(layout.privateDirs.map((d) => d.target)).toEqual(['/run', '/var/lib', '/var/log']);
    for (const d of layout.privateDirs) expect(d.source.startsWith('/work/run/node/private/')).toBe(true);
  });
});
