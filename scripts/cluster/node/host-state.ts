// A snapshot of what a run of the local cluster could leave behind on the host, and the difference
// between two snapshots: mounts, cgroups, network namespaces, iptables rules (nf_tables and legacy,
// IPv4 and IPv6), sysctls and processes. Read from the host's own namespaces (run it outside the
// cluster's network namespace). test/cluster/cleanup.test.ts takes one before a run and one after.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupMounts } from './cgroups.ts';
import { listProcesses, readMountInfo } from './proc.ts';

export interface HostSnapshot {
  mounts: string[];
  cgroups: string[];
  /** Named namespaces (ip netns) and the network namespaces processes are in. */
  netns: string[];
  iptables: string[];
  sysctls: Record<string, string>;
  processes: { pid: number; cmdline: string; netns: string }[];
}

/** Sysctls that change on their own (counters, random values, clocks): never compared. */
const VOLATILE = [
  /^kernel\/random\//,
  /^kernel\/ns_last_pid$/,
  /^kernel\/pty\/nr$/,
  /^kernel\/sched_/,
  /^fs\/(dentry-state|inode-nr|inode-state|file-nr|aio-nr)$/,
  /^fs\/quota\//,
  /^net\/netfilter\/nf_conntrack_count$/,
  /^net\/ipv4\/tcp_(mem|rmem|wmem)$/,
  /\/stable_secret$/,
  /^vm\/stat_refresh$/,
  /^kernel\/keys\/(gc_delay|persistent_keyring_expiry)$/,
];

function readSysctls(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e);
      const key = rel ? `${rel}/${e}` : e;
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(path, key);
      else if ((st.mode & 0o444) !== 0 && !VOLATILE.some((re) => re.test(key))) {
        try {
          out[key] = readFileSync(path, 'utf8').trim();
        } catch {
          // write-only or refused (e.g. vm/compact_memory)
        }
      }
    }
  };
  walk('/proc/sys', '');
  return out;
}

function cgroupDirs(maxDepth = 2): string[] {
  const out: string[] = [];
  for (const mount of cgroupMounts()) {
    const walk = (dir: string, depth: number): void => {
      if (depth > maxDepth) return;
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        if (!e.isDirectory()) continue;
        out.push(join(dir, e.name));
        walk(join(dir, e.name), depth + 1);
      }
    };
    walk(mount, 1);
  }
  return out.sort();
}

/** iptables-save output without counters and the "# Generated/Completed" comment lines. */
function iptablesRules(debianBin: string): string[] {
  const out: string[] = [];
  for (const tool of ['iptables-save', 'ip6tables-save', 'iptables-legacy-save', 'ip6tables-legacy-save']) {
    const r = spawnSync(join(debianBin, tool), [], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${tool} failed: ${r.stderr.trim()}`);
    for (const line of r.stdout.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      out.push(`${tool}: ${line.replace(/\[\d+:\d+\]/g, '[-]')}`);
    }
  }
  return out;
}

export function snapshotHost(debianBin: string): HostSnapshot {
  const processes = listProcesses().map((p) => ({ pid: p.pid, cmdline: p.cmdline, netns: p.netns }));
  const named = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  return {
    mounts: readMountInfo()
      .map((m) => `${m.mountPoint} ${m.fsType} ${m.source}`)
      .sort(),
    cgroups: cgroupDirs(),
    netns: [...new Set([...named.map((n) => `ip netns ${n}`), ...processes.map((p) => p.netns)])].sort(),
    iptables: iptablesRules(debianBin),
    sysctls: readSysctls(),
    processes,
  };
}

const added = (a: string[], b: string[]): string[] => {
  const before = new Set(a);
  return b.filter((x) => !before.has(x));
};

/**
 * What `after` has that `before` had not (and sysctls whose value changed): one line per leftover.
 * `mine` decides which new processes belong to the run (others, e.g. another developer's shell, are not
 * its leftovers); every other kind of difference counts.
 */
export function leftovers(
  before: HostSnapshot,
  after: HostSnapshot,
  mine: (p: { pid: number; cmdline: string; netns: string }) => boolean,
): string[] {
  const out: string[] = [];
  for (const m of added(before.mounts, after.mounts)) out.push(`mount left: ${m}`);
  for (const m of added(after.mounts, before.mounts)) out.push(`mount gone: ${m}`);
  for (const c of added(before.cgroups, after.cgroups)) out.push(`cgroup left: ${c}`);
  const hostNetns = new Set(before.netns);
  for (const n of added(before.netns, after.netns)) out.push(`network namespace left: ${n}`);
  for (const r of added(before.iptables, after.iptables)) out.push(`iptables rule left: ${r}`);
  for (const r of added(after.iptables, before.iptables)) out.push(`iptables rule gone: ${r}`);
  for (const [k, v] of Object.entries(before.sysctls))
    if (after.sysctls[k] !== undefined && after.sysctls[k] !== v)
      out.push(`sysctl changed: ${k.replaceAll('/', '.')} ${v} -> ${after.sysctls[k]}`);
  const oldPids = new Set(before.processes.map((p) => `${p.pid} ${p.cmdline}`));
  for (const p of after.processes)
    if (!oldPids.has(`${p.pid} ${p.cmdline}`) && (mine(p) || !hostNetns.has(p.netns)))
      out.push(`process left: ${p.pid} ${p.cmdline}`);
  return out;
}
