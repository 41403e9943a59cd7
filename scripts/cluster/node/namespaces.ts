// The run's namespaces, kept as files in `<run dir>/ns/`:
//   net  the network namespace the whole cluster lives in: etcd, the API server, the registry, the node
//        and its pods' bridge, and the test runner that talks to them (nothing is reachable from, or
//        sends anything to, any other network)
//   mnt  the node's mount namespace (kubelet, containerd and its shims, kube-proxy): its mounts (pod
//        volumes, image volumes, container root filesystems) never appear on the host, and /run,
//        /var/lib and /var/log in it are directories of the run
// A namespace file is an nsfs bind mount; the directory holding them is a private bind mount of itself
// (as `ip netns` does for /run/netns), without which the kernel refuses the bind.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { nodeNetwork } from './config.ts';
import { processInfo, readMountInfo } from './proc.ts';

export const nsDir = (runDir: string): string => join(runDir, 'ns');
export const netnsFile = (runDir: string): string => join(runDir, 'ns', 'net');
export const mntnsFile = (runDir: string): string => join(runDir, 'ns', 'mnt');

/** Runs a system command, throwing with its output when it fails. */
export function sh(command: string, args: string[], what = `${command} ${args.join(' ')}`): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.error) throw new Error(`${what}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(
      `${what} failed (exit ${String(result.status)}): ${(result.stderr || result.stdout).trim()}`,
    );
  return result.stdout;
}

function isMountPoint(path: string): boolean {
  return readMountInfo().some((m) => m.mountPoint === path);
}

/** "net:[4026532174]" of a namespace file, or undefined when it is not a live namespace. */
export function namespaceId(file: string, kind: 'net' | 'mnt'): string | undefined {
  if (!existsSync(file) || !isMountPoint(file)) return undefined;
  try {
    return `${kind}:[${statSync(file).ino}]`;
  } catch {
    return undefined;
  }
}

/** True when this process runs in the run's network namespace. */
export function insideRunNetns(runDir: string): boolean {
  const id = namespaceId(netnsFile(runDir), 'net');
  return id !== undefined && processInfo(process.pid)?.netns === id;
}

function ensurePrivateNsDir(runDir: string): void {
  const dir = nsDir(runDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!isMountPoint(dir)) {
    sh('mount', ['--bind', dir, dir]);
    sh('mount', ['--make-private', dir]);
  }
}

function touch(file: string): void {
  closeSync(openSync(file, 'a'));
}

/**
 * Creates the run's network namespace (loopback up, the node's bridge with the node address) unless it
 * exists. Needs root.
 */
export function createRunNetns(runDir: string): string {
  ensurePrivateNsDir(runDir);
  const file = netnsFile(runDir);
  if (namespaceId(file, 'net')) return file;
  touch(file);
  sh('unshare', [`--net=${file}`, 'true'], 'creating the run network namespace (unshare --net)');
  const ip = (...args: string[]) => sh('nsenter', [`--net=${file}`, '--', 'ip', ...args]);
  ip('link', 'set', 'lo', 'up');
  ip('link', 'add', nodeNetwork.bridge, 'type', 'bridge');
  ip('addr', 'add', `${nodeNetwork.nodeIp}/24`, 'dev', nodeNetwork.bridge);
  ip('link', 'set', nodeNetwork.bridge, 'up');
  return file;
}

/** `path` is `dir` or inside it. */
const within = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/**
 * Creates the node's mount namespace (a copy of the host's, private from it) with the run's own /run,
 * /var/lib and /var/log bound in. What the node needs from under those directories (`keep`: the clone, the
 * run directory, the cached binaries — a CI workspace may well live in /var/lib) is bound back at its own
 * path first, so hiding the host's directories never hides the node's own files.
 */
export function createNodeMntns(
  runDir: string,
  privateDirs: { target: string; source: string }[],
  keep: string[],
): string {
  ensurePrivateNsDir(runDir);
  const file = mntnsFile(runDir);
  if (namespaceId(file, 'mnt')) return file;
  touch(file);
  sh('unshare', [`--mount=${file}`, '--propagation', 'private', 'true'], 'creating the node mount namespace');
  const inNode = (...args: string[]) => sh('nsenter', [`--mount=${file}`, '--', ...args]);
  for (const { source, target } of privateDirs) {
    mkdirSync(source, { recursive: true, mode: 0o755 });
    // Outermost first: a kept path inside another kept path is already there through the outer bind.
    const kept = [...new Set(keep.map((k) => resolve(k)))]
      .filter((k) => within(k, target))
      .sort((a, b) => a.length - b.length)
      .filter((k, i, all) => !all.slice(0, i).some((outer) => within(k, outer)));
    for (const k of kept) {
      const inside = join(source, k.slice(target.length));
      mkdirSync(inside, { recursive: true });
      inNode('mount', '--rbind', k, inside);
    }
    inNode('mount', '--rbind', source, target);
  }
  return file;
}

/** The argv prefix that runs a command in the run's network namespace, and optionally the node's mount
 *  namespace: nsenter execs the command, so the pid spawn() reports is the command's own. */
export function inNamespaces(runDir: string, options: { mount?: boolean } = {}): string[] {
  return [
    'nsenter',
    `--net=${netnsFile(runDir)}`,
    ...(options.mount ? [`--mount=${mntnsFile(runDir)}`] : []),
    '--',
  ];
}

/** Releases the namespace files (the namespaces end with their last process) and the ns directory. */
export function removeNamespaceFiles(runDir: string): void {
  for (const file of [mntnsFile(runDir), netnsFile(runDir), nsDir(runDir)]) {
    if (isMountPoint(file)) sh('umount', [file]);
  }
}
