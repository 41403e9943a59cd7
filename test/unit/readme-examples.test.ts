// The offline commands README.md shows must work as written.
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

const ROOT = join(import.meta.dirname, '..', '..');

async function cli(...argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((out += String(s)), true));
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    return { code: await main(argv), out };
  } finally {
    process.chdir(cwd);
    o.mockRestore();
    e.mockRestore();
  }
}

describe('README offline examples', () => {
  it('verify: the example model verifies with the release key', async () => {
    const r = await cli(
      'verify',
      'examples/model',
      '--signature',
      'examples/model/model.sig',
      '--key',
      'examples/keys/ml-release.pub',
    );
    expect(r.out).toContain(
      'VALID examples/model: sha256:92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4',
    );
    expect(r.code).toBe(0);
  });

  it('check: three example workloads admitted, four denied', async () => {
    const r = await cli(
      'check',
      '--policy',
      'examples/policies',
      '--cluster',
      'examples/cluster.yaml',
      'examples/workloads',
    );
    expect(r.out).toContain('3 admitted, 4 denied');
    expect(r.code).toBe(1);
  });

  it('scan: the fixture corpus has dangerous files (exit 1)', async () => {
    const r = await cli(
      'scan',
      'test/fixtures/model-scanning/picklescan/data/malicious0.pkl',
      'test/fixtures/model-scanning/picklescan/data/benign0_v4.pkl',
    );
    expect(r.out).toMatch(/malicious0\.pkl[\s\S]*dangerous/i);
    expect(r.code).toBe(1);
  });
});
