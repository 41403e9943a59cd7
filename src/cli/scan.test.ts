// `modelgate scan` (src/cli/scan.ts): exit codes, JSON shape and flag validation.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FORMAT_NAMES } from '../api/schema.ts';
import { UsageError } from './args.ts';
import { DENY_FORMAT_NAMES } from '../scanning/index.ts';
import { run } from './scan.ts';

const fx = (p: string): string =>
  fileURLToPath(new URL(`../../test/fixtures/model-scanning/${p}`, import.meta.url));
const CLEAN = fx('safetensors-vectors/valid_i32_2x2.safetensors');
const EVIL = fx('picklescan/data/malicious1_v3.pkl');
const BROKEN = fx('safetensors-vectors/header_not_json.safetensors');

async function scan(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const code = await run(args);
  vi.restoreAllMocks();
  return { code, out };
}

afterEach(() => vi.restoreAllMocks());

describe('modelgate scan', () => {
  it('exits 0 for clean files, 1 for dangerous, 2 for rejected; 1 wins over 2', async () => {
    expect((await scan([CLEAN])).code).toBe(0);
    expect((await scan([EVIL])).code).toBe(1);
    expect((await scan([BROKEN])).code).toBe(2);
    expect((await scan([BROKEN, EVIL])).code).toBe(1);
    expect((await scan([fx('does-not-exist.pt')])).code).toBe(2);
  });

  it('prints the issue JSON shape', async () => {
    const { out } = await scan([EVIL, '--output', 'json']);
    const doc = JSON.parse(out) as {
      files: {
        path: string;
        format: string;
        verdict: string;
        findings: { rule: string; detail: string; offset: number | null }[];
      }[];
    };
    expect(doc.files).toHaveLength(1);
    expect(doc.files[0]).toMatchObject({ path: EVIL, format: 'pickle', verdict: 'dangerous' });
    expect(doc.files[0]?.findings[0]).toMatchObject({
      rule: 'pickle-dangerous-import',
      offset: expect.any(Number),
    });
  });

  it('--deny-format pickle refuses a clean PyTorch checkpoint', async () => {
    const pt = fx('picklescan/data/new_pytorch_model.bin');
    expect((await scan([pt])).code).toBe(0);
    const denied = await scan([pt, '--deny-format', 'pickle']);
    expect(denied.code).toBe(1);
    expect(denied.out).toContain('format-denied');
  });

  it('accepts every format name the policy API allows, and groups such as pytorch', async () => {
    expect(DENY_FORMAT_NAMES).toEqual(expect.arrayContaining([...FORMAT_NAMES]));
    const pt = fx('picklescan/data/new_pytorch_model.bin');
    expect((await scan([pt, '--deny-format', 'pytorch'])).code).toBe(1);
    expect((await scan([CLEAN, '--deny-format', 'pytorch', '--deny-format', 'tensorflow'])).code).toBe(0);
  });

  it('--allow-global admits a reviewed unknown global', async () => {
    const f = fx('modelaudit/exploits/exploit9_manual_construction.pkl');
    const { out } = await scan([f, '--allow-global', 'torch.nn.Linear']);
    expect(out).not.toContain('imports torch.nn.Linear');
  });

  it('writes a text report with advice', async () => {
    const { out } = await scan([EVIL]);
    expect(out).toMatch(/^DANGEROUS /);
    expect(out).toContain('builtins.eval');
    expect(out).toContain('Do not load this file');
    expect(out).toContain('1 file: 0 clean, 0 suspicious, 1 dangerous, 0 rejected');
  });

  it('rejects bad flags as usage errors', async () => {
    await expect(run([])).rejects.toBeInstanceOf(UsageError);
    await expect(run([CLEAN, '--deny-format', 'exe'])).rejects.toBeInstanceOf(UsageError);
    await expect(run([CLEAN, '--allow-global', 'os'])).rejects.toBeInstanceOf(UsageError);
    await expect(run([CLEAN, '--output', 'xml'])).rejects.toBeInstanceOf(UsageError);
  });
});
