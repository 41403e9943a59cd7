// The node's own cgroup root: one directory per mounted hierarchy (cgroup v1 controllers, the named
// systemd hierarchy, the unified v2 tree), created before the kubelet starts and removed, deepest first,
// once every process in it is gone. Nothing outside it is ever touched.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readMountInfo } from './proc.ts';

/** Mount points of the cgroup hierarchies (v1 and v2). */
export function cgroupMounts(): string[] {
  return readMountInfo()
    .filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    .map((m) => m.mountPoint)
    .sort();
}

/** A name for the run's cgroup root from its directory: two runs never share one. */
export function cgroupRootName(runId: string): string {
  return `/modelgate-${runId}`;
}

function readTrim(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Creates `<hierarchy><root>` in every hierarchy. A new cpuset cgroup starts with no CPUs and no
 *  memory nodes (cgroup.clone_children is 0 here), so it copies its parent's. */
export function createCgroupRoot(root: string): void {
  for (const mount of cgroupMounts()) {
    const dir = join(mount, root);
    mkdirSync(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(dir, file)) && readTrim(join(dir, file)) === '')
        writeFileSync(join(dir, file), readTrim(join(mount, file)));
    }
  }
}

/** Moves a process into `<root>/<child>` of every hierarchy (the node's daemons: their children, the
 *  containerd shims, inherit it, so teardown finds them all in the tree). */
export function moveIntoCgroup(pid: number, root: string, child: string): void {
  for (const mount of cgroupMounts()) {
    const dir = join(mount, root, child);
    mkdirSync(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      if (existsSync(join(dir, file)) && readTrim(join(dir, file)) === '')
        writeFileSync(join(dir, file), readTrim(join(mount, root, file)));
    }
    try {
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    } catch (error) {
      // Gone already: the caller's wait for it reports why, with its log.
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
      // The unified tree refuses a process in an inner cgroup while controllers are enabled there; the
      // v1 hierarchies are what teardown reads.
      if (!mount.endsWith('/unified')) throw error;
    }
  }
}

/** The names of the directories in `dir`, or undefined when it cannot be read (gone already). */
function subdirectories(dir: string): string[] | undefined {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return undefined;
  }
}

/** Every pid in the cgroup tree `root`, in any hierarchy. */
export function pidsInCgroupTree(root: string): number[] {
  const pids = new Set<number>();
  const walk = (dir: string): void => {
    for (const line of readTrim(join(dir, 'cgroup.procs')).split('\n')) if (line) pids.add(Number(line));
    const entries = subdirectories(dir);
    if (entries === undefined) return;
    for (const e of entries) walk(join(dir, e));
  };
  for (const mount of cgroupMounts()) if (existsSync(join(mount, root))) walk(join(mount, root));
  return [...pids];
}

/** Removes the tree `root` from every hierarchy, deepest first; returns the directories that remain. */
export function removeCgroupTree(root: string): string[] {
  const left: string[] = [];
  const remove = (dir: string): void => {
    const entries = subdirectories(dir);
    if (entries === undefined) return;
    for (const e of entries) remove(join(dir, e));
    try {
      rmdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
    }
  };
  for (const mount of cgroupMounts()) {
    const dir = join(mount, root);
    if (existsSync(dir)) remove(dir);
  }
  return left;
}
