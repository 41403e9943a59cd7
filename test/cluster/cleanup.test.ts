// A run of the local cluster leaves nothing behind on the host: a cluster started in a run directory of
// its own (the real node, a pod with a hostPath bind mount, an emptyDir, an image volume and a projected
// token), then stopped, and the host compared before and after: mounts, cgroups, network namespaces,
// iptables rules, sysctls and processes. Needs root, like the cluster itself; runs from the host's own
// namespaces (npm run test:cleanup), never inside the cluster's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../scripts/cluster/control-plane.ts';
import { REAL_NODE_LABEL, REAL_NODE_TAINT } from '../../scripts/cluster/node/config.ts';
import { leftovers, snapshotHost, type HostSnapshot } from '../../scripts/cluster/node/host-state.ts';
import { ensureNodeParts } from '../../scripts/cluster/node/node.ts';
import { readState } from '../../scripts/cluster/state.ts';

const runDir = join(repoRoot, '.cache', `cluster-cleanup-${process.pid}`);
const canaryDir = join(repoRoot, '.cache', `cleanup-canary-${process.pid}`);
const tsx = join(repoRoot, 'node_modules', '.bin', 'tsx');
const nodeBinaries = [
  'containerd',
  'containerd-shim-runc-v2',
  'kubelet',
  'kube-proxy',
  'registry',
  'pause',
  'runc',
];
/** What the kubelet sets (pkg/kubelet/cm, setupKernelTunables). */
const KUBELET_SETS: Record<string, string> = {
  'vm/overcommit_memory': '1',
  'kernel/panic': '10',
  'kernel/panic_on_oops': '1',
};
let debianBin: string;
let before: HostSnapshot;

function run(args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync(tsx, args, { cwd: repoRoot, encoding: 'utf8', input, timeout: 15 * 60_000 });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}
const inCluster = (args: string[], input?: string) =>
  run(
    [join(repoRoot, 'scripts', 'cluster', 'netns-run.ts'), '--existing', '--dir', runDir, '--', ...args],
    input,
  );
const mine = (p: { cmdline: string }) =>
  p.cmdline.includes(runDir) || nodeBinaries.includes((p.cmdline.split(' ')[0] ?? '').split('/').pop() ?? '');

beforeAll(() => {
  debianBin = join(ensureNodeParts(repoRoot, () => {}).debian, 'bin');
  mkdirSync(canaryDir, { recursive: true });
  writeFileSync(join(canaryDir, 'keep.txt'), 'a host file a pod mounts through hostPath\n');
}, 30 * 60_000);

afterAll(() => {
  // Only if a test failed half-way: never leave a run behind.
  if (existsSync(runDir)) run([join(repoRoot, 'scripts', 'cluster', 'down.ts'), '--dir', runDir]);
  rmSync(canaryDir, { recursive: true, force: true });
});

describe('the local cluster leaves the host as it found it', () => {
  it(
    'starts a cluster with the real node and runs a pod with host, empty, image and projected volumes',
    async () => {
      before = snapshotHost(debianBin);
      const up = run([
        join(repoRoot, 'scripts', 'cluster', 'netns-run.ts'),
        '--dir',
        runDir,
        '--',
        tsx,
        join(repoRoot, 'scripts', 'cluster', 'up.ts'),
      ]);
      expect(up.code, up.out).toBe(0);
      const state = await readState(runDir);
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'volumes', namespace: 'default' },
        spec: {
          nodeSelector: { [REAL_NODE_LABEL.key]: REAL_NODE_LABEL.value },
          tolerations: [{ key: REAL_NODE_TAINT.key, operator: 'Exists', effect: REAL_NODE_TAINT.effect }],
          containers: [
            {
              name: 'main',
              image: state!.node!.images.busybox,
              command: ['sh', '-c', 'cat /host/keep.txt && echo scratch > /scratch/x && exec sleep 3600'],
              volumeMounts: [
                { name: 'host', mountPath: '/host' },
                { name: 'scratch', mountPath: '/scratch' },
                { name: 'image', mountPath: '/image', readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'host', hostPath: { path: canaryDir, type: 'Directory' } },
            { name: 'scratch', emptyDir: {} },
            { name: 'image', image: { reference: state!.node!.images.busybox } },
          ],
        },
      };
      const apply = inCluster(['kubectl', 'apply', '-f', '-'], yaml.dump(pod));
      expect(apply.code, apply.out).toBe(0);
      const ready = inCluster(['kubectl', 'wait', '--for=condition=Ready', 'pod/volumes', '--timeout=180s']);
      expect(ready.code, ready.out).toBe(0);
      // The comparison sees a running cluster: the test would notice what a teardown forgot.
      const during = leftovers(before, snapshotHost(debianBin), mine);
      expect(during.some((l) => l.startsWith('mount left:') && l.includes(runDir))).toBe(true);
      expect(during.some((l) => l.startsWith('cgroup left:') && l.includes('/modelgate-'))).toBe(true);
      expect(during.some((l) => l.startsWith('network namespace left:'))).toBe(true);
      expect(during.some((l) => l.startsWith('process left:') && l.includes('kubelet'))).toBe(true);
      // kube-proxy's rules live in the cluster's network namespace, never in the host's.
      expect(during.filter((l) => l.startsWith('iptables rule'))).toEqual([]);
      // The kubelet's global sysctls, unless another running kubelet has set them already.
      for (const [key, value] of Object.entries(KUBELET_SETS))
        if (before.sysctls[key] !== value)
          expect(during).toContain(
            `sysctl changed: ${key.replaceAll('/', '.')} ${before.sysctls[key]} -> ${value}`,
          );
    },
    30 * 60_000,
  );

  it(
    'stops it, and mounts, cgroups, network namespaces, iptables rules, sysctls and processes are back',
    () => {
      const down = run([join(repoRoot, 'scripts', 'cluster', 'down.ts'), '--dir', runDir]);
      expect(down.code, down.out).toBe(0);
      const after = snapshotHost(debianBin);
      expect(leftovers(before, after, mine)).toEqual([]);
      expect(existsSync(runDir)).toBe(false);
      // The hostPath bind mount was unmounted before the run directory was deleted: the host file is intact.
      expect(readFileSync(join(canaryDir, 'keep.txt'), 'utf8')).toContain('a host file');
    },
    5 * 60_000,
  );
});
