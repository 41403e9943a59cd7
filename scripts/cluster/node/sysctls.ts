// Global sysctls the kubelet changes (pkg/kubelet/cm, setupKernelTunables, with protectKernelDefaults
// false): they are not per network namespace, so the node records them before the kubelet starts and
// puts them back when it stops, also after a crash (the record is a file in the run directory).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const KUBELET_SYSCTLS = [
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
] as const;

export type SysctlRecord = Record<string, string>;

export function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${name}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Records the current values into `file`, unless a record is already there (an earlier run's, which
 *  holds the values from before any kubelet of ours touched them). */
export function recordSysctls(file: string): SysctlRecord {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SysctlRecord;
  const record: SysctlRecord = {};
  for (const name of KUBELET_SYSCTLS) {
    const value = readSysctl(name);
    if (value !== undefined) record[name] = value;
  }
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** Writes the recorded values back; returns the names that had changed. */
export function restoreSysctls(file: string): string[] {
  if (!existsSync(file)) return [];
  const record = JSON.parse(readFileSync(file, 'utf8')) as SysctlRecord;
  const changed: string[] = [];
  for (const [name, value] of Object.entries(record)) {
    if (!(KUBELET_SYSCTLS as readonly string[]).includes(name)) continue;
    if (readSysctl(name) === value) continue;
    writeFileSync(`/proc/sys/${name}`, value);
    changed.push(name);
  }
  return changed;
}
