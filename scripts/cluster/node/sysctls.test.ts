import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KUBELET_SYSCTLS, readSysctl, recordSysctls, restoreSysctls } from './sysctls.ts';

const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'mg-sysctls-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the kubelet sysctl record', () => {
  it('records the current values of the sysctls the kubelet sets', () => {
    const file = join(scratch(), 'sysctls.json');
    const record = recordSysctls(file);
    for (const name of KUBELET_SYSCTLS)
      if (readSysctl(name) !== undefined) expect(record[name]).toBe(readSysctl(name));
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(record);
  });

  it('keeps an existing record (a crashed run of the same directory), else copies a running cluster’s', () => {
    const mine = join(scratch(), 'mine.json');
    const other = join(scratch(), 'other.json');
    writeFileSync(other, JSON.stringify({ 'vm/overcommit_memory': '7' }));
    expect(recordSysctls(mine, [join(scratch(), 'missing.json'), other])).toEqual({
      'vm/overcommit_memory': '7',
    });
    writeFileSync(other, JSON.stringify({ 'vm/overcommit_memory': '8' }));
    expect(recordSysctls(mine, [other])).toEqual({ 'vm/overcommit_memory': '7' });
  });

  it('writes nothing back while another cluster’s kubelet runs, nor when the values are already the recorded ones', () => {
    const file = join(scratch(), 'sysctls.json');
    writeFileSync(file, JSON.stringify({ 'vm/overcommit_memory': 'not-a-value' }));
    expect(restoreSysctls(file, true)).toEqual([]);
    recordSysctls(join(scratch(), 'fresh.json'));
    const current = join(scratch(), 'current.json');
    writeFileSync(
      current,
      JSON.stringify(Object.fromEntries(KUBELET_SYSCTLS.map((n) => [n, readSysctl(n)]))),
    );
    expect(restoreSysctls(current)).toEqual([]);
    expect(restoreSysctls(join(scratch(), 'none.json'))).toEqual([]);
  });
});
