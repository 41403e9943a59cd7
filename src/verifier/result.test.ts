import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { terminationMessage, TERMINATION_MESSAGE_LIMIT, type VerifierResult } from './result.ts';
import { formatProgress, progressReporter } from './progress.ts';

describe('terminationMessage', () => {
  it('keeps a normal result whole', () => {
    const r: VerifierResult = {
      model: '/models/llama',
      verdict: 'valid',
      digest: `sha256:${'a'.repeat(64)}`,
      signer: 'ci@example.com',
      durationMs: 12,
    };
    expect(JSON.parse(terminationMessage(r))).toEqual(r);
  });
  it('always fits in 4 KiB and stays JSON, with the verdict intact', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 5000, unit: 'binary' }),
        fc.array(fc.string({ maxLength: 300, unit: 'binary' }), { maxLength: 200 }),
        fc.string({ maxLength: 3000, unit: 'binary' }),
        (reason, files, model) => {
          const r: VerifierResult = {
            model,
            verdict: 'invalid',
            reason,
            changed: files,
            extra: files,
            missing: files,
            durationMs: 5,
          };
          const msg = terminationMessage(r);
          expect(Buffer.byteLength(msg)).toBeLessThanOrEqual(TERMINATION_MESSAGE_LIMIT);
          expect(JSON.parse(msg).verdict).toBe('invalid');
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('progress', () => {
  const p = { filesDone: 3, filesTotal: 10, bytesDone: 512 * 1024 * 1024, bytesTotal: 1024 * 1024 * 1024 };
  it('shows files, bytes, rate and time left', () => {
    expect(formatProgress(p, 1000)).toBe('3/10 files, 512.0 MiB / 1.0 GiB, 512.0 MiB/s, 1s left');
  });
  it('redraws a TTY line often and logs a plain line every few seconds otherwise', () => {
    let t = 0;
    const tty: string[] = [];
    const log: string[] = [];
    const a = progressReporter('x', { isTTY: true, write: (s) => tty.push(s) }, () => t);
    const b = progressReporter('x', { isTTY: false, write: (s) => log.push(s) }, () => t, 5000);
    for (t = 0; t <= 10_000; t += 250) {
      a.update(p);
      b.update(p);
    }
    a.done();
    expect(tty.length).toBeGreaterThan(30);
    expect(tty[0]?.startsWith(`\r${String.fromCharCode(27)}[2Kx: 3/10 files`)).toBe(true);
    expect(log).toHaveLength(2);
    expect(log[0]).toMatch(/^x: 3\/10 files.*\n$/);
  });
});
