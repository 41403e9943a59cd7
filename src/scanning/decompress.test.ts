import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompress, type Compression } from './decompress.ts';
import { scanBuffer } from './index.ts';
import { reducePickle } from './testing.test-support.ts';
import { LimitExceeded } from './types.ts';

const corpus = (p: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`../../test/fixtures/model-scanning/corpus/${p}`, import.meta.url)));
/** The payload the generator compresses: os.system('id'), protocol 2. */
const PAYLOAD = Uint8Array.from(Buffer.from('8002636f730a73797374656d0a288c02696474522e', 'hex'));

describe('bounded decompression (Python-written streams)', () => {
  it.each<[string, Compression]>([
    ['malicious/compressed/payload.pkl.lzma', 'lzma'],
    ['malicious/compressed/payload.pkl.xz', 'xz'],
    ['malicious/compressed/payload.xz-crc32', 'xz'],
    ['malicious/compressed/payload.pkl.bz2', 'bzip2'],
    ['malicious/compressed/payload-multistream.bz2', 'bzip2'],
    ['malicious/compressed/payload.pkl.lz4', 'lz4'],
    ['malicious/compressed/payload-lz4-nocontentsize', 'lz4'],
    ['malicious/compressed/payload.gz', 'gzip'],
    ['malicious/compressed/payload.zlib', 'zlib'],
  ])('%s decodes to the exact payload', (file, kind) => {
    const out = decompress(kind, corpus(file), { maxOutput: 1 << 20 });
    expect(out.error).toBeUndefined();
    expect(Buffer.from(out.data).equals(Buffer.from(PAYLOAD))).toBe(true);
  });

  it('all six joblib compressors give the same pickle', () => {
    const kinds: [string, Compression][] = [
      ['zlib', 'zlib'],
      ['gzip', 'gzip'],
      ['bz2', 'bzip2'],
      ['lzma', 'lzma'],
      ['xz', 'xz'],
      ['lz4', 'lz4'],
    ];
    const outs = kinds.map(([name, kind]) => {
      const r = decompress(kind, corpus(`benign/sklearn-compressed/forest.${name}.joblib`), {
        maxOutput: 1 << 24,
      });
      expect(r.error, name).toBeUndefined();
      return Buffer.from(r.data).toString('hex');
    });
    expect(new Set(outs).size).toBe(1);
    expect(outs[0]?.startsWith('8004')).toBe(true);
  });

  it('stops at the output bound instead of allocating a bomb', () => {
    for (const [file, kind] of [
      ['benign/sklearn-compressed/forest.xz.joblib', 'xz'],
      ['benign/sklearn-compressed/forest.lzma.joblib', 'lzma'],
      ['benign/sklearn-compressed/forest.bz2.joblib', 'bzip2'],
      ['benign/sklearn-compressed/forest.lz4.joblib', 'lz4'],
      ['benign/sklearn-compressed/forest.gzip.joblib', 'gzip'],
    ] as const)
      expect(() => decompress(kind, corpus(file), { maxOutput: 1000 }), file).toThrow(LimitExceeded);
    const bomb = gzipSync(new Uint8Array(50 * 1024 * 1024));
    expect(() => decompress('gzip', bomb, { maxOutput: 1 << 20 })).toThrow(LimitExceeded);
  });

  it('returns the prefix decoded before damage, with the reason', () => {
    const xz = corpus('malicious/compressed/payload.pkl.xz');
    const cut = decompress('xz', xz.subarray(0, xz.length - 20), { maxOutput: 1 << 20 });
    expect(cut.error).toBeDefined();
    expect(cut.data.length).toBe(PAYLOAD.length);
    const gz = gzipSync(PAYLOAD);
    const g = decompress('gzip', gz.subarray(0, gz.length - 6), { maxOutput: 1 << 20 });
    expect(g.error).toBeDefined();
    expect(g.data.length).toBe(PAYLOAD.length);
  });

  it('never throws anything but a bound on random input (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Compression>('xz', 'lzma', 'lz4', 'bzip2', 'gzip', 'zlib'),
        fc.uint8Array({ maxLength: 300 }),
        (kind, tail) => {
          const heads: Record<Compression, number[]> = {
            xz: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04],
            lzma: [0x5d, 0x00, 0x00, 0x80, 0x00],
            lz4: [0x04, 0x22, 0x4d, 0x18, 0x60],
            bzip2: [0x42, 0x5a, 0x68, 0x39],
            gzip: [0x1f, 0x8b, 0x08, 0x00],
            zlib: [0x78, 0x9c],
          };
          const input = Uint8Array.from([...heads[kind], ...tail]);
          try {
            decompress(kind, input, { maxOutput: 1 << 16 });
          } catch (e) {
            expect(e).toBeInstanceOf(LimitExceeded);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('compressed files are scanned through', () => {
  it('finds a payload in every compressor joblib uses and in zip bzip2/LZMA members', async () => {
    for (const f of [
      'payload.lzma.joblib',
      'payload.xz.joblib',
      'payload.lz4.joblib',
      'payload.bz2.joblib',
      'bzip2-member.zip',
      'lzma-member.zip',
      'model.tar.xz',
    ])
      expect((await scanBuffer(corpus(`malicious/compressed/${f}`), f)).verdict, f).toBe('dangerous');
  });

  it('scans the prefix of a damaged stream and refuses the file', async () => {
    const gz = gzipSync(reducePickle('os', 'system'));
    const r = await scanBuffer(gz.subarray(0, gz.length - 5), 'model.pkl.gz');
    expect(r.verdict).toBe('dangerous');
    expect(r.findings.map((f) => f.rule)).toContain('compressed-malformed');
    const benign = deflateRawSync(new Uint8Array(10));
    expect(
      (await scanBuffer(Uint8Array.from([0x78, 0x9c, ...benign.subarray(0, 3)]), 'x.joblib')).verdict,
    ).toBe('rejected');
  });
});
