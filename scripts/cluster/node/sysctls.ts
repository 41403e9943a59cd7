// Global sysctls the kubelet changes (pkg/kubelet/cm, setupKernelTunables, with protectKernelDefaults
// false): they are not per network namespace, so the node records them before the kubelet starts and
// puts them back when it stops, also after a crash (the record is a file in the run directory).
// Several local clusters may run at once (two clones' test suites): they share one set of original
// values — a run that starts while another's kubelet runs copies that run's record instead of reading
// values the other kubelet already changed — and only the last one to stop writes them back.
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

function readRecord(file: string): SysctlRecord | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SysctlRecord;
  } catch {
    return undefined;
  }
}

/**
 * Records the values from before any kubelet of ours touched them into `file`: an existing record (an
 * earlier, crashed run of this directory), else the record of another run whose kubelet is running
 * (`otherRecords`), else the current values.
 */
export function recordSysctls(file: string, otherRecords: string[] = []): SysctlRecord {
  const existing = readRecord(file);
  if (existing) return existing;
  let record = otherRecords.map(readRecord).find((r) => r !== undefined);
  if (!record) {
    record = {};
    for (const name of KUBELET_SYSCTLS) {
      const value = readSysctl(name);
      if (value !== undefined) record[name] = value;
    }
  }
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/**
 * Writes the recorded values back, unless another run's kubelet still runs (`othersRunning`: it needs
 * them, and that run restores them when it stops, from the same record); returns the names written.
 */
export function restoreSysctls(file: string, othersRunning = false): string[] {
  if (!existsSync(file) || othersRunning) return [];
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
