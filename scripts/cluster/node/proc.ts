// What /proc says about processes and mounts: the real node's start and teardown find their processes by
// namespace, cgroup and command line, and its mounts by path (never by name alone).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** argv joined by spaces. */
  cmdline: string;
  /** "net:[4026531840]" */
  netns: string;
  mntns: string;
  /** /proc/<pid>/cgroup lines ("4:memory:/modelgate-x/kubepods/..."). */
  cgroups: string[];
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

function linkOr(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

export function processInfo(pid: number): ProcessInfo | undefined {
  const stat = readOr(`/proc/${pid}/stat`, '');
  if (!stat) return undefined;
  // "pid (comm) state ppid ...": comm may contain spaces and parentheses; ppid follows the last ')'.
  const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return {
    pid,
    ppid,
    cmdline: readOr(`/proc/${pid}/cmdline`, '').replaceAll('\0', ' ').trim(),
    netns: linkOr(`/proc/${pid}/ns/net`),
    mntns: linkOr(`/proc/${pid}/ns/mnt`),
    cgroups: readOr(`/proc/${pid}/cgroup`, '').trim().split('\n').filter(Boolean),
  };
}

export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = processInfo(Number(entry));
    // Kernel threads have no command line and nothing of ours is one.
    if (info && info.cmdline) out.push(info);
  }
  return out;
}

/** This process and its ancestors: never signalled by a teardown that runs inside the cluster's namespace. */
export function selfAndAncestors(): Set<number> {
  const out = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    const info = processInfo(pid);
    if (!info) break;
    pid = info.ppid;
  }
  return out;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a process ('' once it is gone). */
export function cmdline(pid: number): string {
  return processInfo(pid)?.cmdline ?? '';
}

/**
 * Stops processes: SIGTERM and up to `graceMs` to exit (0: SIGKILL at once), then SIGKILL; throws if any
 * survives SIGKILL, so a teardown never reports success over a live process.
 */
export async function stopProcesses(
  pids: number[],
  log: (line: string) => void,
  what: string,
  graceMs: number,
): Promise<void> {
  const live = [...new Set(pids)].filter(pidAlive);
  if (live.length === 0) return;
  log(`stopping ${what}: pids ${live.join(', ')}`);
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // gone
    }
  };
  for (const pid of live) signal(pid, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && live.some(pidAlive)) await sleep(100);
  const stubborn = live.filter(pidAlive);
  if (stubborn.length && graceMs > 0) log(`pids ${stubborn.join(', ')} ignored SIGTERM; killing`);
  for (const pid of stubborn) signal(pid, 'SIGKILL');
  const hard = Date.now() + 10_000;
  while (Date.now() < hard && live.some(pidAlive)) await sleep(50);
  const left = live.filter(pidAlive);
  if (left.length) throw new Error(`${what}: pids ${left.join(', ')} survived SIGKILL`);
}

export interface MountInfo {
  id: number;
  parent: number;
  /** Unescaped mount point. */
  mountPoint: string;
  fsType: string;
  source: string;
  /** "shared:12 master:3" etc. */
  optional: string;
}

/** Octal escapes in mountinfo (\040 for a space). */
const unescape = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));

export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right = ''] = line.split(' - ');
    const f = (left ?? '').split(' ');
    const r = right.split(' ');
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      mountPoint: unescape(f[4] ?? ''),
      optional: f.slice(6).join(' '),
      fsType: r[0] ?? '',
      source: unescape(r[1] ?? ''),
    });
  }
  return out;
}

/** The mount table of the process's mount namespace (default: this process's). */
export function readMountInfo(pid: number | 'self' = 'self'): MountInfo[] {
  return parseMountInfo(readOr(`/proc/${pid}/mountinfo`, ''));
}

/** Mount points at or below `dir`, deepest first (the order to unmount them in). */
export function mountsUnder(mounts: MountInfo[], dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return [...new Set(mounts.map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(prefix)))].sort(
    (a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a),
  );
}
