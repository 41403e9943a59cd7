import { describe, expect, it, vi } from 'vitest';
import { main } from './main.ts';

describe('modelgate CLI entry', () => {
  it('rejects an unknown command with exit code 2 and the list of commands', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['frobnicate'])).toBe(2);
    expect(String(err.mock.calls[0]?.[0])).toMatch(/unknown command "frobnicate"[\s\S]*check/);
    err.mockRestore();
  });

  it('prints usage for --help and exits 0', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await main(['--help'])).toBe(0);
    expect(String(out.mock.calls[0]?.[0])).toContain('usage: modelgate <command>');
    out.mockRestore();
  });
});
