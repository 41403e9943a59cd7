// Property tests: whatever bytes arrive, a scan returns a verdict quickly and never throws. Mutated
// copies of real fixtures reach deep into every parser.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanBuffer } from './index.ts';
import { runPickle } from './pickle.ts';
import { DEFAULT_LIMITS } from './types.ts';

const VERDICTS = ['clean', 'suspicious', 'dangerous', 'rejected'];
const root = fileURLToPath(new URL('../../test/fixtures/model-scanning/', import.meta.url));

function listFixtures(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory()
      ? listFixtures(p)
      : statSync(p).size < 64 * 1024 && !n.endsWith('.md')
        ? [p]
        : [];
  });
}
const fixtures = listFixtures(root).map((p) => ({
  name: p.slice(root.length),
  bytes: new Uint8Array(readFileSync(p)),
}));
const names = [
  'model.pkl',
  'model.pt',
  'model.bin',
  'model.safetensors',
  'model.gguf',
  'model.onnx',
  'saved_model.pb',
  'model.npy',
  'model.h5',
  'model.zip',
  'README',
];
const limits = { maxMillis: 2000, maxOpcodes: 1_000_000 };

async function scanIsTotal(bytes: Uint8Array, name: string): Promise<void> {
  // The scanner's own time and opcode limits bound the work; a hang would fail by the test timeout.
  const r = await scanBuffer(bytes, name, { limits });
  expect(VERDICTS).toContain(r.verdict);
}

describe('scanner totality', () => {
  it('random bytes under any name', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), fc.constantFrom(...names), async (b, name) =>
        scanIsTotal(b, name),
      ),
      { numRuns: 800 },
    );
  });

  it('random bytes behind every magic number', async () => {
    const magics = [
      [0x80, 0x02],
      [0x80, 0x04],
      [0x80, 0x05],
      [0x50, 0x4b, 0x03, 0x04],
      [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00],
      [0x47, 0x47, 0x55, 0x46, 0x03, 0, 0, 0],
      [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a],
      [0x1f, 0x8b],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...magics),
        fc.uint8Array({ maxLength: 1024 }),
        fc.constantFrom(...names),
        async (m, rest, name) => {
          const b = new Uint8Array(m.length + rest.length);
          b.set(m);
          b.set(rest, m.length);
          await scanIsTotal(b, name);
        },
      ),
      { numRuns: 800 },
    );
  });

  it('mutated fixtures (byte flips, truncation, splices)', async () => {
    const mutation = fc.record({
      fixture: fc.integer({ min: 0, max: fixtures.length - 1 }),
      flips: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(mutation, async ({ fixture, flips, cut }) => {
        const f = fixtures[fixture];
        if (f === undefined) return;
        const b = Uint8Array.from(f.bytes);
        for (const { at, value } of flips) if (b.length > 0) b[at % b.length] = value;
        const bytes = cut === undefined || b.length === 0 ? b : b.subarray(0, cut % b.length);
        await scanIsTotal(bytes, f.name);
      }),
      { numRuns: 1500 },
    );
  });

  it('the pickle VM never throws on arbitrary opcode soup', () => {
    const opcodes = fc.constantFrom(
      ...'()0123FIJKLMNPQRSTUVXabcdegh}ijl]opqrstu.G'.split('').map((c) => c.charCodeAt(0)),
      0x80,
      0x81,
      0x82,
      0x85,
      0x86,
      0x87,
      0x88,
      0x8a,
      0x8c,
      0x8f,
      0x90,
      0x91,
      0x92,
      0x93,
      0x94,
      0x95,
      0x96,
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(opcodes, fc.integer({ min: 0, max: 255 })), { maxLength: 400 }),
        (ops) => {
          const r = runPickle(Uint8Array.from(ops), 0, {
            limits: DEFAULT_LIMITS,
            allowGlobals: new Set(),
            budget: { opcodes: 0 },
          });
          expect(r.end).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
